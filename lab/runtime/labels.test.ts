import { describe, expect, it } from "vitest";
import { hostname } from "node:os";
import { currentOwner, labelsFor, LABEL, ownerState } from "./labels.ts";

describe("labels", () => {
  it("label every resource with lab, run, owner and keep; containers also with node and role", () => {
    const labels = labelsFor({ lab: "demo", run: "r1", keep: false }, { name: "lb1", role: "lb" });
    expect(labels[LABEL.managed]).toBe("true");
    expect(labels[LABEL.lab]).toBe("demo");
    expect(labels[LABEL.run]).toBe("r1");
    expect(labels[LABEL.node]).toBe("lb1");
    expect(labels[LABEL.role]).toBe("lb");
    expect(labels[LABEL.keep]).toBe("false");
    expect(labels[LABEL.owner]).toBe(currentOwner());
  });

  it("see this process as alive", () => {
    expect(ownerState(currentOwner())).toBe("alive");
  });

  it("see a pid that does not exist as gone", () => {
    expect(ownerState(`${hostname()}:2147483646:123`)).toBe("gone");
  });

  it("see a reused pid (same pid, other start time) as gone", () => {
    expect(ownerState(`${hostname()}:${process.pid}:1`)).toBe("gone");
  });

  it("never judge another host's process", () => {
    expect(ownerState(`some-other-host:1:1`)).toBe("unknown");
    expect(ownerState(undefined)).toBe("unknown");
  });
});
