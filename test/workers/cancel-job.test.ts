/**
 * CancelJob on a running job of each domain kind: the kind's failure events go out with the
 * cancellation (they are declared by CancelJob), the run stops, and the work can start again.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { JOB_KINDS } from "../../src/domain/registry";
import { OPERATIONS } from "../../src/protocol";
import { Tx } from "../../src/engine/tx";
import { AppError } from "../../src/protocol";
import { sessionStub } from "../../src/worker/auth";
import { table } from "./helpers";
import { fakeLlm, isEvent, sse, tavern } from "./dialogue-fixtures";

afterEach(() => vi.restoreAllMocks());

const COMFY = "http://comfy.test";

describe("CancelJob", () => {
  it("declares every job kind's failure events (a cancellation runs the kind's `failed`)", () => {
    const declared = new Set<string>(OPERATIONS.CancelJob.events);
    const stmt = { bind: () => stmt };
    const db = { prepare: () => stmt } as unknown as D1Database;
    for (const kind of JOB_KINDS) {
      if (kind.kind.startsWith("test.")) continue;
      const tx = new Tx();
      const job = {
        id: "j1",
        kind: kind.kind,
        status: "cancelled",
        input: { exchange_id: "x", npc_id: "n", character_id: "c" },
        audience: { kind: "dm" },
      } as never;
      kind.failed?.(
        { db, tx, session: { sessionId: "s", worldId: "w" } as never, job, now: 0 },
        new AppError("UNAVAILABLE", "cancelled", { reason: "cancelled" }),
      );
      for (const e of tx.events) expect([kind.kind, declared.has(e.event.type)]).toEqual([kind.kind, true]);
      for (const t of tx.events.map((e) => e.event.type)) expect(kind.events).toContain(t);
    }
  });

  it("cancels a dialogue answer that is still streaming: DialogueFailed reaches the table and the pair can talk again", async () => {
    const t = await table();
    const w = await tavern(t, { approval: false });
    fakeLlm(sse(["Let me ", "think"], { end: "hang" }), sse(["Hello ", "again."]));
    const ex = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Hello?" });
    await t.player.waitFor((f) => f.type === "Stream" && f.stream_id === ex.job_id && f.delta !== "");
    const cancelled = await t.player.ok({ type: "CancelJob", job_id: ex.job_id });
    expect(cancelled).toMatchObject({ id: ex.job_id, status: "cancelled" });
    const failed = await t.player.waitFor(isEvent("DialogueFailed"));
    expect(failed.event).toMatchObject({ exchange_id: ex.id, npc_id: w.npc.id, character_id: w.pc.id });
    await t.player.waitFor((f) => f.type === "Stream" && f.stream_id === ex.job_id && f.done === true);
    // Not blocked until the job's timeout: the same PC speaks to the same NPC at once.
    const again = await t.player.ok({ type: "SpeakToNpc", character_id: w.pc.id, npc_id: w.npc.id, text: "Hello again?" });
    const said = await t.player.waitFor(isEvent("NpcSpeaks"));
    expect(said.event.exchange.id).toBe(again.id);
    t.close();
  });

  it("cancels a running generation: GenerationFailed (cancelled) reaches the DMs", async () => {
    const t = await table();
    await runInDurableObject(sessionStub(env, t.dmGrant.session_id), (instance: unknown) => {
      Object.assign((instance as { env: object }).env, { IMAGE_PROVIDER: "comfyui", COMFYUI_URL: COMFY });
    });
    const original = globalThis.fetch;
    let polls = 0;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: any, init?: any) => {
      const req = new Request(input, init);
      const url = new URL(req.url);
      if (url.origin !== COMFY) return original(input, init);
      if (url.pathname === "/prompt") return Response.json({ prompt_id: (await req.json<any>()).prompt_id, number: 1, node_errors: {} });
      if (url.pathname.startsWith("/history/")) return (polls++, Response.json({}));
      if (url.pathname === "/queue" && req.method === "GET") return Response.json({ queue_running: [], queue_pending: [] });
      return Response.json({});
    });
    const batch = await t.dm.ok({ type: "StartGeneration", prompt: "a lighthouse", image: "portrait" });
    await vi.waitFor(() => expect(polls).toBeGreaterThan(0));
    const cancelled = await t.dm.ok({ type: "CancelJob", job_id: batch.id });
    expect(cancelled).toMatchObject({ id: batch.id, status: "cancelled" });
    const failed = await t.dm.waitFor(isEvent("GenerationFailed"));
    expect(failed.event).toMatchObject({ batch_id: batch.id, reason: "cancelled" });
    expect((await t.dm.ok({ type: "ListGenerationBatches", status: "cancelled" })).items.map((b: any) => b.id)).toEqual([batch.id]);
    t.close();
  });
});
