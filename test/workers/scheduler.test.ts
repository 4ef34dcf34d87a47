import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { GameSession } from "../../src/session/GameSession";
import { Scheduler, type Entry } from "../../src/session/scheduler";
import { sessionStub } from "../../src/worker/auth";
import { signToken } from "../../src/worker/tokens";
import { TestSocket, createSession, settle, table } from "./helpers";

/** An object with no session behind it: its own alarm() does nothing, so the test drives the scheduler. */
const bareObject = (name: string) => env.GAME_SESSION.get(env.GAME_SESSION.idFromName(`scheduler-test-${name}`));

/** Moves the clock of the test and of the objects (one isolate) forward. */
function advanceClock(ms: number) {
  const real = Date.now.bind(Date);
  vi.spyOn(Date, "now").mockImplementation(() => real() + ms);
}

afterEach(() => vi.restoreAllMocks());

/** The session object's entry of this id, if any. */
function scheduled(sessionId: string, id: string): Promise<Entry | undefined> {
  return runInDurableObject(sessionStub(env, sessionId), (instance: GameSession) => (instance as unknown as { scheduler: Scheduler }).scheduler.get(id));
}

describe("Scheduler", () => {
  it("persists entries by id, runs only what is due, and arms the one alarm for the earliest left", async () => {
    await runInDurableObject(bareObject("basics"), async (_instance, state) => {
      const ran: string[] = [];
      const s = new Scheduler(state.storage, { note: (data) => void ran.push(String(data)) }, { maxAttempts: 3 });
      const t0 = Date.now();
      s.schedule("a", "note", t0 + 60_000, "a1");
      s.schedule("a", "note", t0 + 30_000, "a2"); // same id: replaced
      s.schedule("b", "note", t0 + 10_000, "b");
      s.schedule("c", "note", t0 + 90_000, "c", "earliest"); // new: kept
      s.schedule("c", "note", t0 + 120_000, "c-later", "earliest"); // later than the existing one: ignored
      expect(s.get("a")).toMatchObject({ due: t0 + 30_000, data: "a2" });
      expect(s.get("c")).toMatchObject({ due: t0 + 90_000, data: "c" });
      expect(await state.storage.getAlarm()).toBe(t0 + 10_000);

      await s.run(t0 + 10_000);
      expect(ran).toEqual(["b"]);
      expect(s.get("b")).toBeUndefined();
      expect(await state.storage.getAlarm()).toBe(t0 + 30_000);

      await s.run(t0 + 100_000);
      expect(ran).toEqual(["b", "a2", "c"]);
      expect(await state.storage.getAlarm()).toBeNull();
      // Entries live in storage: another instance (a wake after eviction) sees them.
      s.schedule("d", "note", t0 + 200_000, "d");
      const again = new Scheduler(state.storage, {}, { maxAttempts: 3 });
      expect(again.list("note").map((e) => e.id)).toEqual(["d"]);
      s.cancel("d");
      expect(again.get("d")).toBeUndefined();
      expect(await state.storage.getAlarm()).toBeNull();
    });
  });

  it("a new instance (a wake) knows the stored entries: 'earliest' keeps a stored earlier due, and the alarm is armed for them", async () => {
    await runInDurableObject(bareObject("wake"), async (_instance, state) => {
      const t0 = Date.now();
      new Scheduler(state.storage, {}, { maxAttempts: 3 }).schedule("flush", "note", t0 + 10_000, "first");
      const ran: string[] = [];
      const woken = new Scheduler(state.storage, { note: (data) => void ran.push(String(data)) }, { maxAttempts: 3 });
      woken.schedule("flush", "note", t0 + 60_000, "later", "earliest"); // the stored one is sooner: kept
      expect(woken.get("flush")).toMatchObject({ due: t0 + 10_000, data: "first" });
      woken.schedule("other", "note", t0 + 30_000, "other");
      expect(await state.storage.getAlarm()).toBe(t0 + 10_000);
      woken.cancel("flush");
      expect(await state.storage.getAlarm()).toBe(t0 + 30_000);
      woken.schedule("flush", "note", t0 + 20_000, "again", "earliest"); // cancelled: scheduled anew
      await woken.run(t0 + 25_000);
      expect(ran).toEqual(["again"]);
      expect(await state.storage.getAlarm()).toBe(t0 + 30_000);
    });
  });

  it("retries a failing duty with exponential backoff, then drops it (logged); a duty may schedule its own id again", async () => {
    await runInDurableObject(bareObject("retries"), async (_instance, state) => {
      let calls = 0;
      const seen: Entry[] = [];
      const s = new Scheduler(
        state.storage,
        {
          flaky: (_d, e) => {
            calls++;
            seen.push(e);
            throw new Error("provider down");
          },
          again: (n: number) => {
            if (n < 3) s.schedule("loop", "again", 0, n + 1);
          },
        },
        { maxAttempts: 3, backoffBaseMs: 1000 },
      );
      const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
      s.schedule("f", "flaky", 0);
      await s.run(10);
      expect(s.get("f")).toMatchObject({ attempts: 1, due: 10 + 1000 });
      await s.run(500); // not due yet
      expect(calls).toBe(1);
      await s.run(1010);
      expect(s.get("f")).toMatchObject({ attempts: 2, due: 1010 + 2000 });
      await s.run(3010);
      expect(calls).toBe(3);
      expect(s.get("f")).toBeUndefined(); // dropped after maxAttempts
      expect(seen.map((e) => e.attempts)).toEqual([0, 1, 2]);
      expect(errors.mock.calls.map((c) => JSON.parse(String(c[0])).msg)).toEqual(["duty failed", "duty failed", "duty dropped"]);

      s.schedule("loop", "again", 0, 0);
      for (let i = 0; i < 5; i++) await s.run(i + 1);
      expect(s.get("loop")).toBeUndefined(); // ran 0 → 1 → 2 → 3, then was done
      // An entry of a kind nobody handles is dropped at once, not retried forever.
      s.schedule("ghost", "no.such.kind", 0);
      await s.run(1);
      expect(s.get("ghost")).toBeUndefined();
    });
  });
});

