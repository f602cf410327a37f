/**
 * failover-lab's public API. Everything a scenario, a test or a script needs; nothing else.
 *
 *   await using lab = await startLab({ name: "pair" });
 *   await lab.waitForSteadyState();
 *   const stream = lab.requestStream(); stream.start();
 *   const f = await lab.nemesis.inject("power-off", "lb1");
 *   await lab.waitForVip(lab.instance().vips[0]!, "lb2", 15_000);
 */
export { startLab, prepareTopology, topologyNeeds, Lab, type TopologySource, type StartLabOptions } from "./lab.ts";
export { defineTopology, type TopologyInput, type Topology } from "./topology/schema.ts";
export { loadTopologyFile, parseTopologyYaml } from "./topology/load.ts";
export { validateTopology } from "./topology/validate.ts";
export type { ResolvedTopology, ResolvedInstance, ResolvedNode } from "./topology/resolve.ts";

export { defineScenario, type Scenario, type ScenarioContext, type CheckContext } from "./scenario/define.ts";
export { runScenario, type ScenarioRun, type RunScenarioOptions } from "./scenario/run.ts";
export { loadScenario, scenarioNames } from "./scenario/catalog.ts";
export { instanceTiming, type InstanceTiming } from "./scenario/timing.ts";

export { Nemesis, type FaultResult } from "./nemesis/nemesis.ts";
export { FAULTS, registerFault, type FaultDefinition } from "./nemesis/faults.ts";

export type { Op, FaultOp, VipOp, VrrpOp, RequestOp, LogOp, NoteOp, NacosOp, NacosOperation, FaultKind, IpvsOp, IpvsService } from "./history/ops.ts";
export { History, toJsonLines } from "./history/history.ts";
export { MonotonicClock, type Clock } from "./history/clock.ts";

export * from "./protocol/vrrp-timing.ts";
export * from "./protocol/nacos-timing.ts";
export * from "./protocol/lvs-timing.ts";

export type { CheckResult, Checker, Verdict } from "./checkers/types.ts";
export { exactlyOneOwner, ownerIs, splitBrain, splitBrainSpans, vipMoves } from "./checkers/vip.ts";
export { migrationTime, firstSuccessByNewOwner } from "./checkers/migration.ts";
export { preemption, noPreemption } from "./checkers/preemption.ts";
export { zeroErrors, maxErrors, errorWindows, requestSummary, servedBy, notServedBy } from "./checkers/requests.ts";
export { reachesState } from "./checkers/vrrp.ts";
export { ipvsTableHolds, outageAfter, realServerAdded, realServerRemoved, stickyClients } from "./checkers/lvs.ts";
export { ownershipIntervals, ownerTimeline } from "./checkers/ownership.ts";
export {
  nacosMaxErrors,
  nacosMemberState,
  nacosNoLostWrites,
  nacosNotServedBy,
  nacosOutage,
  nacosRecovery,
  nacosServedBy,
  nacosStoredWrites,
  nacosSummary,
} from "./checkers/nacos.ts";
export { NacosWorkload, type NacosWorkloadOptions } from "./workload/nacos-workload.ts";

export { buildReport, reportExitCode, REPORT_SCHEMA, type Report } from "./report/report.ts";
export { ConsoleReporter, silentReporter, type Reporter } from "./report/reporter.ts";
export { RunFolder, runsRoot, type RunManifest } from "./report/run-folder.ts";
export { renderHtmlReport, chartData, chartSpec } from "./report/html.ts";
export { LiveState, formatStatusLine, type LiveSnapshot } from "./live/live-state.ts";
export { StatusLine, showLabStatus } from "./live/status-line.ts";
export { WebView, type WebViewOptions } from "./live/web-view.ts";
export { renderCompose, writeCompose, staleCompose } from "./compose/compose.ts";

export { runDoctor, type DoctorCheck } from "./doctor/doctor.ts";
export { removeResources, reapOrphans } from "./runtime/cleanup.ts";
export { closeEngines, engineProvider, EngineProvider, type EngineNeed, type EnginePlan } from "./runtime/engines.ts";
export type { EnginePace } from "./runtime/pace.ts";
export { LabError, TopologyError, EnvironmentError, CommandError, WaitTimeoutError } from "./errors.ts";
