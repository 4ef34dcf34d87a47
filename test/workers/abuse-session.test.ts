import { SELF, env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sessionStub } from "../../src/worker/auth";
import { BASE, TestSocket, createSession, joinSession, settle, table } from "./helpers";

/** A value nested `depth` arrays deep, as JSON text (built without recursion). */
const deepJson = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const seqOf = async (s: TestSocket) => (await s.ok({ type: "GetSessionSnapshot" })).session.seq as number;

describe("a hostile participant cannot stall the session", () => {
  it("a client-chosen delay inside a Batch is refused at once; the write queue stays free", async () => {
    const t = await table();
    const stall = { type: "Batch", operations: [{ type: "Ping", delay_ms: 30_000 }] };
    const refused = await Promise.all([1, 2, 3].map((i) => t.spectator.request(stall, `s${i}`)));
    for (const r of refused) {
      expect(r).toMatchObject({ status: "error", code: "VALIDATION_ERROR" });
      expect(r.message).toContain("operations.0.delay_ms");
    }
    // The same with a write in the batch: nothing committed.
    const before = await seqOf(t.dm);
    const mixed = await t.dm.request({
      type: "Batch",
      operations: [
        { type: "CreateGoal", data: { name: "G" } },
        { type: "Ping", delay_ms: 10 },
      ],
    });
    expect(mixed).toMatchObject({ status: "error", code: "VALIDATION_ERROR" });
    expect(await seqOf(t.dm)).toBe(before);
    t.close();
  });

  it("slow reads never enter the write queue: a write sent after them is answered before them", async () => {
    const t = await table();
    const from = t.spectator.frames.length;
    for (let i = 0; i < 3; i++) t.spectator.send({ type: "Request", request_id: `slow-${i}`, payload: { type: "Ping", delay_ms: 1500 } });
    t.spectator.send({ type: "Request", request_id: "slow-batch", payload: { type: "Batch", operations: [{ type: "GetWorld" }, { type: "ListGoals" }] } });
    await settle(50);
    const goal = await t.dm.ok({ type: "CreateGoal", data: { name: "Quick" } });
    expect(goal.name).toBe("Quick");
    // When the DM's write is answered, none of the slow reads has been.
    const answered = t.spectator.frames
      .slice(from)
      .filter((f) => f.type === "Response")
      .map((f) => f.request_id);
    expect(answered).toEqual(["slow-batch"]); // a Batch of reads runs beside the queue too
    for (let i = 0; i < 3; i++) expect((await t.spectator.response(`slow-${i}`, from)).status).toBe("success");
    t.close();
  });

  it("caps the requests one participant has in progress (RATE_LIMITED), across its sockets", async () => {
    const t = await table();
    const second = await TestSocket.open(t.spectatorGrant);
    await second.join();
    const from = [t.spectator.frames.length, second.frames.length];
    // 20 + 20 slow reads from one participant: the cap is 32 in progress.
    for (let i = 0; i < 20; i++) {
      t.spectator.send({ type: "Request", request_id: `a${i}`, payload: { type: "Ping", delay_ms: 400 } });
      second.send({ type: "Request", request_id: `b${i}`, payload: { type: "Ping", delay_ms: 400 } });
    }
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => t.spectator.response(`a${i}`, from[0])),
      ...Array.from({ length: 20 }, (_, i) => second.response(`b${i}`, from[1])),
    ]);
    const limited = results.filter((r) => r.code === "RATE_LIMITED");
    expect(limited).toHaveLength(8);
    expect(limited[0].details).toMatchObject({ limit: 32 });
    expect(results.filter((r) => r.status === "success")).toHaveLength(32);
    second.close();
    t.close();
  });
});

