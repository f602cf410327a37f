/**
 * A scenario: a topology, a fault schedule, and what must be true of the history afterwards.
 * One file per scenario in scenarios/, runnable from the CLI (`failover-lab run <name>`) and vitest.
 */
import type { Checker } from "../checkers/types.ts";
import type { Op } from "../history/ops.ts";
import type { Lab } from "../lab.ts";
import type { FaultResult } from "../nemesis/nemesis.ts";
import type { TopologyInput } from "../topology/schema.ts";
import type { InstanceTiming } from "./timing.ts";

export interface RequestPlan {
  /** Stream name in the history (default "vip", or the VIP's instance name when several). */
  name?: string;
  /** Which VIP (default: the first instance's first VIP). */
  vip?: string;
  ratePerSecond?: number;
  timeoutMs?: number;
  /**
   * Send from this many client addresses in turn — the client node's own, then its extra ones (.6,
   * .7, …; an LVS client population) — each request naming its `source`. Runs in the client node.
   */
  clients?: number;
}

export interface ScenarioContext {
  lab: Lab;
  /** The first instance's first VIP. */
  vip: string;
  /** Timers and priorities of the first instance (or any, by name). */
  timing(instance?: string): InstanceTiming;
  fault(kind: string, node: string, params?: Record<string, string | number | boolean>): Promise<FaultResult>;
  sleep(ms: number): Promise<void>;
  note(label: string): void;
  /** Keep a value for the checks (e.g. a fault result). */
  remember(key: string, value: unknown): void;
  /** Tell the audience what is happening (the demo prints it; tests drop it). */
  say(text: string): void;
  /** The language the audience reads. */
  lang: "en" | "zh-CN";
}

export interface CheckContext {
  ops: readonly Op[];
  /** When the steady state was reached (before the client streams started). */
  steadyMs: number;
  lab: Lab;
  vip: string;
  timing(instance?: string): InstanceTiming;
  /** What the run remembered, e.g. `recall<FaultResult>("kill")`. */
  recall<T>(key: string): T;
}

export interface Scenario {
  /** Kebab-case; the CLI name and the file name. */
  name: string;
  /** One line for lists. */
  title: string;
  /** What it shows and why, in plain words (README, report, demo). */
  description: string;
  /** Source documents this reproduces (files under seeds/). */
  sources?: string[];
  topology: TopologyInput;
  /** Client streams; default one stream against the first VIP at 200 requests/s. `false` for none. */
  requests?: RequestPlan[] | false;
  run(ctx: ScenarioContext): Promise<void>;
  checks(ctx: CheckContext): Checker[];
  /** Headline figures for the report (e.g. migrationMs), from the checks' results by name. */
  figures?: Record<string, string>;
}

export function defineScenario(scenario: Scenario): Scenario {
  return scenario;
}
