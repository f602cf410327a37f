/**
 * The demo's words, in English and Simplified Chinese. Each step has what is about to happen
 * (`before`) and what happened, with the measured figures (`after`).
 */
export type Lang = "en" | "zh-CN";

export interface StepFigures {
  vip: string;
  from: string;
  to: string;
  /** ms, measured */
  measuredMs: number | null;
  /** ms, expected window */
  minMs: number;
  maxMs: number;
  failed: number;
  formula: string;
}

const f = (ms: number | null) => (ms === null ? "—" : `${(ms / 1000).toFixed(3)} s`);

export const MESSAGES = {
  en: {
    title: "failover-lab demo: two nginx + keepalived load balancers share one VIP in front of two web servers",
    starting: (lab: string) => `Starting lab ${lab}: lb1 (priority 100) and lb2 (priority 90) run nginx and keepalived; web1 and web2 serve pages.`,
    steady: (vip: string, owner: string) => `The VIP ${vip} is on ${owner}. A client now sends 200 requests per second to it and records every answer.`,
    verdict: (ok: boolean) => (ok ? "as the protocol predicts" : "OUTSIDE the protocol's window — see the report"),
    steps: {
      "kill-nginx": {
        before: (s: StepFigures) => `Step: kill nginx on ${s.from} (SIGKILL). keepalived's check script fails twice and lowers ${s.from}'s priority by 20, below ${s.to}'s, so ${s.to} should take the VIP.`,
        after: (s: StepFigures) => `The VIP moved from ${s.from} to ${s.to} ${f(s.measuredMs)} after the kill (expected ${f(s.minMs)}–${f(s.maxMs)}: ${s.formula}). ${s.failed} client requests failed meanwhile.`,
      },
      "start-nginx": {
        before: (s: StepFigures) => `Step: start nginx on ${s.from} again. Its check script passes twice, its priority is back to 100, and it takes the VIP back from ${s.to} (preemption).`,
        after: (s: StepFigures) => `The VIP is back on ${s.from}, ${f(s.measuredMs)} after nginx started. ${s.failed} requests failed.`,
      },
      "power-off": {
        before: (s: StepFigures) => `Step: pull the plug on ${s.from}. It cannot say goodbye; ${s.to} notices only when no advertisement has come for its Master_Down_Interval.`,
        after: (s: StepFigures) => `${s.to} took the VIP ${f(s.measuredMs)} after the power cut (expected ${f(s.minMs)}–${f(s.maxMs)}: ${s.formula}). Clients saw ${s.failed} failed requests until then.`,
      },
      "power-on": {
        before: (s: StepFigures) => `Step: power ${s.from} on. It boots, starts keepalived as BACKUP, ignores ${s.to}'s lower-priority adverts and takes the VIP back after its own Master_Down_Interval.`,
        after: (s: StepFigures) => `${s.from} holds the VIP again, ${f(s.measuredMs)} after power-on. ${s.failed} requests failed during the hand-back.`,
      },
      "block-vrrp": {
        before: (s: StepFigures) => `Step: firewall VRRP (IP protocol 112) on ${s.from}, in and out — what a firewall does when nobody opened it for VRRP. ${s.to} stops hearing ${s.from} and will make itself master too: split brain.`,
        after: (s: StepFigures) => `${s.to} took the VIP ${f(s.measuredMs)} after the firewall went up (expected ${f(s.minMs)}–${f(s.maxMs)}: ${s.formula}), while ${s.from} still holds it: two masters, and the clients follow whichever answered their last ARP. ${s.failed} requests failed.`,
      },
      "unblock-vrrp": {
        before: (s: StepFigures) => `Step: remove the firewall rules. Each node hears the other again; the one with the lower priority, ${s.to}, must step down.`,
        after: (s: StepFigures) => `One owner again, ${s.from}, ${f(s.measuredMs)} after the rules went (expected ${f(s.minMs)}–${f(s.maxMs)}: ${s.formula}). ${s.failed} requests failed.`,
      },
    },
    done: (failed: number, total: number) => `Done. ${total} requests in all, ${failed} failed. The full timeline is below.`,
    report: (path: string) => `The report with the timeline chart (open it in a browser; it works offline): ${path}`,
    folder: (path: string) => `Everything the run recorded — history, report, configs, every daemon's log — is in ${path}`,
    web: {
      serving: (url: string) => `Live view for the projector: ${url} (open it now; it updates as the demo runs)`,
      closed: "The live view has stopped.",
      title: "failover-lab: who holds the VIP?",
      waiting: "Starting the lab…",
      owner: "VIP on",
      nobody: "nobody",
      split: "SPLIT BRAIN",
      off: "OFF",
      frozen: "FROZEN",
      holds: "holds the VIP",
      perSecond: "requests/s",
      failed: "failed",
      total: "sent",
      stream: "requests, last 30 s (green ok, red failed; colour band: which load balancer answered)",
      faults: "faults",
      finished: "Finished",
    },
  },
  "zh-CN": {
    title: "failover-lab 演示：两台 nginx + keepalived 负载均衡器共享一个 VIP，后面是两台 Web 服务器",
    starting: (lab: string) => `启动实验环境 ${lab}：lb1（优先级 100）和 lb2（优先级 90）运行 nginx 和 keepalived；web1 和 web2 提供页面。`,
    steady: (vip: string, owner: string) => `VIP ${vip} 现在在 ${owner} 上。客户端开始以每秒 200 个请求访问它，并记录每一个响应。`,
    verdict: (ok: boolean) => (ok ? "与协议的预测一致" : "超出协议预测的时间窗口——请查看报告"),
    steps: {
      "kill-nginx": {
        before: (s: StepFigures) => `步骤：在 ${s.from} 上杀掉 nginx（SIGKILL）。keepalived 的检查脚本连续失败两次后，把 ${s.from} 的优先级降低 20，低于 ${s.to}，所以 VIP 应该漂移到 ${s.to}。`,
        after: (s: StepFigures) => `VIP 在杀掉 nginx 之后 ${f(s.measuredMs)} 从 ${s.from} 漂移到 ${s.to}（预期 ${f(s.minMs)}–${f(s.maxMs)}：${s.formula}）。期间有 ${s.failed} 个客户端请求失败。`,
      },
      "start-nginx": {
        before: (s: StepFigures) => `步骤：在 ${s.from} 上重新启动 nginx。检查脚本连续成功两次后优先级恢复为 100，它从 ${s.to} 手里抢回 VIP（抢占）。`,
        after: (s: StepFigures) => `nginx 启动后 ${f(s.measuredMs)}，VIP 回到 ${s.from}。期间有 ${s.failed} 个请求失败。`,
      },
      "power-off": {
        before: (s: StepFigures) => `步骤：直接给 ${s.from} 断电。它来不及告别；${s.to} 只有在 Master_Down_Interval 内收不到任何通告时才会发现。`,
        after: (s: StepFigures) => `断电之后 ${f(s.measuredMs)}，${s.to} 接管了 VIP（预期 ${f(s.minMs)}–${f(s.maxMs)}：${s.formula}）。在此之前客户端有 ${s.failed} 个请求失败。`,
      },
      "power-on": {
        before: (s: StepFigures) => `步骤：给 ${s.from} 重新上电。它启动后 keepalived 以 BACKUP 身份运行，忽略 ${s.to} 较低优先级的通告，在自己的 Master_Down_Interval 之后抢回 VIP。`,
        after: (s: StepFigures) => `上电之后 ${f(s.measuredMs)}，${s.from} 重新持有 VIP。交还期间有 ${s.failed} 个请求失败。`,
      },
      "block-vrrp": {
        before: (s: StepFigures) => `步骤：在 ${s.from} 上用防火墙拦截 VRRP（IP 协议 112），进出都拦——防火墙没有为 VRRP 放行时就是这样。${s.to} 收不到 ${s.from} 的通告，也会把自己变成 MASTER：脑裂。`,
        after: (s: StepFigures) => `防火墙生效后 ${f(s.measuredMs)}，${s.to} 也拿到了 VIP（预期 ${f(s.minMs)}–${f(s.maxMs)}：${s.formula}），而 ${s.from} 仍然持有它：两个 MASTER，客户端跟着最近一次 ARP 应答走。期间有 ${s.failed} 个请求失败。`,
      },
      "unblock-vrrp": {
        before: (s: StepFigures) => `步骤：删除防火墙规则。两台节点重新听到对方；优先级较低的 ${s.to} 必须退回 BACKUP。`,
        after: (s: StepFigures) => `规则删除后 ${f(s.measuredMs)}，VIP 重新只在 ${s.from} 上（预期 ${f(s.minMs)}–${f(s.maxMs)}：${s.formula}）。期间有 ${s.failed} 个请求失败。`,
      },
    },
    done: (failed: number, total: number) => `演示结束。共发送 ${total} 个请求，失败 ${failed} 个。完整的时间线如下。`,
    report: (path: string) => `带时间线图表的报告（用浏览器打开，无需联网）：${path}`,
    folder: (path: string) => `本次运行记录的全部内容——历史、报告、配置、每个守护进程的日志——都在 ${path}`,
    web: {
      serving: (url: string) => `投影用的实时页面：${url}（现在就打开，演示过程中会实时更新）`,
      closed: "实时页面已停止。",
      title: "failover-lab：VIP 在谁手上？",
      waiting: "正在启动实验环境……",
      owner: "VIP 在",
      nobody: "无人持有",
      split: "脑裂",
      off: "断电",
      frozen: "冻结",
      holds: "持有 VIP",
      perSecond: "请求/秒",
      failed: "失败",
      total: "已发送",
      stream: "最近 30 秒的请求（绿色成功，红色失败；色带表示由哪台负载均衡器应答）",
      faults: "故障",
      finished: "已结束",
    },
  },
} as const;

export function messages(lang: Lang) {
  return MESSAGES[lang];
}
