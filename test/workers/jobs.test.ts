/**
 * Jobs, with kinds declared here: the test and the session object share one module graph under
 * vitest-pool-workers, so kinds added to the registry here are seen by the object's runner.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { create } from "../../src/engine/store";
import { defineJobKind } from "../../src/engine/jobs";
import { JOB_KINDS } from "../../src/domain/registry";
import { ALL } from "../../src/engine/tx";
import { goals } from "../../src/domain/world-tables";
import { AppError, type Goal } from "../../src/protocol";
import { sessionStub } from "../../src/worker/auth";
import { TestSocket, settle, table } from "./helpers";

type Deferred = { promise: Promise<string>; resolve: (v: string) => void };
const deferred = (): Deferred => {
  let resolve!: (v: string) => void;
  const promise = new Promise<string>((r) => (resolve = r));
  return { promise, resolve };
};

/** Per key: the open gate of the latest run, how many runs started, whether a run saw its signal abort. */
const gates = new Map<string, Deferred>();
const runs = new Map<string, number>();
const aborted = new Set<string>();

const GateInput = z.object({ key: z.string() });

/** Streams two deltas, then waits for the test to open its gate; its result names a goal it creates. */
function gateKind(kind: string, onRestart: "resume" | "fail") {
  return JOB_KINDS.add(
    defineJobKind({
      kind,
      input: GateInput,
      events: ["GoalCreated"],
      onRestart,
      startable: "play",
      async run({ key }, ctx) {
        runs.set(key, (runs.get(key) ?? 0) + 1);
        ctx.signal.addEventListener("abort", () => aborted.add(key));
        ctx.stream.send("Hel");
        ctx.stream.send("lo");
        const gate = deferred();
        gates.set(key, gate);
        return { text: await gate.promise };
      },
      complete(ctx, output: { text: string }) {
        const goal = create<Goal>({ world_id: ctx.session.worldId, name: output.text, description: `from job ${ctx.job.id}` }, ctx.now);
        ctx.tx.write(goals.insert(ctx.db, { session_id: ctx.session.sessionId, world_id: ctx.session.worldId }, goal)).emit({ type: "GoalCreated", goal }, ALL);
      },
    }),
  );
}
gateKind("test.gate", "resume");
gateKind("test.fragile", "fail");
JOB_KINDS.add(
  defineJobKind({
    kind: "test.failing",
    input: z.null().optional(),
    events: [],
    onRestart: "fail",
    startable: "play",
    async run(_input, ctx) {
      ctx.stream.send("partial");
      throw new AppError("UNAVAILABLE", "the provider is down");
    },
  }),
);
JOB_KINDS.add(defineJobKind({ kind: "test.internal", input: z.unknown(), events: [], onRestart: "fail", run: async () => null }));

/**
 * Lets the job's run finish. Resolved from inside the object, as a provider's answer would be:
 * a promise settled in the test's own context would carry that context into the object's I/O.
 */
const openGate = async (sessionId: string, key: string, text: string, run = 1) => {
  await vi.waitFor(() => expect(runs.get(key)).toBe(run), { timeout: 5000 });
  await runInDurableObject(sessionStub(env, sessionId), () => gates.get(key)!.resolve(text));
};
const jobEvent = (jobId: string, status: string) => (f: any) =>
  f.type === "Event" && f.event.type === "JobUpdated" && f.event.job.id === jobId && f.event.job.status === status;
