import { describe, expect, it } from "vitest";
import { HANDLERS } from "../../src/domain/registry";
import { ERROR_CATALOGUE, OPERATION_TYPES } from "../../src/protocol";
import { TestSocket, createSession, settle } from "./helpers";

async function dmSocket() {
  const g = await createSession();
  const s = await TestSocket.open(g);
  await s.join();
  return s;
}

describe("wire protocol", () => {
  it("every operation in the catalogue has a handler (Batch is the router's)", () => {
    const missing = OPERATION_TYPES.filter((t) => t !== "Batch" && !(t in HANDLERS));
    expect(missing).toEqual([]);
  });

  it("the error catalogue is closed with fixed retryable flags", () => {
    const retryable = Object.entries(ERROR_CATALOGUE)
      .filter(([, v]) => v.retryable)
      .map(([k]) => k)
      .sort();
    expect(retryable).toEqual(["INTERNAL", "RATE_LIMITED", "TIMEOUT", "UNAVAILABLE"]);
  });

  it("bad JSON gets an Error frame and the socket stays usable", async () => {
    const s = await dmSocket();
    const from = s.frames.length;
    s.send("{not json");
    const err = await s.waitFor((f) => f.type === "Error", 5000, from);
    expect(err.code).toBe("BAD_FRAME");
    expect(err.retryable).toBe(false);
    expect((await s.request({ type: "Ping" })).status).toBe("success");
    s.close();
  });

  it("a Request without a usable request_id gets BAD_FRAME; an unknown frame type too", async () => {
    const s = await dmSocket();
    let from = s.frames.length;
    s.send({ type: "Request", payload: { type: "Ping" } });
    expect((await s.waitFor((f) => f.type === "Error", 5000, from)).code).toBe("BAD_FRAME");
    from = s.frames.length;
    s.send({ type: "Shout" });
    expect((await s.waitFor((f) => f.type === "Error", 5000, from)).code).toBe("BAD_FRAME");
    from = s.frames.length;
    s.ws.send(new Uint8Array([1, 2, 3]));
    expect((await s.waitFor((f) => f.type === "Error", 5000, from)).message).toMatch(/binary/);
    s.close();
  });

  it("an unknown payload type is UNKNOWN_REQUEST", async () => {
    const s = await dmSocket();
    const r = await s.request({ type: "SummonDragon" });
    expect(r).toMatchObject({ status: "error", code: "UNKNOWN_REQUEST", retryable: false });
    s.close();
  });

  it("an invalid field is VALIDATION_ERROR naming the field, and changes nothing", async () => {
    const s = await dmSocket();
    const r = await s.request({ type: "CreateCharacter", data: { kind: "npc", name: "" } });
    expect(r.code).toBe("VALIDATION_ERROR");
    expect(r.message).toContain("payload.data.name");
    expect(r.details.issues[0].path).toBe("payload.data.name");
    const typo = await s.request({ type: "CreateCharacter", data: { kind: "npc", name: "Ok", descripton: "typo" } });
    expect(typo.code).toBe("VALIDATION_ERROR");
    expect(JSON.stringify(typo.details)).toContain("descripton");
    const missingPayload = await s.request(undefined as never);
    expect(missingPayload.code).toBe("VALIDATION_ERROR");
    const list = await s.ok({ type: "ListCharacters" });
    expect(list.items).toHaveLength(0);
    expect(s.events("CharacterCreated")).toHaveLength(0);
    s.close();
  });

  it("a world_id other than the session's is FORBIDDEN", async () => {
    const s = await dmSocket();
    const r = await s.request({ type: "ListCharacters", world_id: "some-other-world" });
    expect(r.code).toBe("FORBIDDEN");
    const snap = await s.ok({ type: "GetSessionSnapshot" });
    expect((await s.request({ type: "ListCharacters", world_id: snap.world.id })).status).toBe("success");
    s.close();
  });

  it("an oversize frame is PAYLOAD_TOO_LARGE; a Batch may be larger", async () => {
    const s = await dmSocket();
    const big = "x".repeat(70 * 1024);
    const r = await s.request({ type: "CreateCharacter", data: { kind: "npc", name: "Big", description: big } });
    expect(r).toMatchObject({ status: "error", code: "PAYLOAD_TOO_LARGE" });
    // 70 KiB in a Batch frame is within the 1 MiB batch limit (the field's own limit then applies).
    const b = await s.request({
      type: "Batch",
      operations: [{ type: "Ping" }, { type: "CreateCharacter", data: { kind: "npc", name: "B", description: "y".repeat(19_000) } }],
      pad: big,
    });
    expect(b.code).toBe("VALIDATION_ERROR"); // unknown key 'pad' — but it was parsed, not refused for size
    const huge = JSON.stringify({
      type: "Request",
      request_id: "huge-1",
      payload: { type: "Batch", operations: [{ type: "Ping" }], pad: "z".repeat(1100 * 1024) },
    });
    const from = s.frames.length;
    s.send(huge);
    expect((await s.response("huge-1", from)).code).toBe("PAYLOAD_TOO_LARGE");
    expect((await s.request({ type: "Ping" })).status).toBe("success");
    s.close();
  });

  it("frame limits count UTF-8 bytes, not characters", async () => {
    const s = await dmSocket();
    // 30,000 × "é" = 60,000 bytes: under 64 KiB, so the frame is read (and the unknown key refused).
    expect((await s.request({ type: "Ping", pad: "é".repeat(30_000) })).code).toBe("VALIDATION_ERROR");
    // 33,000 × "é" = 66,000 bytes in only 33,000 characters: over 64 KiB.
    expect((await s.request({ type: "Ping", pad: "é".repeat(33_000) })).code).toBe("PAYLOAD_TOO_LARGE");
    s.close();
  });

  it("too many requests get RATE_LIMITED with retry_after_ms; the socket stays usable", async () => {
    const s = await dmSocket();
    const n = 160;
    const from = s.frames.length;
    for (let i = 0; i < n; i++) s.send({ type: "Request", request_id: `burst-${i}`, payload: { type: "Ping" } });
    await s.waitFor((f) => f.type === "Response" && f.request_id === `burst-${n - 1}`, 10_000, from);
    await settle(100);
    const responses = s.frames.slice(from).filter((f) => f.type === "Response" && f.request_id.startsWith("burst-"));
    expect(responses).toHaveLength(n); // exactly one response per request
    const limited = responses.filter((f) => f.result.code === "RATE_LIMITED");
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.result.retryable).toBe(true);
    expect(limited[0]!.result.details.retry_after_ms).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await s.request({ type: "Ping" })).status).toBe("success");
    s.close();
  });

  it("a handler slower than the server timeout answers TIMEOUT (retryable)", async () => {
    const s = await dmSocket();
    const r = await s.request({ type: "Ping", delay_ms: 4000 });
    expect(r).toMatchObject({ status: "error", code: "TIMEOUT", retryable: true });
    s.close();
  });

  it("the text frame ping is answered pong by the runtime", async () => {
    const s = await dmSocket();
    const from = s.frames.length;
    s.send("ping");
    await s.waitFor((f) => f.type === "pong", 5000, from);
    s.close();
  });

  it("a result larger than the outbound frame limit arrives as ResponseChunks, then the Response", async () => {
    const s = await dmSocket();
    const ops = Array.from({ length: 4 }, (_, i) => ({ type: "CreateCharacter", data: { kind: "npc", name: `Long ${i}`, description: "é".repeat(15_000) } }));
    await s.ok({ type: "Batch", operations: ops });
    const from = s.frames.length;
    const list = await s.request({ type: "ListCharacters" }, "chunky");
    const chunks = s.frames.slice(from).filter((f) => f.type === "ResponseChunk");
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((c) => c.total === chunks.length)).toBe(true);
    expect(list.status).toBe("success");
    expect(list.data.items).toHaveLength(4);
    expect(list.data.items[0].description).toBe("é".repeat(15_000));
    s.close();
  });
});
