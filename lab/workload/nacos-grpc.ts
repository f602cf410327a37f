/**
 * The smallest real Nacos 2.x gRPC call: `ServerCheckRequest` on the client gRPC port (HTTP + 1000,
 * 9848), the first thing every Nacos 2.x client sends before it opens its stream. It proves that
 * the port answers through the load balancers' `stream` upstream.
 *
 * gRPC is HTTP/2 with length-prefixed protobuf messages, so node:http2 and a few lines of protobuf
 * suffice (no gRPC library). Nacos' service (api/src/main/proto/nacos_grpc_service.proto, no package):
 *   message Metadata { string type = 3; string clientIp = 8; map<string, string> headers = 7; }
 *   message Payload  { Metadata metadata = 2; google.protobuf.Any body = 3; }
 *   service Request  { rpc request (Payload) returns (Payload); }
 * The body's Any carries the request as JSON in its `value` (field 2).
 */
import { connect } from "node:http2";

/** A protobuf length-delimited field: tag (field << 3 | 2), varint length, bytes. */
function lengthDelimited(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

/** Payload { metadata { type, clientIp }, body: Any { value: json } }. */
export function encodePayload(type: string, json: unknown, clientIp = ""): Buffer {
  const metadata = Buffer.concat([lengthDelimited(3, Buffer.from(type)), ...(clientIp ? [lengthDelimited(8, Buffer.from(clientIp))] : [])]);
  const body = lengthDelimited(2, Buffer.from(JSON.stringify(json)));
  return Buffer.concat([lengthDelimited(2, metadata), lengthDelimited(3, body)]);
}

/** The length-delimited fields of one protobuf message, by field number (other wire types skipped). */
function fields(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let i = 0;
  const readVarint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length) throw new Error("truncated varint");
      const b = buf[i++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 49) throw new Error("varint too long");
    }
  };
  while (i < buf.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 2) {
      const len = readVarint();
      if (i + len > buf.length) throw new Error("truncated field");
      out.set(field, buf.subarray(i, i + len));
      i += len;
    } else if (wire === 0) readVarint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

/** The type and JSON body of a Payload. */
export function decodePayload(buf: Buffer): { type: string; body: string } {
  const payload = fields(buf);
  const metadata = fields(payload.get(2) ?? Buffer.alloc(0));
  const any = fields(payload.get(3) ?? Buffer.alloc(0));
  return { type: (metadata.get(3) ?? Buffer.alloc(0)).toString("utf8"), body: (any.get(2) ?? Buffer.alloc(0)).toString("utf8") };
}

/** One gRPC message frame: compressed flag 0, 4-byte big-endian length, the message. */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** The first message of a gRPC response body. */
export function readGrpcFrame(data: Buffer): Buffer | undefined {
  if (data.length < 5) return undefined;
  if (data[0] !== 0) throw new Error("compressed gRPC messages are not supported");
  const len = data.readUInt32BE(1);
  return data.length >= 5 + len ? data.subarray(5, 5 + len) : undefined;
}

export interface ServerCheckAnswer {
  /** grpc-status (0 = OK). */
  grpcStatus: number;
  grpcMessage?: string;
  /** Response type, e.g. ServerCheckResponse, and its JSON body. */
  type?: string;
  body?: string;
}

/** An error with the socket's code or the timeout's name, so the caller can classify it like HTTP errors. */
class GrpcCallError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, name = "Error") {
    super(message);
    this.code = code;
    this.name = name;
  }
}

/** ServerCheckRequest over a new HTTP/2 connection to `host:port`, at most `timeoutMs`. */
export function grpcServerCheck(host: string, port: number, timeoutMs: number): Promise<ServerCheckAnswer> {
  return new Promise<ServerCheckAnswer>((resolve, reject) => {
    const session = connect(`http://${host}:${port}`);
    let settled = false;
    const finish = (err: Error | undefined, answer?: ServerCheckAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      if (err) reject(err);
      else resolve(answer!);
    };
    const timer = setTimeout(() => finish(new GrpcCallError(`no gRPC answer within ${timeoutMs} ms`, undefined, "TimeoutError")), timeoutMs);
    session.on("error", (err: NodeJS.ErrnoException) => finish(new GrpcCallError(err.message, err.code)));
    const req = session.request({ ":method": "POST", ":path": "/Request/request", "content-type": "application/grpc", te: "trailers" });
    const chunks: Buffer[] = [];
    let headers: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    req.on("response", (h) => (headers = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("error", (err: NodeJS.ErrnoException) => finish(new GrpcCallError(err.message, err.code)));
    req.on("end", () => {
      const status = trailers["grpc-status"] ?? headers["grpc-status"];
      const message = trailers["grpc-message"] ?? headers["grpc-message"];
      if (status === undefined) return finish(new GrpcCallError(`no grpc-status (HTTP ${String(headers[":status"])})`, "ERR_GRPC_NO_STATUS"));
      const answer: ServerCheckAnswer = { grpcStatus: Number(status), ...(message !== undefined ? { grpcMessage: decodeURIComponent(String(message)) } : {}) };
      try {
        const frame = readGrpcFrame(Buffer.concat(chunks));
        if (frame) Object.assign(answer, decodePayload(frame));
      } catch (err) {
        return finish(new GrpcCallError(`undecodable gRPC answer: ${(err as Error).message}`, "ERR_GRPC_DECODE"));
      }
      finish(undefined, answer);
    });
    req.end(grpcFrame(encodePayload("ServerCheckRequest", { headers: {}, module: "internal" })));
  });
}
