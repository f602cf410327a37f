/**
 * Nacos 2.3.2's own timers, the one place where the lab's expectations about a Nacos cluster come
 * from (the load balancers' part comes from vrrp-timing.ts).
 *
 * Member health (com.alibaba.nacos.core.cluster.ServerMemberManager, MemberUtil):
 *   - every member runs MemberInfoReportTask every 2 s; each run reports to ONE other member, in
 *     turn (a cursor over the other n − 1 members, DOWN ones included), so a given member is probed
 *     by a given peer every 2 s × (n − 1);
 *   - a failed report marks the target SUSPICIOUS and counts the failure; the target is DOWN when
 *     the count exceeds nacos.core.member.fail-access-cnt (default 3) — or at once when the
 *     connection was refused;
 *   - a successful report (either way) marks it UP again, and the report task starts 5 s after a
 *     member's web server is up.
 * Embedded storage (JRaft, com.alibaba.nacos.core.distributed.raft.RaftSysConstants, JRaftServer):
 * election timeout 5 s, randomised by JRaft up to its max election delay of 1 s more; a config write
 * goes to the leader a member's route table names, refreshed every 5 s + random(0, 5 s); so when the
 * leader dies, writes fail until a new leader is elected and the member has refreshed its table.
 */

/** MemberInfoReportTask's period. */
export const MEMBER_REPORT_INTERVAL_MS = 2000;
/** nacos.core.member.fail-access-cnt: DOWN after more failed reports than this in a row. */
export const MEMBER_FAIL_ACCESS_CNT = 3;
/** Delay of the first report after a member's web server starts. */
export const MEMBER_REPORT_FIRST_DELAY_MS = 5000;
/** RaftSysConstants.DEFAULT_ELECTION_TIMEOUT. */
export const RAFT_ELECTION_TIMEOUT_MS = 5000;
/** JRaft NodeOptions.maxElectionDelayMs: the election timer's random extra. */
export const RAFT_MAX_ELECTION_DELAY_MS = 1000;
/** JRaftServer's leader refresh job runs every election timeout + random(0, this). */
export const RAFT_ROUTE_REFRESH_JITTER_MS = 5000;
/**
 * What the protocol does not model: thread scheduling of three JVMs on two cores, one round trip
 * inside the lab network. Stated once, printed next to every Nacos expectation.
 */
export const NACOS_SLACK_MS = 1000;

export interface NacosWindow {
  minMs: number;
  maxMs: number;
  formula: string;
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3)} s` : `${ms.toFixed(1)} ms`;
}

/**
 * A killed member → a survivor reports it DOWN. Each survivor probes it every 2 s × (n − 1); the
 * first probe after the kill comes within one such period, and DOWN is declared on the
 * (fail-access-cnt + 1)-th failure (or the first, when the connection is refused).
 */
export function expectedMemberDown(members: number): NacosWindow {
  const period = MEMBER_REPORT_INTERVAL_MS * Math.max(1, members - 1);
  const probes = MEMBER_FAIL_ACCESS_CNT + 1;
  return {
    minMs: 0,
    maxMs: probes * period + NACOS_SLACK_MS,
    formula:
      `each survivor probes the member every ${fmt(MEMBER_REPORT_INTERVAL_MS)} × ${members - 1} = ${fmt(period)}; DOWN at failure ` +
      `${probes} (fail-access-cnt ${MEMBER_FAIL_ACCESS_CNT} + 1), or at the first refused connection: ≤ ${probes} × ${fmt(period)} + ${NACOS_SLACK_MS} ms slack`,
  };
}

/**
 * A restarted member (serving HTTP again) → every survivor sees it UP: the survivors' next probe of
 * it succeeds (≤ 2 s × (n − 1)), and its own reports start 5 s after its web server.
 */
export function expectedMemberUp(members: number): NacosWindow {
  const period = MEMBER_REPORT_INTERVAL_MS * Math.max(1, members - 1);
  return {
    minMs: 0,
    maxMs: period + NACOS_SLACK_MS,
    formula: `each survivor's next probe of the member (every ${fmt(MEMBER_REPORT_INTERVAL_MS)} × ${members - 1} = ${fmt(period)}) succeeds and marks it UP: ≤ ${fmt(period)} + ${NACOS_SLACK_MS} ms slack`,
  };
}

/**
 * The raft leader killed → config writes (embedded storage) work again through every survivor. A
 * survivor forwards a write to the leader its route table names (JRaftServer.invokeToLeader), and
 * that table is refreshed every election timeout + random(0, 5 s) (JRaftServer: the leader refresh
 * job); so: a new leader within the election timeout + JRaft's random delay, then each survivor's next
 * refresh within one refresh period.
 */
export function expectedConfigWritesBack(): NacosWindow {
  const election = RAFT_ELECTION_TIMEOUT_MS + RAFT_MAX_ELECTION_DELAY_MS;
  const refresh = RAFT_ELECTION_TIMEOUT_MS + RAFT_ROUTE_REFRESH_JITTER_MS;
  return {
    minMs: 0,
    maxMs: election + refresh + NACOS_SLACK_MS,
    formula:
      `a new raft leader within the election timeout ${fmt(RAFT_ELECTION_TIMEOUT_MS)} + up to ${fmt(RAFT_MAX_ELECTION_DELAY_MS)} JRaft delay, ` +
      `then each survivor's route-table refresh (every ${fmt(RAFT_ELECTION_TIMEOUT_MS)} + up to ${fmt(RAFT_ROUTE_REFRESH_JITTER_MS)}): ≤ ${fmt(election + refresh)} + ${NACOS_SLACK_MS} ms slack`,
  };
}
