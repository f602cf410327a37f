/**
 * One lab node = one container: tini as PID 1, the node's daemons started by its boot script,
 * NET_ADMIN and NET_RAW and no other added capability, a fixed address on the lab network.
 *
 * `NodeContainer` builds and starts one on a given engine (its API client, not a process-wide one:
 * a lab on the host's engine and a lab in the IPVS guest can run in one process); `LabNode` is the
 * started node: exec with timeouts (paced per engine, pace.ts), streamed exec, and the power
 * operations the nemesis uses (power off = SIGKILL to every process, power on = boot again,
 * freeze = cgroup freeze).
 */
import { posix } from "node:path";
import { PassThrough } from "node:stream";
import { createInterface } from "node:readline";
import type Dockerode from "dockerode";
import pTimeout from "p-timeout";
import { extract, pack } from "tar-stream";
import { CommandError, LabError, WaitTimeoutError } from "../errors.ts";
import { type EnginePace, execGateFor, HOST_PACE } from "./pace.ts";

/** The only capabilities a node gets: VRRP needs raw sockets, the VIP and iptables need NET_ADMIN. */
export const NODE_CAPABILITIES = ["NET_ADMIN", "NET_RAW"] as const;

export interface ContainerFile {
  content: string;
  /** Absolute path in the container; missing parent folders are created (0755). */
  target: string;
  mode?: number;
}

/**
 * A node's container, configured fluently and started on one engine: created, given its files
 * (through the engine's archive API, before anything runs), started, and seen running.
 */
export class NodeContainer {
  private readonly image: string;
  private name: string | undefined;
  private hostname: string | undefined;
  private network: { name: string; ipv4: string } | undefined;
  private readonly capabilities: string[] = [];
  private labels: Record<string, string> = {};
  private files: ContainerFile[] = [];
  private sysctls: Record<string, string> = {};
  private command: string[] | undefined;
  private startupTimeoutMs = 30_000;

  constructor(image: string) {
    this.image = image;
  }

  withName(name: string): this {
    this.name = name;
    return this;
  }

  withHostname(hostname: string): this {
    this.hostname = hostname;
    return this;
  }

  /** Attach to a user-defined network with a fixed IPv4 address. */
  withFixedAddress(networkName: string, ipv4: string): this {
    this.network = { name: networkName, ipv4 };
    return this;
  }

  withAddedCapabilities(...capabilities: string[]): this {
    this.capabilities.push(...capabilities);
    return this;
  }

  withLabels(labels: Record<string, string>): this {
    this.labels = { ...this.labels, ...labels };
    return this;
  }

  withCopyContentToContainer(files: ContainerFile[]): this {
    this.files = [...this.files, ...files];
    return this;
  }

  /** Namespaced sysctls for this container (e.g. net.ipv4.conf.all.arp_ignore). */
  withSysctls(sysctls: Record<string, string>): this {
    this.sysctls = { ...this.sysctls, ...sysctls };
    return this;
  }

  /** Replace the image's command (the entrypoint, tini, stays). */
  withCommand(command: string[]): this {
    this.command = command;
    return this;
  }

  withStartupTimeout(ms: number): this {
    this.startupTimeoutMs = ms;
    return this;
  }

  /** Create, copy the files in, start; returns the container id once it runs. Removes it again on failure. */
  async start(docker: Dockerode): Promise<string> {
    const create = docker.createContainer({
      Image: this.image,
      ...(this.name ? { name: this.name } : {}),
      ...(this.hostname ? { Hostname: this.hostname } : {}),
      ...(this.command ? { Cmd: this.command } : {}),
      Labels: this.labels,
      HostConfig: {
        ...(this.network ? { NetworkMode: this.network.name } : {}),
        ...(this.capabilities.length ? { CapAdd: this.capabilities } : {}),
        ...(Object.keys(this.sysctls).length ? { Sysctls: this.sysctls } : {}),
      },
      ...(this.network ? { NetworkingConfig: { EndpointsConfig: { [this.network.name]: { IPAMConfig: { IPv4Address: this.network.ipv4 } } } } } : {}),
    });
    const container = await create;
    try {
      await pTimeout(
        (async () => {
          if (this.files.length > 0) await container.putArchive(tarOf(this.files), { path: "/" });
          await container.start();
          const state = (await container.inspect()).State;
          if (!state.Running) {
            const logs = ((await container.logs({ stdout: true, stderr: true, tail: 20 })) as unknown as Buffer).toString("utf8");
            throw new LabError(`container ${this.name ?? this.image} exited at once (code ${state.ExitCode}): ${logs.trim().slice(-600)}`);
          }
        })(),
        { milliseconds: this.startupTimeoutMs, message: new WaitTimeoutError(`container ${this.name ?? this.image} to start`, this.startupTimeoutMs) },
      );
      return container.id;
    } catch (err) {
      await container.remove({ force: true, v: true }).catch(() => undefined);
      throw err;
    }
  }
}

