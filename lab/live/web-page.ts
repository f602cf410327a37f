/**
 * The live view's page: one self-contained HTML file (no script or style from elsewhere), built
 * for a classroom projector — black background, white text, the VIP's owner in letters a room can
 * read. It listens to the server's events (`/events`, server-sent events) and redraws from each
 * `state` snapshot (live-state.ts).
 */
import { type Lang, messages } from "../demo/messages.ts";

export function livePage(lang: Lang): string {
  const w = messages(lang).web;
  const words = JSON.stringify(w).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${w.title}</title>
<style>
:root { --ok: #00e676; --bad: #ff1744; --master: #00e676; --backup: #40c4ff; --fault: #ff9100; --off: #616161; }
* { box-sizing: border-box; }
html, body { margin: 0; background: #000; color: #fff; font-family: "DejaVu Sans", "Noto Sans CJK SC", sans-serif; }
body { padding: 2vh 3vw; min-height: 100vh; display: flex; flex-direction: column; gap: 2vh; }
header { display: flex; justify-content: space-between; align-items: baseline; font-size: 2.6vw; color: #bbb; }
#clock { font-variant-numeric: tabular-nums; }
#headline { font-size: 6.5vw; font-weight: bold; line-height: 1.1; }
#owner { color: #ffea00; }
#headline.split #owner { color: var(--bad); }
#nodes { display: flex; gap: 3vw; }
.node { flex: 1; border: .5vw solid #555; border-radius: 1.5vw; padding: 2vh 2vw; }
.node .name { font-size: 5vw; font-weight: bold; }
.node .state { font-size: 3.6vw; font-weight: bold; }
.node .vip { font-size: 3vw; min-height: 4vw; color: #ffea00; font-weight: bold; }
.node[data-holds="true"] { border-color: #ffea00; background: #1a1a00; }
.node[data-state="MASTER"] .state { color: var(--master); }
.node[data-state="BACKUP"] .state { color: var(--backup); }
.node[data-state="FAULT"] .state, .node[data-state="STOP"] .state { color: var(--fault); }
.node[data-power="off"] { border-color: var(--off); color: #9e9e9e; }
.node[data-state="OFF"] .state { color: #9e9e9e; }
.node[data-state="FROZEN"] .state { color: #b3e5fc; }
#counters { display: flex; gap: 4vw; font-size: 3.2vw; }
#counters b { font-size: 4.2vw; font-variant-numeric: tabular-nums; }
#failed b { color: var(--bad); }
#strip-title, #faults-title { font-size: 1.8vw; color: #bbb; }
#strip { display: flex; align-items: flex-end; gap: 1px; height: 16vh; border-bottom: 2px solid #777; }
#strip .bin { flex: 1; display: flex; flex-direction: column-reverse; height: 100%; }
#strip .ok { background: var(--ok); } #strip .failed { background: var(--bad); }
#strip .lb { height: .8vh; }
#faults { font-size: 2.4vw; font-variant-numeric: tabular-nums; }
#finished { font-size: 2.4vw; color: #ffea00; }
</style>
</head>
<body>
<header><span>${w.title}</span><span id="clock"></span></header>
<div id="headline"><span id="owner-label">${w.waiting}</span> <span id="owner"></span></div>
<div id="nodes"></div>
<div id="counters"><span id="rate"><b>0</b> ${w.perSecond}</span><span id="failed"><b>0</b> ${w.failed}</span><span id="total"><b>0</b> ${w.total}</span></div>
<div id="strip-title">${w.stream}</div>
<div id="strip"></div>
<div id="faults-title">${w.faults}</div>
<div id="faults"></div>
<div id="finished"></div>
<script>
"use strict";
const W = ${words};
const LB_COLORS = ["#00b0ff", "#ff9100", "#d500f9", "#76ff03", "#ffea00", "#ff4081"];
const $ = (id) => document.getElementById(id);
let lbColor = {};
function render(s) {
  if (!s.nodes) { $("finished").textContent = s.finished ? W.finished + ": " + s.finished : ""; return; }
  document.body.dataset.updated = String(s.nowMs);
  $("clock").textContent = (s.nowMs / 1000).toFixed(1) + " s";
  const vip = s.vips[0];
  const owners = vip ? (s.owners[vip] || []) : [];
  $("owner-label").textContent = W.owner;
  $("owner").textContent = owners.length === 0 ? W.nobody : owners.join(" + ");
  $("owner").dataset.owners = owners.join(" ");
  $("headline").classList.toggle("split", owners.length > 1);
  if (owners.length > 1) $("owner").textContent += " — " + W.split;
  s.nodes.forEach((n, i) => { if (!(n.name in lbColor)) lbColor[n.name] = LB_COLORS[i % LB_COLORS.length]; });
  const nodes = $("nodes");
  nodes.replaceChildren(...s.nodes.map((n) => {
    const states = [...new Set(Object.values(n.states))];
    const state = n.power === "off" ? W.off : n.power === "frozen" ? W.frozen : (states.join("/") || "…");
    const el = document.createElement("div");
    el.className = "node";
    el.dataset.node = n.name;
    el.dataset.state = n.power === "off" ? "OFF" : n.power === "frozen" ? "FROZEN" : (states[0] || "");
    el.dataset.power = n.power;
    el.dataset.holds = String(n.vips.length > 0);
    el.style.borderTopColor = lbColor[n.name];
    const name = document.createElement("div"); name.className = "name"; name.textContent = n.name;
    const st = document.createElement("div"); st.className = "state"; st.textContent = state;
    const v = document.createElement("div"); v.className = "vip"; v.textContent = n.vips.length ? "● " + W.holds : "";
    el.append(name, st, v);
    return el;
  }));
  $("rate").firstChild.textContent = String(s.requests.perSecond);
  $("failed").firstChild.textContent = String(s.requests.failed);
  $("total").firstChild.textContent = String(s.requests.total);
  const max = Math.max(1, ...s.recent.map((b) => b.ok + b.failed));
  const byStart = new Map(s.recent.map((b) => [b.atMs, b]));
  const last = Math.floor(s.nowMs / 250) * 250;
  const bins = [];
  for (let t = last - 119 * 250; t <= last; t += 250) {
    const b = byStart.get(t);
    const col = document.createElement("div");
    col.className = "bin";
    if (b) {
      const top = Object.entries(b.byLb).sort((x, y) => y[1] - x[1])[0];
      const lb = document.createElement("div"); lb.className = "lb"; lb.style.background = top ? (lbColor[top[0]] || "#fff") : "transparent";
      const ok = document.createElement("div"); ok.className = "ok"; ok.style.height = (100 * b.ok / max) + "%";
      const bad = document.createElement("div"); bad.className = "failed"; bad.style.height = (100 * b.failed / max) + "%";
      col.append(lb, ok, bad);
    }
    bins.push(col);
  }
  $("strip").replaceChildren(...bins);
  $("faults").replaceChildren(...s.faults.slice().reverse().map((f) => {
    const d = document.createElement("div");
    d.textContent = (f.atMs / 1000).toFixed(1) + " s  " + f.label + (f.outcome && f.outcome !== "ok" ? " (" + f.outcome + ")" : "");
    return d;
  }));
  $("finished").textContent = s.finished ? W.finished + ": " + s.finished : "";
}
const events = new EventSource("/events");
events.addEventListener("state", (e) => render(JSON.parse(e.data)));
</script>
</body>
</html>
`;
}
