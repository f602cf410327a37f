import { describe, expect, it } from "vitest";
import { ManualClock } from "../history/clock.ts";
import { History } from "../history/history.ts";
import { reachesState } from "./vrrp.ts";

describe("reachesState", () => {
  it("measures from the fault to keepalived entering the state, and fails when it never does", () => {
    const h = new History(new ManualClock());
    h.append({ process: "nemesis", f: "fault", type: "invoke", kind: "kill-nginx", node: "lb1", faultId: 1, atMs: 100 });
    h.append({ process: "nemesis", f: "fault", type: "ok", kind: "kill-nginx", node: "lb1", faultId: 1, atMs: 150 });
    h.append({ process: "observer", f: "vrrp", node: "lb1", instance: "VI_1", from: "MASTER", to: "STOP", line: "Stopped Keepalived", atMs: 2700 });
    const r = reachesState({ node: "lb1", instance: "VI_1", to: "STOP", after: { faultId: 1 } })(h.ops());
    expect([r.verdict, r.measured]).toEqual(["pass", 2600]);
    expect(reachesState({ node: "lb2", instance: "VI_1", to: "STOP" })(h.ops()).verdict).toBe("fail");
    expect(reachesState({ node: "lb1", instance: "VI_1", to: "STOP", after: { faultId: 9 } })(h.ops()).verdict).toBe("unknown");
  });
});