/** A tar stream of files (for the engine's archive API, extracted at "/"). */
export function tarOf(files: readonly ContainerFile[]): NodeJS.ReadableStream {
  const tar = pack();
  for (const f of files) tar.entry({ name: f.target.replace(/^\/+/, ""), mode: f.mode ?? 0o644 }, f.content);
  tar.finalize();
  return tar as unknown as NodeJS.ReadableStream;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /**
   * Give up after this long. Default 15 s. Scaled by the engine's pace (pace.ts); on a paced engine
   * the command is also killed inside the node when it overruns, elsewhere it may keep running.
   */
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
  readonly pace: EnginePace;
  private readonly container: Dockerode.Container;
  private readonly docker: Dockerode;

  constructor(containerId: string, docker: Dockerode, info: { name: string; role: string; address: string }, pace: EnginePace = HOST_PACE) {
    this.name = info.name;
    this.role = info.role;
    this.address = info.address;
    this.containerId = containerId;
    this.docker = docker;
    this.pace = pace;
    this.container = docker.getContainer(this.containerId);
  }

  /** Run a command in the node and collect its output. */
  async exec(command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = (options.timeoutMs ?? 15_000) * this.pace.timeScale;
    const paced = this.pace.execConcurrency !== Number.POSITIVE_INFINITY;
    // On a paced engine an overrunning command must not live on (it would hold the engine's
    // attention): coreutils `timeout` ends it in the node shortly after the lab gives up on it.
    const cmd = paced ? ["timeout", "-k", "2", String(Math.ceil(timeoutMs / 1000) + 1), ...command] : command;
    let stream: NodeJS.ReadableStream & { destroy?: () => void } | undefined;
    const run = async (): Promise<ExecResult> => {
      const exec = await this.container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
      const s = await exec.start({ hijack: true, stdin: false });
      stream = s;
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      stdout.on("data", (d: Buffer) => out.push(d));
      stderr.on("data", (d: Buffer) => err.push(d));
      this.docker.modem.demuxStream(s, stdout, stderr);
      await new Promise<void>((resolve, reject) => {
        s.on("end", resolve);
        s.on("close", resolve);
        s.on("error", reject);
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
      result = await execGateFor(this.docker, this.pace).run(() =>
        pTimeout(run(), {
          milliseconds: timeoutMs,
          message: new WaitTimeoutError(`\`${command.join(" ")}\` on node ${this.name}`, timeoutMs, {
            remedy: "The node may be frozen or overloaded; `docker ps` shows its state.",
          }),
        }).catch((err: unknown) => {
          // Cancelled: close its API connection, so abandoned execs never pile up on the engine.
          stream?.destroy?.();
          throw err;
        }),
      );
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
    // Starting it takes a slot on a paced engine; reading it afterwards does not.
    const raw = await execGateFor(this.docker, this.pace).run(async () => {
      const exec = await this.container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
      return exec.start({ hijack: true, stdin: false });
    });
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

  /** Write a file into the node through the engine's archive API (no process in the node needed). */
  async writeFile(path: string, content: string, mode = 0o644): Promise<void> {
    await this.container.putArchive(tarOf([{ target: path, content, mode }]), { path: "/" });
  }

  /** Read a file from the node (used for logs and rendered configs). */
  async readFile(path: string, timeoutMs = 10_000): Promise<string> {
    return (await this.exec(["cat", path], { timeoutMs })).stdout;
  }

  /**
   * Every regular file under `path` (a file or a folder) in the node, read through the engine's
   * archive API (`docker cp`), which needs no process in the node: it works on a running, frozen or
   * powered-off node alike. A path that does not exist gives no files. The timeout is scaled by the
   * engine's pace like every other wait (a TCG guest's archive of /var/log/lab took over 15 s).
   */
  async readTree(path: string, timeoutMs = 15_000 * this.pace.timeScale): Promise<NodeFileCopy[]> {
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
