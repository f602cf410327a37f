/**
 * The one way to the process's container engine: DOCKER_HOST when set, else the local socket — and
 * nothing else: a broken setting is reported, not silently replaced by another engine. Containers
 * are created through the API client of the engine a lab runs on (node-container.ts), so a lab on
 * this engine and one on another (the IPVS guest, runtime/engines.ts) can run in one process.
 * The lab labels everything and reaps by label (no Ryuk).
 */
import Dockerode from "dockerode";
import { EnvironmentError } from "../errors.ts";
import type { EnginePace } from "./pace.ts";

process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";

export interface Engine {
  docker: Dockerode;
  /** Engine version, e.g. "20.10.24+dfsg1". */
  version: string;
  apiVersion: string;
  /** Where the engine was found, e.g. "unix:///var/run/docker.sock". */
  endpoint: string;
  /** The engine's kernel, e.g. "6.18.44". */
  kernelVersion: string;
  /** How the lab paces work on it (pace.ts); absent: the host's pace (no limit, no scaling). */
  pace?: EnginePace;
}

export const DEFAULT_SOCKET = "unix:///var/run/docker.sock";

const NO_ENGINE_REMEDY =
  "Start a Docker engine: on Debian/Ubuntu as root run `bash scripts/ensure-docker.sh`; " +
  "elsewhere install Docker and make sure `docker info` works, or point DOCKER_HOST at a running engine.";

let engine: Promise<Engine> | undefined;

/** Connect once per process; later calls share the connection. */
export function connectEngine(): Promise<Engine> {
  engine ??= connect().catch((err: unknown) => {
    engine = undefined;
    throw err;
  });
  return engine;
}

async function connect(): Promise<Engine> {
  const endpoint = process.env.DOCKER_HOST || DEFAULT_SOCKET;
  // docker-modem reads DOCKER_HOST (and DOCKER_TLS_VERIFY / DOCKER_CERT_PATH) itself.
  const docker = new Dockerode();
  let version: Dockerode.DockerVersion;
  try {
    version = await withTimeout(docker.version(), 10_000);
  } catch (err) {
    throw new EnvironmentError(`No container engine answers at ${endpoint} (${(err as Error).message})`, {
      remedy: NO_ENGINE_REMEDY,
      cause: err,
    });
  }
  process.env.DOCKER_HOST = endpoint; // child processes (the CLI, docker) use this engine and no other
  return {
    docker,
    version: version.Version,
    apiVersion: version.ApiVersion,
    endpoint,
    kernelVersion: version.KernelVersion ?? "unknown",
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
