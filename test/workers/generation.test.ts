/**
 * Image generation against the offline provider and a fake ComfyUI (its HTTP API answered by a
 * fetch spy: the session object shares this test's isolate, so it calls the spy).
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sessionStub } from "../../src/worker/auth";
import { TestSocket, settle, table } from "./helpers";
import { PNG_1X1, asText, download, pngChunk, pngWith, uploadImage } from "./image-helpers";

const COMFY = "http://comfy.test";
const ev =
  (type: string, pred: (e: any) => boolean = () => true) =>
  (f: any) =>
    f.type === "Event" && f.event.type === type && pred(f.event);
const count = async (sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;
const objectsOf = async (sessionId: string) => (await env.IMAGES.list({ prefix: `sessions/${sessionId}/assets/` })).objects.length;

type Mode = "success" | "error" | "never";
/** A ComfyUI speaking /prompt, /history, /queue, /view, /interrupt; `pollsUntilDone` /history calls per prompt before it has outputs. */
function fakeComfy(opts: { mode?: Mode; pollsUntilDone?: number; promptStatus?: number; historyStatus?: number; image?: Uint8Array } = {}) {
  const posted: { prompt_id: string; prompt: any }[] = [];
  const polls = new Map<string, number>();
  const deleted: string[] = [];
  const interrupts: string[] = [];
  const original = globalThis.fetch;
  /** Posted and neither deleted nor interrupted; in "never" mode nothing leaves the queue otherwise. The first is running. */
  const inQueue = () =>
    posted.filter((p) => !deleted.includes(p.prompt_id) && (opts.mode === "never" || (polls.get(p.prompt_id) ?? 0) < (opts.pollsUntilDone ?? 1)));
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: any, init?: any) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.origin !== COMFY) return original(input, init);
    if (url.pathname === "/prompt" && req.method === "POST") {
      const body = await req.json<any>();
      if (opts.promptStatus)
        return Response.json(
          { error: { type: "prompt_outputs_failed_validation", message: "Prompt outputs failed validation", details: "ckpt missing" }, node_errors: {} },
          { status: opts.promptStatus },
        );
      posted.push(body);
      return Response.json({ prompt_id: body.prompt_id, number: posted.length, node_errors: {} });
    }
    if (url.pathname.startsWith("/history/")) {
      if (opts.historyStatus) return new Response("boom", { status: opts.historyStatus });
      const id = decodeURIComponent(url.pathname.slice("/history/".length));
      if (!posted.some((p) => p.prompt_id === id)) return Response.json({});
      const n = (polls.get(id) ?? 0) + 1;
      polls.set(id, n);
      const mode = opts.mode ?? "success";
      if (mode === "never" || n < (opts.pollsUntilDone ?? 1)) return Response.json({});
      if (mode === "error")
        return Response.json({
          [id]: {
            outputs: {},
            status: {
              status_str: "error",
              completed: false,
              messages: [["execution_error", { node_type: "KSampler", exception_message: "CUDA out of memory" }]],
            },
          },
        });
      return Response.json({
        [id]: {
          outputs: { "9": { images: [{ filename: `${id}.png`, subfolder: "", type: "output" }] } },
          status: { status_str: "success", completed: true, messages: [] },
        },
      });
    }
    if (url.pathname === "/queue" && req.method === "GET") {
      const queued = inQueue().map((p, i) => [i, p.prompt_id, p.prompt, {}, ["9"]]);
      return Response.json({ queue_running: queued.slice(0, 1), queue_pending: queued.slice(1) });
    }
    if (url.pathname === "/queue" && req.method === "POST") {
      // As ComfyUI: `delete` drops pending prompts only; the running one needs /interrupt.
      const running = inQueue()[0]?.prompt_id;
      deleted.push(...((await req.json<any>()).delete ?? []).filter((id: string) => id !== running));
      return Response.json({});
    }
    if (url.pathname === "/interrupt") {
      const id = (await req.json<any>()).prompt_id;
      interrupts.push(id);
      deleted.push(id);
      return Response.json({});
    }
    if (url.pathname === "/view") return new Response(opts.image ?? PNG_1X1, { headers: { "content-type": "image/png" } });
    return new Response("not found", { status: 404 });
  });
  return { posted, polls, deleted, spy, interrupts };
}

/** Points this session's object at the fake ComfyUI (the object reads its env per request). */
const useComfy = (sessionId: string): Promise<void> => {
  const stub: DurableObjectStub = sessionStub(env, sessionId) as never;
  const set = (instance: unknown) => void Object.assign((instance as { env: object }).env, { IMAGE_PROVIDER: "comfyui", COMFYUI_URL: COMFY });
  const run = runInDurableObject as unknown as (s: DurableObjectStub, f: (i: unknown) => void) => Promise<void>;
  return run(stub, set);
};

