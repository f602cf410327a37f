/**
 * The live web view end to end: a real lab, the view's server on 127.0.0.1, and the page in headless
 * Chromium. The page must show lb1 as the VIP's owner, count the client's requests as they happen,
 * and switch to lb2 when keepalived on lb1 is stopped — all pushed by the server, nothing reloaded.
 */
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { startLab } from "../lab/lab.ts";
import { WebView } from "../lab/live/web-view.ts";
import { chromiumUnavailable, launchChromium } from "./fixtures/chromium.ts";

describe("live web view", () => {
  it("serves on 127.0.0.1 only and 404s anything but the page and its events", async () => {
    await using view = await WebView.start({ port: 0 });
    expect(view.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await request(view.url);
    expect(page.statusCode).toBe(200);
    expect(await page.body.text()).toContain('new EventSource("/events")');
    const missing = await request(new URL("/nope", view.url));
    expect(missing.statusCode).toBe(404);
    await missing.body.dump();
  });

  it("shows the VIP's owner live in Chromium: lb1, then lb2 after keepalived on lb1 stops", async (ctx) => {
    const why = chromiumUnavailable();
    if (why) ctx.skip(why);
    const started = performance.now();
    await using view = await WebView.start({ port: 0, lang: "en" });
    await using browser = await launchChromium();
    const page = await browser.context.newPage();
    await page.goto(view.url, { timeout: 30_000 });
    await page.waitForSelector("#owner-label", { timeout: 10_000 });
    expect(await page.textContent("#owner-label")).toBe("Starting the lab…");

    await using lab = await startLab({ name: "live-view" });
    view.attach(lab);
    await lab.waitForSteadyState();
    const stream = lab.requestStream({ ratePerSecond: 50 });
    stream.start();
    // (functions that run in the page are given as source text: this project's types have no DOM)
    const shows = (js: string, what: string, timeout = 10_000) =>
      page.waitForFunction(js, undefined, { timeout }).catch((err: Error) => {
        throw new Error(`the page never showed ${what} within ${timeout} ms: ${err.message.split("\n")[0]}`);
      });
    await shows(`document.getElementById("owner")?.dataset.owners === "lb1"`, "lb1 as the VIP's owner");
    await shows(`Number(document.querySelector("#total b")?.textContent) >= 20`, "20 requests sent");
    await shows(`document.querySelector('.node[data-node="lb1"]')?.dataset.state === "MASTER"`, "lb1 MASTER");
    expect(await page.getAttribute('.node[data-node="lb1"]', "data-holds")).toBe("true");
    const navigations = () => page.evaluate(`performance.getEntriesByType("navigation").length`);
    const loadsBefore = await navigations();

    await lab.nemesis.inject("stop-keepalived", "lb1");
    await shows(`document.getElementById("owner")?.dataset.owners === "lb2"`, "lb2 as the VIP's owner", 15_000);
    // keepalived's log line can arrive a little after the address change: wait for it, too
    await shows(`document.querySelector('.node[data-node="lb2"]')?.dataset.state === "MASTER"`, "lb2 MASTER", 5_000);
    expect(await page.getAttribute('.node[data-node="lb1"]', "data-holds")).toBe("false");
    expect(await page.textContent("#faults")).toContain("stop-keepalived lb1");
    expect(await navigations()).toBe(loadsBefore);
    await stream.stop();

    view.finish("report at /tmp/x/report.html");
    await shows(`document.getElementById("finished")?.textContent?.includes("report at /tmp/x/report.html")`, "the finish message", 5_000);
    console.log(`live view: owner followed lb1 → lb2 in Chromium; test took ${(performance.now() - started).toFixed(0)} ms`);
  });
});
