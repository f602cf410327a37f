import { describe, expect, it } from "vitest";
import { decodePayload, encodePayload, grpcFrame, readGrpcFrame } from "./nacos-grpc.ts";
import { parseUpstreamAddr } from "./nacos-workload.ts";

describe("Nacos gRPC payloads", () => {
  it("encodes Payload { metadata { type }, body: Any { value: json } } as protobuf", () => {
    const bytes = encodePayload("ServerCheckRequest", { module: "internal" });
    // field 2 (metadata), length 20: field 3 (type) "ServerCheckRequest"; field 3 (body): field 2 (value) the JSON.
    expect([...bytes.subarray(0, 4)]).toEqual([0x12, 20, 0x1a, 18]);
    expect(bytes.subarray(4, 22).toString()).toBe("ServerCheckRequest");
    expect([...bytes.subarray(22, 26)]).toEqual([0x1a, 23, 0x12, 21]);
    expect(bytes.subarray(26).toString()).toBe('{"module":"internal"}');
  });

  it("decodes what it encodes, skipping fields it does not know", () => {
    const reply = encodePayload("ServerCheckResponse", { resultCode: 200, connectionId: "1732_10.0.0.5_1" }, "10.0.0.5");
    const withExtra = Buffer.concat([Buffer.from([0x08, 0x96, 0x01]), reply]); // a varint field 1 = 150 first
    expect(decodePayload(withExtra)).toEqual({ type: "ServerCheckResponse", body: '{"resultCode":200,"connectionId":"1732_10.0.0.5_1"}' });
  });

  it("frames and unframes a gRPC message", () => {
    const frame = grpcFrame(Buffer.from("abc"));
    expect([...frame]).toEqual([0, 0, 0, 0, 3, 97, 98, 99]);
    expect(readGrpcFrame(frame)?.toString()).toBe("abc");
    expect(readGrpcFrame(frame.subarray(0, 6))).toBeUndefined();
    expect(() => readGrpcFrame(Buffer.from([1, 0, 0, 0, 0]))).toThrow(/compressed/);
  });

  it("rejects a truncated message", () => {
    expect(() => decodePayload(Buffer.from([0x12, 10, 0x1a]))).toThrow(/truncated/);
  });
});

describe("X-Lab-Upstream", () => {
  it("lists the members nginx tried, in order", () => {
    expect(parseUpstreamAddr("10.213.0.33:8848, 10.213.0.31:8848")).toEqual(["10.213.0.33:8848", "10.213.0.31:8848"]);
    expect(parseUpstreamAddr("10.213.0.31:8848 : 10.213.0.32:8848")).toEqual(["10.213.0.31:8848", "10.213.0.32:8848"]);
    expect(parseUpstreamAddr("")).toEqual([]);
  });
});