afterEach(() => vi.restoreAllMocks());

describe("generation", () => {
  it("offline (the default): labelled placeholder PNGs, progress, completion, and the target's portrait set", async () => {
    const t = await table();
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
    expect((await t.player.request({ type: "StartGeneration", prompt: "x", image: "portrait" })).code).toBe("FORBIDDEN");
    expect((await t.dm.request({ type: "StartGeneration", prompt: "x", image: "portrait", count: 5 })).code).toBe("VALIDATION_ERROR");
    expect((await t.dm.request({ type: "StartGeneration", prompt: "x", image: "backdrop", target: { kind: "character", id: npc.id } })).code).toBe(
      "VALIDATION_ERROR",
    );
    const batch = await t.dm.ok({
      type: "StartGeneration",
      prompt: "a tavern keeper, oil painting",
      count: 2,
      image: "portrait",
      target: { kind: "character", id: npc.id },
    });
    expect(batch).toMatchObject({ status: "queued", provider: "offline", total: 2, completed: 0 });
    await t.dm.waitFor(ev("GenerationQueued"));
    const done = await t.dm.waitFor(ev("GenerationComplete"));
    expect(done.event.asset_ids).toHaveLength(2);
    const progress = t.dm.events("GenerationProgress").map((e) => [e.event.completed, e.event.total]);
    expect(progress).toEqual([
      [1, 2],
      [2, 2],
    ]);
    const portrait = await t.player.waitFor(ev("CharacterUpdated", (e) => e.character.portrait_asset_id === done.event.asset_ids[0]));
    expect(portrait.seq).toBeLessThan(done.seq);
    // Players see the assets, not the DM's batches.
    expect(t.player.events("AssetCreated")).toHaveLength(2);
    expect(t.player.events("GenerationQueued")).toHaveLength(0);
    const asset = await t.dm.ok({ type: "GetAsset", asset_id: done.event.asset_ids[0] });
    expect((await t.player.ok({ type: "GetAsset", asset_id: asset.id })).depicts).toBeNull(); // which character: DM knowledge
    expect(asset).toMatchObject({
      source: "generated",
      generation_id: batch.id,
      content_type: "image/png",
      width: 171,
      height: 256,
      depicts: { kind: "character", id: npc.id },
    });
    const bytes = new Uint8Array(await (await download(asset.url)).arrayBuffer());
    expect(Array.from(bytes.subarray(1, 4), (b) => String.fromCharCode(b)).join("")).toBe("PNG");
    // The placeholder's text chunks (its prompt among them) are not stored.
    expect(asText(bytes)).not.toContain("tavern keeper");
    expect(asText(bytes)).not.toContain("tEXt");
    // Deterministic from the prompt: the same request makes the same bytes.
    const again = await t.dm.ok({ type: "StartGeneration", prompt: "a tavern keeper, oil painting", image: "portrait", seed: 1 });
    const twice = await t.dm.ok({ type: "StartGeneration", prompt: "a tavern keeper, oil painting", image: "portrait", seed: 1 });
    const [a, b] = await Promise.all([again, twice].map((x) => t.dm.waitFor(ev("GenerationComplete", (e) => e.batch_id === x.id))));
    const [sa, sb] = await Promise.all([a, b].map((x) => t.dm.ok({ type: "GetAsset", asset_id: x!.event.asset_ids[0] })));
    expect(sa.sha256).toBe(sb.sha256);
    const list = await t.dm.ok({ type: "ListGenerationBatches", status: "succeeded" });
    expect(list.items.map((x: any) => x.id)).toContain(batch.id);
    expect(list.items.find((x: any) => x.id === batch.id)).toMatchObject({ completed: 2, asset_ids: done.event.asset_ids });
    expect((await t.player.request({ type: "ListGenerationBatches" })).code).toBe("FORBIDDEN");
    t.close();
  });

  it("the prompt stays with DMs: not in players' labels, events, lists or replay, nor in the stored image's metadata", async () => {
    const t = await table();
    await useComfy(t.dmGrant.session_id);
    const prompt = "the secret twin of the duke, hooded";
    // As ComfyUI saves it: the prompt and the workflow in tEXt chunks (plus an iTXt and an eXIf).
    const image = pngWith(
      pngChunk("tEXt", `prompt\0{"6":{"inputs":{"text":"${prompt}"}}}`),
      pngChunk("tEXt", `workflow\0{"nodes":["${prompt}"]}`),
      pngChunk("iTXt", `parameters\0\0\0\0\0${prompt}`),
      pngChunk("eXIf", `MM\0*${prompt}`),
    );
    fakeComfy({ image });
    const batch = await t.dm.ok({ type: "StartGeneration", prompt, image: "backdrop" });
    const done = await t.dm.waitFor(ev("GenerationComplete", (e) => e.batch_id === batch.id));
    const [id] = done.event.asset_ids;
    const dmView = await t.dm.ok({ type: "GetAsset", asset_id: id });
    expect(dmView.label).toBe(prompt);
    for (const s of [t.player, t.spectator]) {
      const created = await s.waitFor(ev("AssetCreated", (e) => e.asset.id === id));
      expect(created.event.asset.label).toBe("");
      expect((await s.ok({ type: "GetAsset", asset_id: id })).label).toBe("");
      expect((await s.ok({ type: "ListAssets" })).items.map((a: any) => a.label)).toEqual([""]);
    }
    // A replay from the start carries the players' view too.
    const again = await TestSocket.open(t.playerGrant);
    await again.join(0);
    const replayed = await again.waitFor(ev("AssetCreated", (e) => e.asset.id === id));
    expect(JSON.stringify(replayed)).not.toContain("duke");
    again.close();
    // The bytes a player downloads: the pixels, none of the text.
    const bytes = new Uint8Array(await (await download((await t.player.ok({ type: "GetAsset", asset_id: id })).url)).arrayBuffer());
    expect(asText(bytes)).not.toContain("duke");
    expect(asText(bytes)).not.toMatch(/tEXt|iTXt|eXIf/);
    expect(bytes).toEqual(PNG_1X1);
    expect(dmView).toMatchObject({ size: PNG_1X1.length, width: 1, height: 1 });
    t.close();
  });

  it("ComfyUI: each image is queued once under a prompt id minted first, polled, downloaded and stored", async () => {
    const t = await table();
    await useComfy(t.dmGrant.session_id);
    const comfy = fakeComfy({ pollsUntilDone: 3 });
    const batch = await t.dm.ok({ type: "StartGeneration", prompt: "a misty harbour", negative_prompt: "blurry", count: 2, image: "backdrop" });
    expect(batch.provider).toBe("comfyui");
    const done = await t.dm.waitFor(ev("GenerationComplete"));
    expect(comfy.posted).toHaveLength(2);
    const ids = comfy.posted.map((p) => p.prompt_id);
    expect(new Set(ids).size).toBe(2);
    expect(done.event.asset_ids.sort()).toEqual([...ids].sort());
    const workflow = comfy.posted[0]!.prompt;
    expect(workflow["6"].inputs.text).toBe("a misty harbour");
    expect(workflow["7"].inputs.text).toBe("blurry");
    expect(workflow["5"].inputs).toMatchObject({ width: 768, height: 512, batch_size: 1 });
    expect(workflow["3"].inputs.seed).not.toBe(comfy.posted[1]!.prompt["3"].inputs.seed);
    expect([...comfy.polls.values()].every((n) => n >= 3)).toBe(true);
    expect(await objectsOf(t.dmGrant.session_id)).toBe(2);
    expect(await count("SELECT COUNT(*) AS n FROM assets WHERE generation_id = ?", batch.id)).toBe(2);
    t.close();
  });

  it("ComfyUI refusing the workflow, failing the prompt, or down → GenerationFailed with the reason, nothing orphaned", async () => {
    const t = await table();
    await useComfy(t.dmGrant.session_id);
    const cases: [Parameters<typeof fakeComfy>[0], string][] = [
      [{ promptStatus: 400 }, "ComfyUI refused the workflow: Prompt outputs failed validation: ckpt missing"],
      [{ mode: "error" }, "ComfyUI failed the prompt: KSampler: CUDA out of memory"],
      [{ historyStatus: 503 }, "ComfyUI answered 503 to /history"],
    ];
    for (const [opts, reason] of cases) {
      vi.restoreAllMocks();
      fakeComfy(opts);
      const batch = await t.dm.ok({ type: "StartGeneration", prompt: "a dragon", image: "portrait" });
      const failed = await t.dm.waitFor(ev("GenerationFailed", (e) => e.batch_id === batch.id));
      expect(failed.event.reason).toContain(reason);
      const [row] = (await t.dm.ok({ type: "ListGenerationBatches" })).items.filter((x: any) => x.id === batch.id);
      expect(row).toMatchObject({ status: "failed", reason: failed.event.reason });
    }
    expect(await objectsOf(t.dmGrant.session_id)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM assets WHERE session_id = ?", t.dmGrant.session_id)).toBe(0);
    t.close();
  });

  it("a prompt that never finishes times out; a cancelled batch stops and ComfyUI's queue is told", async () => {
    const t = await table();
    await useComfy(t.dmGrant.session_id);
    const comfy = fakeComfy({ mode: "never" });
    const slow = await t.dm.ok({ type: "StartGeneration", prompt: "forever", image: "portrait" });
    await vi.waitFor(() => expect(comfy.polls.size).toBe(1));
    // As if it had been running for longer than GENERATION_TIMEOUT_MS.
    await env.DB.prepare("UPDATE generation_batches SET created_at = created_at - 3600000 WHERE id = ?").bind(slow.id).run();
    const timedOut = await t.dm.waitFor(ev("GenerationFailed", (e) => e.batch_id === slow.id));
    expect(timedOut.event.reason).toContain("did not finish");

    const cancelled = await t.dm.ok({ type: "StartGeneration", prompt: "never mind", count: 2, image: "portrait" });
    await vi.waitFor(() => expect(comfy.posted.filter((p) => p.prompt["6"].inputs.text === "never mind")).toHaveLength(2));
    expect((await t.player.request({ type: "CancelGeneration", batch_id: cancelled.id })).code).toBe("FORBIDDEN");
    const result = await t.dm.ok({ type: "CancelGeneration", batch_id: cancelled.id });
    expect(result).toMatchObject({ status: "cancelled", reason: "cancelled" });
    expect((await t.dm.waitFor(ev("GenerationFailed", (e) => e.batch_id === cancelled.id))).event.reason).toBe("cancelled");
    const [first, second] = comfy.posted.filter((p) => p.prompt["6"].inputs.text === "never mind").map((p) => p.prompt_id);
    // The timed-out batch's prompt was running: interrupted. Of the cancelled batch, the running one is interrupted, the other dropped from the queue.
    await vi.waitFor(() => expect(comfy.interrupts).toEqual([comfy.posted[0]!.prompt_id, first]));
    expect(comfy.deleted).toContain(second);
    const pollsAtCancel = [...comfy.polls.values()].reduce((a, b) => a + b, 0);
    await settle(200);
    expect([...comfy.polls.values()].reduce((a, b) => a + b, 0)).toBe(pollsAtCancel);
    expect((await t.dm.request({ type: "CancelGeneration", batch_id: cancelled.id })).code).toBe("CONFLICT");
    expect((await t.dm.ok({ type: "ListGenerationBatches", status: "cancelled" })).items.map((x: any) => x.id)).toEqual([cancelled.id]);
    t.close();
  });

  it("outside work is bounded per session: at most 2 batches at once, one request each, and no request timer outlives its request", async () => {
    const t = await table();
    await useComfy(t.dmGrant.session_id);
    const comfy = fakeComfy({ mode: "never" });
    // Requests to the fake ComfyUI in flight, at most.
    let inFlight = 0;
    let maxInFlight = 0;
    let requests = 0;
    const base = comfy.spy.getMockImplementation()!;
    comfy.spy.mockImplementation(async (input: any, init?: any) => {
      if (!new Request(input, init).url.startsWith(COMFY)) return base(input, init);
      requests++;
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await base(input, init);
      } finally {
        inFlight--;
      }
    });
    // Live 30 s timers (a ComfyUI request's timeout), whether AbortSignal.timeout or setTimeout.
    const live = new Set<unknown>();
    const REQUEST_TIMEOUT_MS = 30_000;
    const realTimeout = AbortSignal.timeout.bind(AbortSignal);
    vi.spyOn(AbortSignal, "timeout").mockImplementation((ms: number) => {
      const signal = realTimeout(ms);
      if (ms === REQUEST_TIMEOUT_MS) {
        live.add(signal);
        signal.addEventListener("abort", () => live.delete(signal));
      }
      return signal;
    });
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms?: number) => {
      let id: unknown;
      id = realSet(() => (live.delete(id), fn()), ms);
      if (ms === REQUEST_TIMEOUT_MS) live.add(id);
      return id;
    }) as never);
    vi.spyOn(globalThis, "clearTimeout").mockImplementation(((id: any) => (live.delete(id), realClear(id))) as never);

    const [a, b] = [
      await t.dm.ok({ type: "StartGeneration", prompt: "one", image: "portrait" }),
      await t.dm.ok({ type: "StartGeneration", prompt: "two", image: "portrait" }),
    ];
    for (const prompt of ["three", "four"]) {
      const refused = await t.dm.request({ type: "StartGeneration", prompt, image: "portrait" });
      expect(refused).toMatchObject({ code: "RATE_LIMITED", details: { reason: "generation_busy", limit: 2 } });
      expect([...refused.details.active].sort()).toEqual([a.id, b.id].sort());
    }
    expect(await count("SELECT COUNT(*) AS n FROM generation_batches WHERE session_id = ?", t.dmGrant.session_id)).toBe(2);
    // Many polling rounds later: never more than one request per batch at once, and no timers piling up.
    await vi.waitFor(() => expect(requests).toBeGreaterThanOrEqual(60), { timeout: 20_000 });
    expect(maxInFlight).toBeLessThanOrEqual(2);
    expect(live.size).toBeLessThanOrEqual(2);
    // Players' writes still go through.
    await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero" } });
    // A batch ended frees its place.
    await t.dm.ok({ type: "CancelGeneration", batch_id: a.id });
    const c = await t.dm.ok({ type: "StartGeneration", prompt: "three", image: "portrait" });
    for (const x of [b, c]) await t.dm.ok({ type: "CancelGeneration", batch_id: x.id });
    await t.dm.waitFor(ev("GenerationFailed", (e) => e.batch_id === c.id));
    // Every prompt dropped from the fake's queue before the fetch spy goes.
    await vi.waitFor(() => expect(comfy.deleted).toEqual(expect.arrayContaining(comfy.posted.map((p) => p.prompt_id))));
    t.close();
  });

  it("a batch must fit the session's asset quotas (count and bytes)", async () => {
    const t = await table();
    const run = runInDurableObject as unknown as (s: unknown, f: (i: any) => void) => Promise<void>;
    const limit = (l: Record<string, number>) => run(sessionStub(env, t.dmGrant.session_id), (instance) => void Object.assign(instance.limits, l));
    await uploadImage(t.dmGrant, PNG_1X1);
    await limit({ sessionMaxAssets: 2 });
    expect(await t.dm.request({ type: "StartGeneration", prompt: "two of them", count: 2, image: "portrait" })).toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      details: { reason: "session_asset_count", limit: 2, used: 1 },
    });
    await limit({ sessionMaxAssets: 10, sessionMaxAssetBytes: PNG_1X1.length });
    expect(await t.dm.request({ type: "StartGeneration", prompt: "more", image: "portrait" })).toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      details: { reason: "session_asset_bytes", limit: PNG_1X1.length, used: PNG_1X1.length },
    });
    expect(await count("SELECT COUNT(*) AS n FROM generation_batches WHERE session_id = ?", t.dmGrant.session_id)).toBe(0);
    t.close();
  });

  it("a batch cut off by a restart resumes: stored images stay, queued prompts are not queued again", async () => {
    const t = await table();
    const sessionId = t.dmGrant.session_id;
    await useComfy(sessionId);
    let release = false;
    const comfy = fakeComfy({ mode: "success", pollsUntilDone: 1 });
    // The second prompt stays pending until the restart is over.
    const base = comfy.spy.getMockImplementation()!;
    comfy.spy.mockImplementation(async (input: any, init?: any) => {
      const url = new URL(new Request(input, init).url);
      if (!release && url.pathname.startsWith("/history/") && comfy.posted[1] && url.pathname.endsWith(comfy.posted[1].prompt_id)) return Response.json({});
      return base(input, init);
    });
    const batch = await t.dm.ok({ type: "StartGeneration", prompt: "two knights", count: 2, image: "portrait" });
    await t.dm.waitFor(ev("GenerationProgress", (e) => e.batch_id === batch.id && e.completed === 1));
    const lastSeen = t.dm.lastSeq();
    await t.evict();
    release = true;

    await useComfy(sessionId);
    const dm = await TestSocket.open(t.dmGrant);
    await dm.join(lastSeen);
    await runDurableObjectAlarm(sessionStub(env, sessionId));
    const done = await dm.waitFor(
      ev("GenerationComplete", (e) => e.batch_id === batch.id),
      10_000,
    );
    expect(done.event.asset_ids).toHaveLength(2);
    expect(comfy.posted).toHaveLength(2); // the resumed run asked /queue and /history instead of posting again
    expect(await objectsOf(sessionId)).toBe(2);
    expect(dm.events("GenerationProgress").map((e) => e.event.completed)).toEqual([2]);
    dm.close();
  });
});
