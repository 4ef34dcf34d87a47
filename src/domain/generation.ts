import { z } from "zod";
import { AppError, GenerationRequestSchema, invalidField, type Asset, type GenerationBatch, type GenerationRequest } from "../protocol";
import { assetKey } from "../engine/asset-urls";
import { defineHandlers } from "../engine/context";
import { sniffImage, sha256Hex } from "../engine/image-sniff";
import { stripMetadata } from "../engine/image-strip";
import { defineJobKind, isFinished, jobs, type JobOutcomeContext, type JobRunContext } from "../engine/jobs";
import { Table, bump, conditions } from "../engine/store";
import { DMS } from "../engine/tx";
import { imageProvider, sleep, type ImageJob, type ImageProvider } from "../providers/images";
import { ASSET, IMAGE_COLUMNS, assetUsage, assets, setEntityImageFromJob } from "./assets";
import { emitChange, requireVisible } from "./changes";

/** A batch as stored: the public batch plus the prompt ids the engine minted and submitted. */
interface BatchRow extends GenerationBatch {
  world_id: string;
  prompt_ids: string[];
  submitted: string[];
}

export const batches = new Table<BatchRow>(
  "generation_batches",
  ["world_id", "status", "provider", "request", "prompt_ids", "submitted", "asset_ids", "completed", "total", "reason", "created_by"],
  { json: ["request", "prompt_ids", "submitted", "asset_ids"] },
);

const toBatch = ({ world_id: _w, prompt_ids: _p, submitted: _s, ...b }: BatchRow): GenerationBatch => b;

/** Default image sizes by slot (SD 1.5 friendly). */
const SIZES = { portrait: [512, 768], sprite: [512, 512], backdrop: [768, 512], map: [768, 768] } as const;

/** The image of one prompt id: the i-th of the batch (its seed differs, so the images do). */
function imageJob(req: GenerationRequest, i: number, batchId: string): ImageJob {
  const [w, h] = SIZES[req.image];
  const base = req.seed ?? parseInt(batchId.replace(/-/g, "").slice(-8), 16);
  return { prompt: req.prompt, negative_prompt: req.negative_prompt ?? "", width: req.width ?? w, height: req.height ?? h, seed: (base + i) >>> 0 };
}

const GenerateInput = z.object({ provider: z.string(), request: GenerationRequestSchema });
type GenerateInput = z.infer<typeof GenerateInput>;

async function readBatch(ctx: JobRunContext): Promise<BatchRow> {
  const row = await batches.get(ctx.env.DB, ctx.session.sessionId, ctx.job.id);
  if (!row) throw new AppError("NOT_FOUND", `generation batch '${ctx.job.id}' not found`);
  return row;
}

/** A committed step of the batch while it runs (nothing when it ended meanwhile). */
function saveBatch(o: JobOutcomeContext, row: BatchRow, patch: Partial<BatchRow>): BatchRow {
  const after = bump(row, patch, o.now);
  o.tx.write(batches.update(o.db, o.session.sessionId, after));
  return after;
}

/**
 * Stores one finished image: bytes into R2 under the asset id (= its prompt id, so a resumed
 * batch overwrites rather than duplicates), then the row, AssetCreated and GenerationProgress in
 * one commit. An image whose commit did not happen (cancelled, D1 down) leaves no object.
 */
async function storeImage(ctx: JobRunContext, req: GenerationRequest, promptId: string, made: Uint8Array): Promise<void> {
  const info = sniffImage(made);
  if (!info) throw new AppError("UNAVAILABLE", "the image provider returned something that is not a PNG, JPEG, WebP or GIF", { reason: "generation_error" });
  // ComfyUI writes its prompt and workflow into the PNG (and the offline provider the prompt):
  // nothing but the pixels is stored, so players downloading it never read the DM's prompt.
  let bytes: Uint8Array;
  try {
    bytes = stripMetadata(info.content_type, made);
  } catch (err) {
    throw new AppError("UNAVAILABLE", `the image provider returned a broken image: ${AppError.from(err).message}`, { reason: "generation_error" });
  }
  const key = assetKey(ctx.session.sessionId, promptId);
  await ctx.env.IMAGES.put(key, bytes, { httpMetadata: { contentType: info.content_type } });
  let committed = false;
  try {
    committed = await ctx.record(async (o) => {
      const row = await batches.get(o.db, o.session.sessionId, ctx.job.id);
      if (!row || row.asset_ids.includes(promptId)) return;
      const asset: Asset = {
        id: promptId,
        version: 1,
        created_at: o.now,
        updated_at: o.now,
        world_id: o.session.worldId,
        ...info,
        size: bytes.byteLength,
        sha256: await sha256Hex(bytes),
        label: req.prompt.slice(0, 200),
        tags: ["generated"],
        depicts: req.target ?? null,
        source: "generated",
        created_by: row.created_by,
        generation_id: row.id,
      };
      o.tx.write(assets.insert(o.db, { session_id: o.session.sessionId, world_id: o.session.worldId }, asset));
      emitChange(o.tx, ASSET, null, asset);
      const after = saveBatch(o, row, { asset_ids: [...row.asset_ids, promptId], completed: row.completed + 1 });
      o.tx.emit({ type: "GenerationProgress", batch_id: row.id, completed: after.completed, total: after.total }, DMS);
    });
  } finally {
    if (!committed) await ctx.env.IMAGES.delete(key);
  }
}

