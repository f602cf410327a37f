/**
 * The nemesis: injects faults into a running lab and writes each one into the history, an `invoke`
 * op when it starts and an `ok` / `info` / `fail` op when it is done. After power changes it keeps
 * the observers in step with the node (a powered-off node's VIPs are gone; a powered-on node is
 * watched again).
 */
import { LabError } from "../errors.ts";
import type { FaultKind } from "../history/ops.ts";
import type { Lab } from "../lab.ts";
import { nodeKind } from "../nodes/registry.ts";
import { FAULTS, type FaultParams } from "./faults.ts";
import "./network-faults.ts";
import "./nacos-faults.ts";

export interface FaultResult {
  faultId: number;
  kind: FaultKind;
  node: string;
  /** When the nemesis started (ms since the run's start). */
  invokeMs: number;
  /** When it was done. */
  doneMs: number;
  /** When it took effect in the node (as timed there or by the engine), else doneMs. */
  effectMs: number;
  /** A start: when the started daemon was ready to serve (see FaultOutcome.readyAtEpochUs), within [effect, done]. */
  readyMs?: number;
  type: "ok" | "info";
  detail: string;
}

export class Nemesis {
  private readonly lab: Lab;
  private nextId = 1;

  constructor(lab: Lab) {
    this.lab = lab;
  }

  async inject(kind: FaultKind, nodeName: string, params: FaultParams = {}): Promise<FaultResult> {
    const definition = FAULTS.get(kind);
    if (!definition) {
      throw new LabError(`fault "${kind}" is not supported. Supported faults are: ${[...FAULTS.keys()].join(", ")}`);
    }
    const unknown = Object.keys(params).filter((p) => !(p in (definition.params ?? {})));
    if (unknown.length > 0) {
      const known = Object.entries(definition.params ?? {}).map(([k, v]) => `${k} (${v})`);
      throw new LabError(`fault "${kind}" has no parameter ${unknown.map((u) => `"${u}"`).join(", ")}. Its parameters: ${known.join("; ") || "none"}`);
    }
    const resolved = definition.createsNode
      ? undefined
      : (this.lab.topology.nodes.find((n) => n.name === nodeName) ?? this.lab.intruderNode(nodeName));
    if (!definition.createsNode && !resolved) {
      throw new LabError(`Lab ${this.lab.name} has no node "${nodeName}". Its nodes are: ${[...this.lab.addresses().keys()].join(", ")}`);
    }
    if (resolved && !definition.appliesTo.includes(resolved.kind)) {
      throw new LabError(`fault "${kind}" does not apply to ${nodeName} (a ${resolved.kind} node); it applies to: ${definition.appliesTo.join(", ")}`);
    }
    if (definition.createsNode && !/^[a-z][a-z0-9-]{0,23}$/.test(nodeName)) {
      throw new LabError(`"${nodeName}" is not a usable node name: 1–24 lowercase letters, digits or dashes, starting with a letter`);
    }
    const history = this.lab.history;
    const faultId = this.nextId++;
    const invokeMs = this.lab.clock.nowMs();
    history.append({ process: "nemesis", f: "fault", type: "invoke", kind, node: nodeName, faultId, atMs: invokeMs, ...(Object.keys(params).length ? { params } : {}) });
    const shown = Object.keys(params).length ? ` ${JSON.stringify(params)}` : "";
    this.lab.reporter.step(`fault: ${kind} on ${nodeName}${shown} — ${definition.describe}`);
    try {
      let outcome;
      if (definition.createsNode) {
        outcome = await definition.create!({ name: nodeName, params, lab: this.lab });
      } else {
        const node = this.lab.node(nodeName);
        const boot = this.lab.intruderNode(nodeName) ? ["keepalived"] : (nodeKind(resolved!.kind).spec(this.lab.topology, resolved!, new Map()).boot ?? []);
        outcome = await definition.act!({ node, kind: resolved!.kind, boot, params, lab: this.lab });
      }
      const doneMs = this.lab.clock.nowMs();
      // When it took effect, as the node or the engine timed it; kept within [invoke, done].
      const effectMs =
        definition.effectAt === "invoke"
          ? invokeMs
          : outcome.effectAtEpochUs === undefined
            ? undefined
            : Math.min(Math.max(this.lab.clock.fromEpochMicros(outcome.effectAtEpochUs), invokeMs), doneMs);
      if (outcome.type === "ok" && definition.power === "off") {
        // The interface went with the node when it died.
        this.lab.vips.nodeDown(nodeName, effectMs ?? doneMs);
        this.lab.vrrp.detach(nodeName, { powerLost: true });
        this.lab.ipvs.detach(nodeName);
      }
      history.append({ process: "nemesis", f: "fault", type: outcome.type, kind, node: nodeName, faultId, detail: outcome.detail, atMs: doneMs, ...(effectMs !== undefined ? { effectAtMs: effectMs } : {}) });
      if (outcome.type === "ok" && definition.power === "on") {
        this.lab.vrrp.detach(nodeName, { powerLost: kind === "reboot" });
        this.lab.vips.nodeDown(nodeName, doneMs);
        await this.lab.observe(nodeName);
      }
      if (outcome.type === "info") this.lab.reporter.info(`  ${outcome.detail}`);
      const readyMs =
        outcome.readyAtEpochUs === undefined ? undefined : Math.min(Math.max(this.lab.clock.fromEpochMicros(outcome.readyAtEpochUs), effectMs ?? invokeMs), doneMs);
      return { faultId, kind, node: nodeName, invokeMs, doneMs, effectMs: effectMs ?? doneMs, ...(readyMs !== undefined ? { readyMs } : {}), type: outcome.type, detail: outcome.detail };
    } catch (err) {
      const detail = (err as Error).message;
      history.append({ process: "nemesis", f: "fault", type: "fail", kind, node: nodeName, faultId, detail, atMs: this.lab.clock.nowMs() });
      throw new LabError(`fault ${kind} on ${nodeName} failed: ${detail}`, { cause: err });
    }
  }

  /** Undo a fault with its healing counterpart (power-off → power-on, freeze → thaw, …). */
  async heal(kind: FaultKind, nodeName: string, params: FaultParams = {}): Promise<FaultResult> {
    const heal = FAULTS.get(kind)?.heal;
    if (!heal) throw new LabError(`fault "${kind}" has no heal`);
    const accepted = FAULTS.get(heal)?.params ?? {};
    return this.inject(heal, nodeName, Object.fromEntries(Object.entries(params).filter(([k]) => k in accepted)));
  }
}
