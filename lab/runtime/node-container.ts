/**
 * One lab node = one container: tini as PID 1, the node's daemons started by its boot script,
 * NET_ADMIN and NET_RAW and no other added capability, a fixed address on the lab network.
 *
 * `NodeContainer` is the testcontainers builder (with a fixed address and sysctls added);
 * `LabNode` is the started node: exec with timeouts, streamed exec, and the power operations the
 * nemesis uses (power off = SIGKILL to every process, power on = boot again, freeze = cgroup freeze).
 */
import { posix } from "node:path";
import { PassThrough } from "node:stream";
import { createInterface } from "node:readline";
import type Dockerode from "dockerode";
import { GenericContainer, type StartedTestContainer } from "testcontainers";
import pTimeout from "p-timeout";
import { extract } from "tar-stream";
import { CommandError, LabError, WaitTimeoutError } from "../errors.ts";

/** The only capabilities a node gets: VRRP needs raw sockets, the VIP and iptables need NET_ADMIN. */
export const NODE_CAPABILITIES = ["NET_ADMIN", "NET_RAW"] as const;

export class NodeContainer extends GenericContainer {
  /** Attach to a user-defined network with a fixed IPv4 address. */
  withFixedAddress(networkName: string, ipv4: string): this {
    this.withNetworkMode(networkName);
    this.createOpts.NetworkingConfig = {
      EndpointsConfig: { [networkName]: { IPAMConfig: { IPv4Address: ipv4 } } },
    };
    return this;
  }

  /** Namespaced sysctls for this container (e.g. net.ipv4.conf.all.arp_ignore). */
  withSysctls(sysctls: Record<string, string>): this {
    this.hostConfig.Sysctls = { ...this.hostConfig.Sysctls, ...sysctls };
    return this;
  }
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Give up after this long (the command may keep running inside the node). Default 15 s. */
  timeoutMs?: number;
  /** Throw a CommandError on a non-zero exit (default true). */
  check?: boolean;
  /** Exit codes that count as success besides 0 (e.g. 3 = "nothing to do" from labctl). */
  okExitCodes?: number[];
}

/** A file copied out of a node. */
export interface NodeFileCopy {
  /** Absolute path in the node. */
  path: string;
  content: Buffer;
}

export type PowerState = "running" | "off" | "frozen";

export interface LineStream {
  lines: AsyncIterable<string>;
  /** Stop reading; the stream's process dies with its next write or with the node. */
  close(): void;
}

export class LabNode {
  readonly name: string;
  readonly role: string;
  readonly address: string;
  readonly containerId: string;
  private readonly container: Dockerode.Container;
  private readonly docker: Dockerode;

  constructor(started: StartedTestContainer, docker: Dockerode, info: { name: string; role: string; address: string }) {
    this.name = info.name;
    this.role = info.role;
    this.address = info.address;
    this.containerId = started.getId();
    this.docker = docker;
    this.container = docker.getContainer(this.containerId);
  }

  /** Run a command in the node and collect its output. */
  async exec(command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? 15_000;
    const run = async (): Promise<ExecResult> => {
      const exec = await this.container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      stdout.on("data", (d: Buffer) => out.push(d));
      stderr.on("data", (d: Buffer) => err.push(d));
      this.docker.modem.demuxStream(stream, stdout, stderr);
      await new Promise<void>((resolve, reject) => {
        stream.on("end", resolve);
        stream.on("close", resolve);
        stream.on("error", reject);
      });
      const inspect = await exec.inspect();
      return {
        exitCode: inspect.ExitCode ?? -1,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      };
    };
    let result: ExecResult;
    try {
      result = await pTimeout(run(), {
        milliseconds: timeoutMs,
        message: new WaitTimeoutError(`\`${command.join(" ")}\` on node ${this.name}`, timeoutMs, {
          remedy: "The node may be frozen or overloaded; `docker ps` shows its state.",
        }),
      });
    } catch (err) {
      if (err instanceof LabError) throw err;
      throw new LabError(`Could not run \`${command.join(" ")}\` on node ${this.name}: ${(err as Error).message}`, { cause: err });
    }
    const ok = result.exitCode === 0 || (options.okExitCodes ?? []).includes(result.exitCode);
    if (!ok && (options.check ?? true)) {
      throw new CommandError(`Command failed on node ${this.name}`, command, result.exitCode, result.stderr + result.stdout);
    }
    return result;
  }