/**
 * Image generation as a job: prompt ids are minted and committed before anything is sent, each is
 * submitted once (a resumed batch first asks the provider whether it knows the id), then polled
 * with a pause between rounds until every image is stored. Resumes after eviction or restart.
 */
export const GENERATE = defineJobKind<GenerateInput, { asset_ids: string[] }>({
  kind: "images.generate",
  input: GenerateInput,
  events: [
    "AssetCreated",
    "GenerationProgress",
    "GenerationComplete",
    "GenerationFailed",
    "CharacterUpdated",
    "LocationUpdated",
    "RegionUpdated",
    "SceneUpdated",
  ],
  onRestart: "resume",
  async run({ provider: name, request: req }, ctx) {
    const provider = imageProvider(ctx.env, name);
    let batch = await readBatch(ctx);
    if (batch.prompt_ids.length === 0) {
      const ids = Array.from({ length: batch.total }, () => crypto.randomUUID());
      await ctx.record(async (o) => void (batch = saveBatch(o, batch, { prompt_ids: ids, status: "running" })));
      batch = await readBatch(ctx);
    }
    const jobsById = new Map(batch.prompt_ids.map((id, i) => [id, imageJob(req, i, batch.id)] as const));
    // Cancelled, timed out or failed: whatever of ours the provider still has queued or running is stopped.
    const stopOpen = async () => {
      const now = await readBatch(ctx).catch(() => batch);
      await provider.cancel(now.prompt_ids.filter((id) => !now.asset_ids.includes(id)));
    };
    ctx.signal.addEventListener("abort", () => void stopOpen(), { once: true });
    try {
      return await pollUntilDone(ctx, provider, req, jobsById);
    } catch (err) {
      if (!ctx.signal.aborted) await stopOpen();
      throw err;
    }
  },
  complete(o, output) {
    endBatch(o, "succeeded", null);
    o.tx.emit({ type: "GenerationComplete", batch_id: o.job.id, asset_ids: output.asset_ids }, DMS);
  },
  failed(o, error) {
    const cancelled = error.details?.reason === "cancelled";
    const reason = cancelled ? "cancelled" : error.message;
    endBatch(o, cancelled ? "cancelled" : "failed", reason);
    o.tx.emit({ type: "GenerationFailed", batch_id: o.job.id, reason }, DMS);
  },
});

/** Rounds of `step`, GENERATION_POLL_MS apart, until every image of the batch is stored. */
async function pollUntilDone(
  ctx: JobRunContext,
  provider: ImageProvider,
  req: GenerationRequest,
  jobsById: Map<string, ImageJob>,
): Promise<{ asset_ids: string[] }> {
  let batch: BatchRow;
  for (;;) {
    batch = await readBatch(ctx);
    const open = batch.prompt_ids.filter((id) => !batch.asset_ids.includes(id));
    if (open.length === 0) {
      const target = req.target;
      const first = batch.asset_ids[0];
      if (target && first) await ctx.record((o) => setEntityImageFromJob(o, target, req.image, first));
      return { asset_ids: batch.asset_ids };
    }
    // Measured from the batch's creation, so a resumed batch does not get a fresh allowance.
    if (Date.now() > batch.created_at + ctx.limits.generationTimeoutMs)
      throw new AppError("TIMEOUT", `the image provider did not finish within ${ctx.limits.generationTimeoutMs} ms`, { reason: "generation_timeout" });
    await step(ctx, provider, req, batch, open, jobsById);
    await sleep(ctx.limits.generationPollMs, ctx.signal);
  }
}

/**
 * One round over the open prompt ids: submit what the provider does not have, store what is done.
 * An id not recorded as submitted is asked about only by a resumed run (the first run knows it
 * sent nothing; a run cut off between POST /prompt and its record may have).
 */
async function step(
  ctx: JobRunContext,
  provider: ImageProvider,
  req: GenerationRequest,
  batch: BatchRow,
  open: string[],
  jobsById: Map<string, ImageJob>,
): Promise<void> {
  const resumed = ctx.job.attempts > 1;
  for (const id of open) {
    const job = jobsById.get(id)!;
    let polled = batch.submitted.includes(id) || resumed ? await provider.poll(id, job, ctx.signal) : ({ state: "unknown" } as const);
    if (polled.state === "unknown") {
      await provider.submit(id, job, ctx.signal);
      await ctx.record(async (o) => {
        const row = await batches.get(o.db, o.session.sessionId, batch.id);
        if (row && !row.submitted.includes(id)) saveBatch(o, row, { submitted: [...row.submitted, id] });
      });
      polled = await provider.poll(id, job, ctx.signal);
    }
    if (polled.state === "done") await storeImage(ctx, req, id, polled.bytes);
  }
}