describe("a hostile participant cannot poison the session", () => {
  it("free-form JSON fields are bounded in depth and size at validation; nothing is committed", async () => {
    const t = await table();
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Mine" } });
    const before = await seqOf(t.dm);
    const nested = (depth: number) => ({
      type: "AddInventoryItem",
      character_id: pc.id,
      data: { name: "Box", properties: { x: JSON.parse(deepJson(depth)) } },
    });
    const deep = await t.player.request(nested(3000));
    expect(deep).toMatchObject({ status: "error", code: "VALIDATION_ERROR" });
    expect(deep.message).toContain("properties");
    expect(deep.message).toContain("deeper than 8");
    const big = await t.player.request({ type: "AddInventoryItem", character_id: pc.id, data: { name: "Box", properties: { x: "y".repeat(20_000) } } });
    expect(big).toMatchObject({ status: "error", code: "VALIDATION_ERROR" });
    expect(big.message).toContain("larger than");
    const story = await t.dm.request({ type: "CreateStoryEvent", data: { summary: "S", details: { a: JSON.parse(deepJson(20)) } } });
    expect(story).toMatchObject({ status: "error", code: "VALIDATION_ERROR" });
    expect(await seqOf(t.dm)).toBe(before);
    // Within the limits it is accepted (depth 8 counting the properties object itself).
    const ok = await t.player.ok(nested(7));
    expect(JSON.stringify(ok.properties)).toBe(`{"x":${deepJson(7)}}`);
    t.close();
  });

  it("an event that cannot be serialized costs only its own frame: replay still ends in SessionJoined, live events still flow", async () => {
    const t = await table();
    await t.dm.ok({ type: "CreateGoal", data: { name: "Before" } });
    const poisoned = await seqOf(t.dm);
    // Stored poison (as an older engine could have committed it): too deep to redact or serialize.
    await env.DB.prepare("UPDATE events SET body = ? WHERE session_id = ? AND seq = ?")
      .bind(`{"type":"GoalCreated","goal":${deepJson(200_000)}}`, t.dmGrant.session_id, poisoned)
      .run();
    await t.dm.ok({ type: "CreateGoal", data: { name: "After" } });
    // A player's view must be redacted, which the poison defeats.
    const s = await TestSocket.open(t.playerGrant);
    const joined = await s.join(poisoned - 1);
    expect(joined.resume).toBe("replayed");
    expect(s.frames.find((f) => f.type === "Error")).toMatchObject({ code: "INTERNAL", details: { seq: poisoned } });
    expect(s.events("GoalCreated").map((e) => e.event.goal.name)).toEqual(["After"]);
    s.close();
    await t.dm.ok({ type: "CreateGoal", data: { name: "Live" } });
    await t.player.waitFor((f) => f.type === "Event" && f.event.type === "GoalCreated" && f.event.goal.name === "Live");
    t.close();
  });
});

describe("joins cannot amplify or spam", () => {
  it("a resume further back than the replay cap gets a snapshot instead of the events", async () => {
    const t = await table();
    await t.dm.ok({ type: "Batch", operations: Array.from({ length: 60 }, (_, i) => ({ type: "CreateGoal", data: { name: `G${i}` } })) });
    const s = await TestSocket.open(t.spectatorGrant);
    const joined = await s.join(0);
    expect(joined).toMatchObject({ resume: "snapshot", replayed_events: 0 });
    expect(s.events()).toHaveLength(0);
    // Within the cap it is a replay.
    const near = await TestSocket.open(t.spectatorGrant);
    expect((await near.join(joined.seq - 10)).resume).toBe("replayed");
    expect(near.events().length).toBeGreaterThan(0);
    s.close();
    near.close();
    t.close();
  });

  it("a second JoinSession on a joined socket is refused and commits nothing", async () => {
    const t = await table();
    const before = await seqOf(t.dm);
    const from = t.player.frames.length;
    for (let i = 0; i < 3; i++) t.player.send({ type: "JoinSession", last_seq: 0 });
    await t.player.waitFor((f) => f.type === "Error", 5000, from);
    await settle(200);
    const errors = t.player.frames.slice(from).filter((f) => f.type === "Error");
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatchObject({ code: "CONFLICT", details: { reason: "already_joined" } });
    expect(t.player.frames.slice(from).filter((f) => f.type === "SessionJoined" || f.type === "Event")).toHaveLength(0);
    expect(await seqOf(t.dm)).toBe(before);
    t.close();
  });

  it("events committed while a socket joins reach it exactly once, in order", async () => {
    const t = await table();
    await t.dm.ok({ type: "Batch", operations: Array.from({ length: 30 }, (_, i) => ({ type: "CreateGoal", data: { name: `A${i}` } })) });
    const lastSeq = (await seqOf(t.dm)) - 30;
    const s = await TestSocket.open(t.playerGrant);
    const writes = Array.from({ length: 10 }, (_, i) => t.dm.ok({ type: "CreateGoal", data: { name: `B${i}` } }));
    await s.join(lastSeq);
    await Promise.all(writes);
    const end = await seqOf(t.dm);
    await s.waitFor((f) => f.type === "Event" && f.seq === end);
    const seqs = s.events().map((e) => e.seq);
    // Every event is visible to the player: each seq once, in order, no gap.
    expect(seqs).toEqual(Array.from({ length: end - lastSeq }, (_, i) => lastSeq + 1 + i));
    expect(s.events("GoalCreated")).toHaveLength(40);
    s.close();
    t.close();
  });
});