const streamOf = (s: TestSocket, id: string) => s.frames.filter((f) => f.type === "Stream" && f.stream_id === id);
const count = async (sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;

afterEach(() => vi.restoreAllMocks());

describe("jobs", () => {
  it("run outside the write queue: other writes complete meanwhile; the outcome commits with its events and reaches the audience", async () => {
    const t = await table();
    const job = await t.player.ok({ type: "StartJob", kind: "test.gate", input: { key: "happy" } });
    expect(job).toMatchObject({ kind: "test.gate", status: "queued", started_by: t.playerGrant.participant_id, attempts: 0, output: null, error: null });
    await t.player.waitFor(jobEvent(job.id, "running"));
    await vi.waitFor(() => expect(gates.has("happy")).toBe(true));

    const started = Date.now();
    const goal = await t.dm.ok({ type: "CreateGoal", data: { name: "Meanwhile" } });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(goal.name).toBe("Meanwhile");

    await openGate(t.dmGrant.session_id, "happy", "Done talking");
    const done = await t.player.waitFor(jobEvent(job.id, "succeeded"));
    expect(done.event.job).toMatchObject({ output: { text: "Done talking" }, attempts: 1, version: 3 });
    // The kind's own event commits with the outcome, right before JobUpdated.
    const created = await t.spectator.waitFor((f) => f.type === "Event" && f.event.type === "GoalCreated" && f.event.goal.name === "Done talking");
    expect(created.seq).toBe(done.seq - 1);
    expect(created.cause).toEqual({ request_id: null, participant_id: null });
    // The stream: ordered, ending with done, before the committed outcome; only to the audience.
    for (const s of [t.player, t.dm]) {
      await s.waitFor(jobEvent(job.id, "succeeded"));
      expect(streamOf(s, job.id).map((f) => [f.index, f.delta, f.done])).toEqual([
        [0, "Hel", false],
        [1, "lo", false],
        [2, "", true],
      ]);
      const lastStream = s.frames.findIndex((f) => f.type === "Stream" && f.done);
      expect(lastStream).toBeLessThan(s.frames.findIndex(jobEvent(job.id, "succeeded")));
    }
    await settle();
    expect(streamOf(t.spectator, job.id)).toHaveLength(0);
    expect(t.spectator.events("JobUpdated")).toHaveLength(0);
    expect(t.dm.events("JobUpdated").map((e) => e.event.job.status)).toEqual(["queued", "running", "succeeded"]);
    const stored = await t.player.ok({ type: "GetJob", job_id: job.id });
    expect(stored).toMatchObject({ status: "succeeded", output: { text: "Done talking" } });
    expect((await t.spectator.request({ type: "GetJob", job_id: job.id })).code).toBe("NOT_FOUND");
    expect((await t.spectator.ok({ type: "ListJobs" })).items).toHaveLength(0);
    expect((await t.dm.ok({ type: "ListJobs", status: "succeeded" })).items.map((j: any) => j.id)).toEqual([job.id]);
    t.close();
  });

  it("a failing provider fails the job visibly, and its stream still ends with done", async () => {
    const t = await table();
    const job = await t.player.ok({ type: "StartJob", kind: "test.failing" });
    const failed = await t.player.waitFor(jobEvent(job.id, "failed"));
    expect(failed.event.job.error).toMatchObject({ code: "UNAVAILABLE", message: "the provider is down", retryable: true });
    expect(streamOf(t.player, job.id).map((f) => [f.delta, f.done])).toEqual([
      ["partial", false],
      ["", true],
    ]);
    expect(await count("SELECT COUNT(*) AS n FROM jobs WHERE id = ? AND status = 'failed'", job.id)).toBe(1);
    t.close();
  });

  it("is cancelled by its starter or a DM: the run is aborted, its stream ends, a late result is dropped", async () => {
    const t = await table();
    const job = await t.player.ok({ type: "StartJob", kind: "test.gate", input: { key: "cancel" } });
    await vi.waitFor(() => expect(gates.has("cancel")).toBe(true));
    expect((await t.spectator.request({ type: "CancelJob", job_id: job.id })).code).toBe("FORBIDDEN"); // spectators start and cancel nothing
    const cancelled = await t.dm.ok({ type: "CancelJob", job_id: job.id });
    expect(cancelled).toMatchObject({ status: "cancelled", error: { details: { reason: "cancelled", by: t.dmGrant.participant_id } } });
    await t.player.waitFor(jobEvent(job.id, "cancelled"));
    await t.player.waitFor((f) => f.type === "Stream" && f.stream_id === job.id && f.done);
    expect(aborted.has("cancel")).toBe(true);
    await openGate(t.dmGrant.session_id, "cancel", "too late");
    await settle(300);
    expect(
      t.player
        .events("JobUpdated")
        .filter((e) => e.event.job.id === job.id)
        .map((e) => e.event.job.status),
    ).toEqual(["queued", "running", "cancelled"]);
    expect(t.player.events("GoalCreated")).toHaveLength(0);
    expect(await count("SELECT COUNT(*) AS n FROM goals WHERE session_id = ?", t.dmGrant.session_id)).toBe(0);
    expect((await t.player.request({ type: "CancelJob", job_id: job.id })).code).toBe("CONFLICT");
    // The starter may cancel its own job; another player may not.
    const mine = await t.player.ok({ type: "StartJob", kind: "test.gate", input: { key: "mine" } });
    expect((await t.player.ok({ type: "CancelJob", job_id: mine.id })).status).toBe("cancelled");
    t.close();
  });

  it("a re-sent request id does not start the job twice", async () => {
    const t = await table();
    const first = await t.player.request({ type: "StartJob", kind: "test.gate", input: { key: "once" } }, "start-once");
    const again = await t.player.request({ type: "StartJob", kind: "test.gate", input: { key: "once" } }, "start-once");
    expect(again).toEqual({ ...first, replayed: true });
    await openGate(t.dmGrant.session_id, "once", "Once");
    await t.player.waitFor(jobEvent(first.data.id, "succeeded"));
    await settle(200);
    expect(runs.get("once")).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM jobs WHERE session_id = ?", t.dmGrant.session_id)).toBe(1);
    t.close();
  });

  it("refuses kinds that cannot be started directly, bad input and roles the kind does not allow", async () => {
    const t = await table();
    expect(await t.player.request({ type: "StartJob", kind: "test.internal" })).toMatchObject({
      code: "VALIDATION_ERROR",
      details: { issues: [{ path: "kind" }] },
    });
    expect(await t.player.request({ type: "StartJob", kind: "no.such.kind" })).toMatchObject({ code: "VALIDATION_ERROR" });
    expect(await t.player.request({ type: "StartJob", kind: "test.gate", input: { key: 7 } })).toMatchObject({
      code: "VALIDATION_ERROR",
      details: { issues: [{ path: "payload.input.key" }] },
    });
    expect((await t.spectator.request({ type: "StartJob", kind: "test.gate", input: { key: "x" } })).code).toBe("FORBIDDEN");
    expect(await count("SELECT COUNT(*) AS n FROM jobs WHERE session_id = ?", t.dmGrant.session_id)).toBe(0);
    t.close();
  });

  it("a job still running at its deadline is aborted and failed with TIMEOUT", async () => {
    const t = await table();
    const job = await t.player.ok({ type: "StartJob", kind: "test.gate", input: { key: "slow" } });
    await vi.waitFor(() => expect(gates.has("slow")).toBe(true));
    const real = Date.now.bind(Date);
    vi.spyOn(Date, "now").mockImplementation(() => real() + 6 * 60_000); // JOB_TIMEOUT_MS: 5 min
    await runDurableObjectAlarm(sessionStub(env, t.dmGrant.session_id));
    const failed = await t.player.waitFor(jobEvent(job.id, "failed"));
    expect(failed.event.job.error).toMatchObject({ code: "TIMEOUT" });
    expect(aborted.has("slow")).toBe(true);
    t.close();
  });

  it("jobs in flight when the object is evicted are resumed or failed visibly, as their kind declares", async () => {
    const t = await table();
    const resumable = await t.player.ok({ type: "StartJob", kind: "test.gate", input: { key: "resume" } });
    const fragile = await t.player.ok({ type: "StartJob", kind: "test.fragile", input: { key: "fragile" } });
    await t.player.waitFor(jobEvent(resumable.id, "running"));
    await t.player.waitFor(jobEvent(fragile.id, "running"));
    const lastSeen = t.player.lastSeq();
    await t.evict();

    const player = await TestSocket.open(t.playerGrant);
    await player.join(lastSeen); // loads the object: its leases are due at once
    await runDurableObjectAlarm(sessionStub(env, t.dmGrant.session_id));
    const failed = await player.waitFor(jobEvent(fragile.id, "failed"));
    expect(failed.event.job.error).toMatchObject({ code: "UNAVAILABLE", details: { reason: "interrupted" } });
    const rerun = await player.waitFor(jobEvent(resumable.id, "running"), 5000);
    expect(rerun.event.job.attempts).toBe(2);
    await openGate(t.dmGrant.session_id, "resume", "Back again", 2);
    const done = await player.waitFor(jobEvent(resumable.id, "succeeded"));
    expect(done.event.job.output).toEqual({ text: "Back again" });
    expect(streamOf(player, resumable.id).at(-1)).toMatchObject({ done: true });
    player.close();
    await player.waitClosed();
    await settle(300);
  });
});