  /** Run a long-lived command and read its output line by line (stdout and stderr merged). */
  async stream(command: string[]): Promise<LineStream> {
    const exec = await this.container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
    const raw = await exec.start({ hijack: true, stdin: false });
    const merged = new PassThrough();
    this.docker.modem.demuxStream(raw, merged, merged);
    const end = () => merged.end();
    raw.on("end", end);
    raw.on("close", end);
    raw.on("error", end);
    const rl = createInterface({ input: merged, crlfDelay: Infinity });
    return {
      lines: rl,
      close: () => {
        rl.close();
        raw.destroy();
        merged.end();
      },
    };
  }

  async powerState(): Promise<PowerState> {
    const s = (await this.container.inspect()).State;
    if (s.Paused) return "frozen";
    return s.Running ? "running" : "off";
  }

  /**
   * Pull the plug: SIGKILL to every process of the node, no goodbye packets. Returns when the node
   * died, in microseconds since the epoch, as the engine recorded it (State.FinishedAt).
   */
  async powerOff(): Promise<number | undefined> {
    await this.container.kill({ signal: "SIGKILL" });
    await this.container.wait({ condition: "not-running" }).catch(() => undefined);
    return parseDockerTime((await this.container.inspect()).State.FinishedAt);
  }

  /** Boot the node again: the boot script starts its daemons as at first start. Returns the engine's start time (epoch µs). */
  async powerOn(): Promise<number | undefined> {
    await this.container.start();
    return parseDockerTime((await this.container.inspect()).State.StartedAt);
  }

  /** Freeze every process of the node (cgroup freezer); its kernel-side network state stays. */
  async freeze(): Promise<void> {
    await this.container.pause();
  }

  async thaw(): Promise<void> {
    await this.container.unpause();
  }

  /** Read a file from the node (used for logs and rendered configs). */
  async readFile(path: string, timeoutMs = 10_000): Promise<string> {
    return (await this.exec(["cat", path], { timeoutMs })).stdout;
  }

  /**
   * Every regular file under `path` (a file or a folder) in the node, read through the engine's
   * archive API (`docker cp`), which needs no process in the node: it works on a running, frozen or
   * powered-off node alike. A path that does not exist gives no files.
   */
  async readTree(path: string, timeoutMs = 15_000): Promise<NodeFileCopy[]> {
    const read = async (): Promise<NodeFileCopy[]> => {
      let tar: NodeJS.ReadableStream;
      try {
        tar = await this.container.getArchive({ path });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return [];
        throw err;
      }
      const files: NodeFileCopy[] = [];
      const parent = posix.dirname(path);
      const entries = extract();
      (tar as unknown as import("node:stream").Readable).pipe(entries);
      for await (const entry of entries) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        if (entry.header.type === "file") files.push({ path: posix.join(parent, entry.header.name), content: Buffer.concat(chunks) });
      }
      return files;
    };
    try {
      return await pTimeout(read(), {
        milliseconds: timeoutMs,
        message: new WaitTimeoutError(`the engine's archive of ${path} on node ${this.name}`, timeoutMs),
      });
    } catch (err) {
      if (err instanceof LabError) throw err;
      throw new LabError(`Could not copy ${path} out of node ${this.name}: ${(err as Error).message}`, { cause: err });
    }
  }

  async remove(): Promise<void> {
    await this.container.remove({ force: true, v: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }
}

/** Docker's RFC 3339 time with nanoseconds ("2026-11-21T20:15:12.123456789Z") in epoch microseconds. */
export function parseDockerTime(text: string | undefined): number | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(text ?? "");
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(seconds) || seconds <= 0) return undefined;
  return seconds * 1000 + Number((m[2] ?? "0").padEnd(9, "0").slice(0, 6));
}