/**
 * The end of a batch, in the job's outcome commit (outcome hooks are synchronous: one guarded
 * UPDATE, so a batch that already ended stays as it was).
 */
function endBatch(o: JobOutcomeContext, status: BatchRow["status"], reason: string | null): void {
  o.tx.write(
    o.db
      .prepare(
        "UPDATE generation_batches SET status = ?, reason = ?, version = version + 1, updated_at = MAX(updated_at, ?) WHERE session_id = ? AND id = ? AND status IN ('queued', 'running')",
      )
      .bind(status, reason, o.now, o.session.sessionId, o.job.id),
  );
}

/** Generation over the socket (DMs). See docs/images.md. */
export const generationHandlers = defineHandlers({
  StartGeneration: {
    async handle(ctx, p) {
      const { type: _t, world_id: _w, ...req } = p as typeof p & { type?: string; world_id?: string };
      if (req.target) {
        if (!IMAGE_COLUMNS[req.target.kind].slots[req.image]) throw invalidField("image", `a ${req.target.kind} has no ${req.image}`);
        await requireVisible(ctx, IMAGE_COLUMNS[req.target.kind].kind, req.target.id);
      }
      // Outside work is bounded per session: a batch runs one provider request at a time, and at
      // most GENERATION_MAX_ACTIVE batches are queued or running (the pending ones of a Batch too).
      const max = ctx.limits.generationMaxActive;
      const active = await batches.rows(ctx, { sql: "status IN ('queued', 'running')", match: (b) => b.status === "queued" || b.status === "running" });
      if (active.length >= max) {
        throw new AppError(
          "RATE_LIMITED",
          `${active.length} generation batches are already queued or running (at most ${max} per session): wait for one to end or cancel it`,
          {
            reason: "generation_busy",
            limit: max,
            active: active.map((b) => b.id),
            retry_after_ms: Math.max(1000, 5 * ctx.limits.generationPollMs),
          },
        );
      }
      // The session's asset quotas hold for generated images too: a batch must fit the count, and
      // starts only while the stored bytes are under the quota (an image's size is known only once made).
      const usage = await assetUsage(ctx.db, ctx.session.sessionId, ctx.actor.participant_id);
      const total = req.count ?? 1;
      const { sessionMaxAssets, sessionMaxAssetBytes } = ctx.limits;
      if (usage.count + total > sessionMaxAssets) {
        throw new AppError(
          "PAYLOAD_TOO_LARGE",
          `the session holds ${usage.count} of at most ${sessionMaxAssets} assets: no room for ${total} more (delete some first)`,
          { reason: "session_asset_count", limit: sessionMaxAssets, used: usage.count },
        );
      }
      if (usage.bytes >= sessionMaxAssetBytes) {
        throw new AppError("PAYLOAD_TOO_LARGE", `the session's assets use ${usage.bytes} of at most ${sessionMaxAssetBytes} bytes (delete some first)`, {
          reason: "session_asset_bytes",
          limit: sessionMaxAssetBytes,
          used: usage.bytes,
        });
      }
      const provider = imageProvider(ctx.env).name;
      const job = ctx.jobs.start(GENERATE, { provider, request: req });
      const row: BatchRow = {
        id: job.id,
        version: 1,
        created_at: ctx.now,
        updated_at: ctx.now,
        world_id: ctx.session.worldId,
        status: "queued",
        provider,
        request: req,
        prompt_ids: [],
        submitted: [],
        asset_ids: [],
        completed: 0,
        total: req.count ?? 1,
        reason: null,
        created_by: ctx.actor.participant_id,
      };
      batches.add(ctx, row);
      ctx.tx.emit({ type: "GenerationQueued", batch: toBatch(row) }, DMS);
      return toBatch(row);
    },
  },

  CancelGeneration: {
    async handle(ctx, p) {
      const job = await jobs.get(ctx.db, ctx.session.sessionId, p.batch_id);
      const row = await batches.get(ctx.db, ctx.session.sessionId, p.batch_id);
      if (!job || !row) throw new AppError("NOT_FOUND", `generation batch '${p.batch_id}' not found`, { id: p.batch_id });
      if (isFinished(job.status)) throw new AppError("CONFLICT", `generation batch '${row.id}' already ended (${row.status})`, { current: toBatch(row) });
      ctx.jobs.cancel(job);
      return toBatch({ ...row, status: "cancelled", reason: "cancelled", version: row.version + 1, updated_at: Math.max(ctx.now, row.updated_at) });
    },
  },

  ListGenerationBatches: {
    async handle(ctx, p) {
      const where = conditions(p.status ? ["status = ?", p.status] : false);
      const page = await batches.page(ctx.db, ctx.session.sessionId, { ...where, cursor: p.cursor, limit: p.limit, order: "desc" });
      return { items: page.items.map(toBatch), next_cursor: page.next_cursor };
    },
  },
});