describe("admission and metering", () => {
  it("a participant at its socket cap is refused (503, retryable) until one of its sockets goes stale, which is then replaced (4010)", async () => {
    const g = await createSession();
    const spectator = await joinSession(g.invite_code, "Many", "spectator");
    const sockets: TestSocket[] = [];
    for (let i = 0; i < 8; i++) sockets.push(await TestSocket.open(spectator));
    await sockets[7]!.join(); // a sign of life
    const refused = await TestSocket.upgrade(g.session_id, spectator.token);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: "UNAVAILABLE", retryable: true, details: { reason: "too_many_connections", limit: 8 } });
    // A minute later the seven silent sockets count as dead links: the new one takes the place of the oldest.
    const real = Date.now.bind(Date);
    vi.spyOn(Date, "now").mockImplementation(() => real() + 61_000);
    sockets.push(await TestSocket.open(spectator));
    expect(await sockets[0]!.waitClosed()).toMatchObject({ code: 4010 });
    expect(sockets[0]!.frames[0]).toMatchObject({ type: "Error", code: "CONFLICT", details: { reason: "replaced" } });
    expect(sockets.slice(1).every((s) => s.closed === null)).toBe(true);
    vi.restoreAllMocks();
    const dm = await TestSocket.open(g);
    expect((await dm.join()).type).toBe("SessionJoined");
    [...sockets, dm].forEach((s) => s.close());
  });

  it("every inbound frame is metered per participant: junk and Acks too", async () => {
    const t = await table();
    const from = t.spectator.frames.length;
    for (let i = 0; i < 80; i++) t.spectator.send({ type: "Ack", seq: 1, pad: "x".repeat(40_000) });
    for (let i = 0; i < 80; i++) t.spectator.send("not json");
    await t.spectator.waitFor((f) => f.type === "Error" && f.code === "RATE_LIMITED", 5000, from);
    await settle(200);
    const errors = t.spectator.frames.slice(from).filter((f) => f.type === "Error");
    expect(errors.filter((f) => f.code === "RATE_LIMITED").length).toBeGreaterThan(40);
    expect(errors.find((f) => f.code === "RATE_LIMITED")!.details.retry_after_ms).toBeGreaterThan(0);
    // Another participant is not affected.
    expect((await t.player.request({ type: "Ping" })).status).toBe("success");
    t.close();
  });
});

describe("logging", () => {
  afterEach(() => vi.restoreAllMocks());

  it("refused requests are counted under their operation, not 'unknown'", async () => {
    const t = await table();
    expect((await t.player.request({ type: "CreateGoal", data: { name: "X" } })).code).toBe("FORBIDDEN");
    expect((await t.dm.request({ type: "CreateGoal", data: {} })).code).toBe("VALIDATION_ERROR");
    // Counters are flushed by a scheduler duty 5 s after activity: move the clock past it.
    const real = Date.now.bind(Date);
    vi.spyOn(Date, "now").mockImplementation(() => real() + 6_000);
    expect(await runDurableObjectAlarm(sessionStub(env, t.dmGrant.session_id))).toBe(true);
    const res = await SELF.fetch(`${BASE}/metrics`, { headers: { authorization: "Bearer test-metrics-token" } });
    const text = await res.text();
    expect(text).toContain('wrldbldr_requests_total{op="CreateGoal",code="FORBIDDEN"}');
    expect(text).toContain('wrldbldr_requests_total{op="CreateGoal",code="VALIDATION_ERROR"}');
    t.close();
  });
});
