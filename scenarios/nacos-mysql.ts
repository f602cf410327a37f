/**
 * The Nacos cluster of scenarios/nacos.ts on MySQL-compatible storage (a MariaDB node, as one source
 * document has it): the members boot after the database, a member dies and comes back while the
 * workload runs through the VIP, and every acknowledged config write is both read back through the
 * VIP and found in MariaDB's config_info table.
 */
import { nacosMaxErrors, nacosMemberState, nacosNoLostWrites, nacosNotServedBy, nacosServedBy, nacosStoredWrites } from "../lab/checkers/nacos.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedMemberDown, expectedMemberUp } from "../lab/protocol/nacos-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";
import { NACOS_CALL_TIMEOUT_MS, NGINX_FAIL_TIMEOUT_MS, runNacosMemberFault, startNacosWorkload } from "./lib/nacos.ts";

export default defineScenario({
  name: "nacos-mysql",
  title: "Nacos cluster on MariaDB behind the VIP: a member dies and comes back, no acknowledged write lost",
  description:
    "Three Nacos 2.3.2 members with SPRING_DATASOURCE_PLATFORM=mysql on a MariaDB node (the Nacos schema of the same " +
    "release), behind lb1/lb2 and the VIP. The members' boot waits for the database. While the workload runs through the " +
    "VIP, nacos1's JVM is killed: its peers report it DOWN and nginx routes around it; started again, it is reported UP. " +
    "Every config write Nacos acknowledged is read back through the VIP and found in MariaDB.",
  sources: ["000_9fd1314643ef8be8.txt"],
  topology: { name: "nacos-mysql", web: {}, nacos: { members: 3, storage: "mysql" } },
  requests: false,
  async run(ctx) {
    const { lab, remember, sleep, note } = ctx;
    const workload = startNacosWorkload(lab);
    await sleep(5000);
    remember("member", await runNacosMemberFault(ctx, "nacos1"));
    await workload.stop();
    remember("verify", await workload.verify());
    // What MariaDB holds (read in the database node, not through Nacos).
    const db = lab.topology.nacos!.db!;
    const r = await lab.node(lab.topology.nacos!.database!.name).exec(["mariadb", "--batch", "--skip-column-names", "--raw", db.name, "-e", `SELECT data_id, content FROM config_info WHERE group_id = '${workload.group}'`]);
    const rows = new Map(
      r.stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split("\t") as [string, string]),
    );
    remember("rows", rows);
    note(`MariaDB config_info: ${rows.size} rows`);
  },
  checks({ recall, steadyMs }) {
    const { kill, start } = recall<{ kill: FaultResult; start: FaultResult }>("member");
    const down = expectedMemberDown(3);
    const up = expectedMemberUp(3);
    return [
      // A call started up to one timeout before the kill can still be in flight when it strikes.
      nacosMaxErrors({ name: "nacos-no-errors-before-the-fault", max: 0, fromMs: steadyMs, toMs: kill.invokeMs - NACOS_CALL_TIMEOUT_MS }),
      nacosMemberState({ name: "nacos1-reported-down", member: "nacos1", state: "DOWN", fault: { faultId: kill.faultId }, untilMs: start.invokeMs, expected: down }),
      nacosNotServedBy({ name: "nginx-routes-around-nacos1", member: "nacos1", fromMs: kill.doneMs, toMs: start.invokeMs }),
      nacosMaxErrors({ name: "nacos-config-ok-while-nacos1-is-gone", max: 0, operation: ["publish", "get-config", "cluster-nodes", "server-check"], fromMs: kill.doneMs, toMs: start.invokeMs, why: "configs live in MariaDB, which every survivor reaches" }),
      nacosMaxErrors({ name: "nacos-survivors-serve-everything-once-nacos1-is-down", max: 0, fromMs: kill.effectMs + down.maxMs, toMs: start.invokeMs }),
      nacosMemberState({ name: "nacos1-rejoins", member: "nacos1", state: "UP", fault: { faultId: start.faultId }, anchor: "ok", expected: up }),
      nacosServedBy({ name: "nacos1-serves-again", member: "nacos1", fromMs: start.doneMs + NGINX_FAIL_TIMEOUT_MS }),
      nacosMaxErrors({ name: "nacos-no-errors-after-the-rejoin", max: 0, fromMs: start.doneMs + up.maxMs }),
      nacosNoLostWrites({ name: "nacos-no-acknowledged-write-lost" }),
      nacosStoredWrites({ name: "nacos-writes-stored-in-mariadb", stored: recall<Map<string, string>>("rows"), storage: "MariaDB config_info" }),
    ];
  },
  figures: {
    nacosMemberDownMs: "nacos1-reported-down",
    nacosMemberUpMs: "nacos1-rejoins",
    nacosLostWrites: "nacos-no-acknowledged-write-lost",
  },
});
