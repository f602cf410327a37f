/**
 * A reader for keepalived.conf, enough to learn what a bring-your-own file declares: its VRRP
 * instances (name, state, VRID, priority, advert_int, VIPs, nopreempt, …) and the keywords the
 * lab warns about. keepalived itself validates the file (`--config-test`); this only reads it.
 */

export interface Token {
  text: string;
  line: number;
}

/** Words, quoted strings and braces, with comments (`!` or `#` to end of line) removed. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = i + 1;
    const re = /"([^"]*)"|([{}])|([^\s{}"]+)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(raw))) {
      const word = m[3];
      if (word !== undefined && (word.startsWith("!") || word.startsWith("#"))) break;
      tokens.push({ text: m[1] ?? m[2] ?? word!, line });
    }
  });
  return tokens;
}

export interface Block {
  keyword: string;
  args: string[];
  line: number;
  children: Block[];
}

/** keepalived's structure: `keyword args… { children }` or `keyword args…` per line. */
export function parseBlocks(tokens: Token[]): Block[] {
  let i = 0;
  const parseList = (): Block[] => {
    const out: Block[] = [];
    while (i < tokens.length && tokens[i]!.text !== "}") {
      const first = tokens[i]!;
      if (first.text === "{") {
        i++;
        // An anonymous block (e.g. a bare "{" after a keyword on the previous line): attach to the last.
        const children = parseList();
        i++;
        const last = out.at(-1);
        if (last) last.children.push(...children);
        continue;
      }
      const block: Block = { keyword: first.text, args: [], line: first.line, children: [] };
      i++;
      while (i < tokens.length && tokens[i]!.line === first.line && tokens[i]!.text !== "{" && tokens[i]!.text !== "}") {
        block.args.push(tokens[i]!.text);
        i++;
      }
      if (i < tokens.length && tokens[i]!.text === "{") {
        i++;
        block.children = parseList();
        i++; // "}"
      }
      out.push(block);
    }
    return out;
  };
  return parseList();
}

export interface DeclaredInstance {
  name: string;
  line: number;
  state: string | undefined;
  vrid: number | undefined;
  priority: number | undefined;
  advertInt: number | undefined;
  nopreempt: boolean;
  preemptDelay: number | undefined;
  vips: string[];
  unicast: boolean;
  authPass: string | undefined;
  track: string[];
}

export interface KeepalivedConfSummary {
  version: 2 | 3 | undefined;
  instances: DeclaredInstance[];
  /** Every keyword with its line and the block it is in, for warnings (e.g. nb_get_retry inside TCP_CHECK). */
  keywords: Array<{ keyword: string; line: number; parent?: string }>;
}

export function readKeepalivedConf(text: string): KeepalivedConfSummary {
  const blocks = parseBlocks(tokenize(text));
  const keywords: Array<{ keyword: string; line: number; parent?: string }> = [];
  const walk = (bs: Block[], parent?: string) => {
    for (const b of bs) {
      keywords.push({ keyword: b.keyword, line: b.line, ...(parent ? { parent } : {}) });
      walk(b.children, b.keyword);
    }
  };
  walk(blocks);
  const global = blocks.find((b) => b.keyword === "global_defs");
  const versionText = global?.children.find((c) => c.keyword === "vrrp_version")?.args[0];
  const instances = blocks
    .filter((b) => b.keyword === "vrrp_instance")
    .map((b): DeclaredInstance => {
      const arg = (k: string) => b.children.find((c) => c.keyword === k)?.args[0];
      const num = (k: string) => (arg(k) === undefined ? undefined : Number(arg(k)));
      const vipBlock = b.children.find((c) => c.keyword === "virtual_ipaddress");
      const vips = (vipBlock?.children ?? []).map((c) => c.keyword.split("/")[0]!).filter((v) => /^\d+\.\d+\.\d+\.\d+$/.test(v));
      const auth = b.children.find((c) => c.keyword === "authentication");
      return {
        name: b.args[0] ?? "?",
        line: b.line,
        state: arg("state"),
        vrid: num("virtual_router_id"),
        priority: num("priority"),
        advertInt: num("advert_int"),
        nopreempt: b.children.some((c) => c.keyword === "nopreempt"),
        preemptDelay: num("preempt_delay"),
        vips,
        unicast: b.children.some((c) => c.keyword === "unicast_peer"),
        authPass: auth?.children.find((c) => c.keyword === "auth_pass")?.args[0],
        track: (b.children.find((c) => c.keyword === "track_script")?.children ?? []).map((c) => c.keyword),
      };
    });
  return { version: versionText === "3" ? 3 : versionText === "2" ? 2 : undefined, instances, keywords };
}
