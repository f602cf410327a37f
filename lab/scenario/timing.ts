/**
 * The timer facts of a VRRP instance as the topology declares them: who is expected to be master,
 * the backup whose timer decides, and the inputs of the protocol formulas in protocol/vrrp-timing.ts.
 */
import type { Lab } from "../lab.ts";
import type { VrrpTimerInput } from "../protocol/vrrp-timing.ts";

export interface InstanceTiming extends VrrpTimerInput {
  instance: string;
  master: string;
  masterPriority: number;
  /** The highest-priority other member: the one that takes over. */
  backup: string;
}

export function instanceTiming(lab: Lab, name?: string): InstanceTiming {
  const inst = lab.instance(name);
  const master = lab.expectedMaster(inst);
  const others = inst.members.filter((m) => m.node !== master);
  const backup = [...others].sort((a, b) => b.priority - a.priority)[0];
  return {
    instance: inst.name,
    version: inst.version,
    advertIntMs: inst.advertIntMs,
    master,
    masterPriority: inst.members.find((m) => m.node === master)!.priority,
    backup: backup?.node ?? master,
    backupPriority: backup?.priority ?? 0,
  };
}