describe("the session's duties run from its one alarm", () => {
  it("metrics are flushed by a scheduled entry, not by a bare setAlarm", async () => {
    const g = await createSession();
    const dm = await TestSocket.open(g);
    await dm.join();
    await dm.ok({ type: "Ping" });
    const stub = sessionStub(env, g.session_id);
    const entry = await scheduled(g.session_id, "metrics.flush");
    expect(entry).toMatchObject({ kind: "metrics.flush" });
    expect(entry!.due).toBeGreaterThan(Date.now());
    advanceClock(6_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const row = await env.DB.prepare("SELECT SUM(count) AS n FROM op_metrics WHERE session_id = ? AND op = 'Ping'").bind(g.session_id).first<{ n: number }>();
    expect(row?.n).toBeGreaterThanOrEqual(1);
    expect(await scheduled(g.session_id, "metrics.flush")).toBeUndefined();
    dm.close();
  });

  it("log retention runs as a duty every 200 events", async () => {
    const t = await table();
    // An old request-log entry: retention removes it (older than REQUEST_LOG_TTL_SECONDS).
    await env.DB.prepare("INSERT INTO request_log (session_id, participant_id, request_id, response, created_at) VALUES (?, ?, 'ancient', 'null', 0)")
      .bind(t.dmGrant.session_id, t.dmGrant.participant_id)
      .run();
    const ops = (from: number) => Array.from({ length: 100 }, (_, i) => ({ type: "CreateGoal", data: { name: `G${from + i}` } }));
    await t.dm.ok({ type: "Batch", operations: ops(0) });
    await t.dm.ok({ type: "Batch", operations: ops(100) });
    const stub = sessionStub(env, t.dmGrant.session_id);
    await runDurableObjectAlarm(stub); // false when the alarm already ran (or is running) by itself
    const left = () =>
      env.DB.prepare("SELECT COUNT(*) AS n FROM request_log WHERE session_id = ? AND request_id = 'ancient'").bind(t.dmGrant.session_id).first<{ n: number }>();
    await vi.waitFor(async () => expect((await left())?.n).toBe(0), { timeout: 5000 });
    t.close();
  });
});

describe("socket timers", () => {
  it("a socket whose token expires is closed with 4001 at expiry, even if it never sends anything", async () => {
    const t = await table();
    const exp = Math.ceil(Date.now() / 1000) + 1;
    const token = await signToken(env.AUTH_SECRET!, { sid: t.playerGrant.session_id, pid: t.playerGrant.participant_id, role: "player", iat: exp - 60, exp });
    const short = await TestSocket.open({ session_id: t.playerGrant.session_id, token });
    await short.join();
    await t.dm.ok({ type: "CreateGoal", data: { name: "Before expiry" } });
    await short.waitFor((f) => f.type === "Event" && f.event.type === "GoalCreated");
    await settle(exp * 1000 - Date.now() + 50);
    await runDurableObjectAlarm(sessionStub(env, t.dmGrant.session_id)); // false when it already fired by itself
    expect((await short.waitClosed()).code).toBe(4001);
    expect(short.frames.find((f) => f.type === "Error")).toMatchObject({ code: "UNAUTHENTICATED" });
    // Live events stop; the others' sockets (longer tokens) stay.
    await t.dm.ok({ type: "CreateGoal", data: { name: "After expiry" } });
    await t.player.waitFor((f) => f.type === "Event" && f.event.type === "GoalCreated" && f.event.goal.name === "After expiry");
    expect(short.events("GoalCreated")).toHaveLength(1);
    expect(t.player.closed).toBeNull();
    t.close();
  });

  it("a socket that does not send JoinSession within JOIN_TIMEOUT_MS is closed with 4008", async () => {
    const g = await createSession();
    const joined = await TestSocket.open(g);
    await joined.join();
    const idle = await TestSocket.open(g);
    const stub = sessionStub(env, g.session_id);
    const entry = (await scheduled(g.session_id, "sockets.sweep"))!;
    expect(entry.due - Date.now()).toBeGreaterThan(8_000); // JOIN_TIMEOUT_MS defaults to 10 s
    expect(entry.due - Date.now()).toBeLessThanOrEqual(10_000);
    advanceClock(10_500);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await idle.waitClosed()).code).toBe(4008);
    expect(idle.frames).toEqual([expect.objectContaining({ type: "Error", code: "TIMEOUT", details: { reason: "join_timeout", limit_ms: 10_000 } })]);
    expect(joined.closed).toBeNull();
    expect((await joined.ok({ type: "Ping" })).pong).toBe(true);
    // The sweep is scheduled again for the next deadline: the joined socket's token expiry.
    const next = (await scheduled(g.session_id, "sockets.sweep"))!;
    expect(next.due).toBeGreaterThan(Date.now() + 60_000);
    joined.close();
  });
});
