/**
 * The live web view: an HTTP server on 127.0.0.1 only, serving the projector page (`/`) and a
 * stream of server-sent events (`/events`) with the lab's live state, fed by `history.subscribe`.
 * A state is pushed at once when a VIP, a VRRP state or a fault changes, and at least every 250 ms
 * while anything does (requests). Nothing here listens on another interface.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Lang } from "../demo/messages.ts";
import { EnvironmentError } from "../errors.ts";
import type { Lab } from "../lab.ts";
import { LiveState } from "./live-state.ts";
import { livePage } from "./web-page.ts";

export const WEB_VIEW_HOST = "127.0.0.1";
export const DEFAULT_WEB_VIEW_PORT = 7300;

export interface WebViewOptions {
  /** Port on 127.0.0.1; 0 picks a free one. Default 7300. */
  port?: number;
  lang?: Lang;
}

export class WebView implements AsyncDisposable {
  readonly url: string;
  private readonly server: Server;
  private readonly clients = new Set<ServerResponse>();
  private state: LiveState | undefined;
  private lab: Lab | undefined;
  private unsubscribe: (() => void) | undefined;
  private finished: string | null = null;
  private dirty = false;
  private urgent: NodeJS.Immediate | undefined;
  private readonly timer: NodeJS.Timeout;

  private constructor(server: Server, url: string) {
    this.server = server;
    this.url = url;
    this.timer = setInterval(() => {
      if (this.dirty) this.push();
    }, 250);
    this.timer.unref();
  }

  static async start(options: WebViewOptions = {}): Promise<WebView> {
    const page = livePage(options.lang ?? "en");
    const port = options.port ?? DEFAULT_WEB_VIEW_PORT;
    if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new EnvironmentError(`Expected the web view's port to be an integer 0–65535, got ${port}`);
    let view: WebView | undefined;
    const server = createServer((req, res) => view?.handle(req, res, page));
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          new EnvironmentError(`The live view cannot listen on ${WEB_VIEW_HOST}:${port}: ${err.code ?? err.message}`, {
            remedy: err.code === "EADDRINUSE" ? `Something else uses port ${port}; pick another with --port N (0: any free port).` : "Pick another port with --port N.",
            cause: err,
          }),
        ),
      );
      server.listen(port, WEB_VIEW_HOST, () => resolve());
    });
    const address = server.address() as AddressInfo;
    view = new WebView(server, `http://${WEB_VIEW_HOST}:${address.port}/`);
    return view;
  }

  /** Show this lab: its load balancers and VIPs, everything it has recorded so far, and every op from now on. */
  attach(lab: Lab): void {
    this.unsubscribe?.();
    this.lab = lab;
    const state = new LiveState([...lab.topology.lbs, ...lab.topology.directors].map((n) => n.name), lab.topology.vrrp.instances.flatMap((i) => i.vips));
    for (const op of lab.history.ops()) state.apply(op);
    this.state = state;
    this.unsubscribe = lab.history.subscribe((op) => {
      state.apply(op);
      this.dirty = true;
      if (op.f !== "request") this.pushSoon();
    });
    this.pushSoon();
  }

  /** The run is over: say so (e.g. where the report is) and stop following the lab. */
  finish(message: string): void {
    this.finished = message;
    this.state?.finish(message);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.push();
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    clearInterval(this.timer);
    if (this.urgent) clearImmediate(this.urgent);
    for (const c of this.clients) c.end();
    this.clients.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse, page: string): void {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") {
      res.writeHead(405, { allow: "GET" }).end();
    } else if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(page);
    } else if (path === "/events") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      res.write("retry: 1000\n\n");
      this.clients.add(res);
      req.on("close", () => this.clients.delete(res));
      const snapshot = this.snapshotJson();
      if (snapshot) res.write(`event: state\ndata: ${snapshot}\n\n`);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  }

  private snapshotJson(): string | undefined {
    if (!this.state || !this.lab) return this.finished ? JSON.stringify({ finished: this.finished }) : undefined;
    const now = this.unsubscribe ? this.lab.clock.nowMs() : undefined;
    return JSON.stringify(this.state.snapshot(now));
  }

  private pushSoon(): void {
    this.urgent ??= setImmediate(() => {
      this.urgent = undefined;
      this.push();
    });
  }

  private push(): void {
    this.dirty = false;
    const data = this.snapshotJson();
    if (!data) return;
    for (const c of this.clients) c.write(`event: state\ndata: ${data}\n\n`);
  }
}
