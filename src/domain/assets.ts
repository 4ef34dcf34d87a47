import { AppError, invalidField, type Asset, type AssetView, type EntityRef, type ImageSlot } from "../protocol";
import { isDm } from "../engine/authorize";
import { assetKey, signAssetUrl } from "../engine/asset-urls";
import { defineHandlers, type HandlerContext } from "../engine/context";
import { bump, conditions, create } from "../engine/store";
import type { JobOutcomeContext } from "../engine/jobs";
import type { Limits } from "../env";
import { deleteEntity, emitChange, requireVisible, updateEntity, viewOf, type EntityKind } from "./changes";
import { CHARACTER } from "./characters";
import { assets, requireAssetRefs } from "./asset-refs";
import { LOCATION, REGION, SCENE } from "./world-tables";

export const ASSET: EntityKind<Asset> = {
  table: assets,
  what: "asset",
  events: { created: "AssetCreated", updated: "AssetUpdated", deleted: "AssetDeleted", key: "asset", idKey: "asset_id" },
  // Which character an image shows stays with DMs: it could name a hidden NPC (players must not
  // learn its id). Places and scenes are never hidden. A generated image's label is its prompt:
  // DM material too (players and spectators get "").
  playerView: (a) => {
    const depicts = a.depicts?.kind === "character" ? null : a.depicts;
    const label = a.source === "generated" ? "" : a.label;
    return depicts === a.depicts && label === a.label ? a : { ...a, depicts, label };
  },
};

type Imaged = { id: string; version: number; created_at: number; updated_at: number } & Record<string, unknown>;

/** Every image column of the world, by entity kind and slot: the one list of asset references. */
export const IMAGE_COLUMNS: Record<EntityRef["kind"], { kind: EntityKind<any>; slots: Partial<Record<ImageSlot, string>> }> = {
  character: { kind: CHARACTER, slots: { portrait: "portrait_asset_id", sprite: "sprite_asset_id" } },
  location: { kind: LOCATION, slots: { backdrop: "backdrop_asset_id", map: "map_asset_id" } },
  region: { kind: REGION, slots: { backdrop: "backdrop_asset_id" } },
  scene: { kind: SCENE, slots: { backdrop: "backdrop_asset_id" } },
};

/** An asset with a fresh signed URL. */
export async function assetView(env: { AUTH_SECRET?: string }, ttlSeconds: number, a: Asset, sessionId: string): Promise<AssetView> {
  const { url, expires_at } = await signAssetUrl(env.AUTH_SECRET, sessionId, a.id, ttlSeconds);
  return { ...a, url, url_expires_at: expires_at };
}

const view = (ctx: HandlerContext, a: Asset) => assetView(ctx.env, ctx.limits.assetUrlTtlSeconds, a, ctx.session.sessionId);

/** Sets (or clears) one image of an entity: its Updated event. */
export async function setEntityImage(ctx: HandlerContext, ref: EntityRef, slot: ImageSlot, assetId: string | null): Promise<void> {
  const target = IMAGE_COLUMNS[ref.kind];
  const column = target.slots[slot];
  if (!column) throw invalidField("image", `a ${ref.kind} has no ${slot} (it has ${Object.keys(target.slots).join(", ")})`);
  const before = (await requireVisible(ctx, target.kind, ref.id)) as Imaged;
  if (assetId !== null) await requireAssetRefs(ctx, { [column]: assetId }, "payload");
  if (before[column] === assetId) return;
  updateEntity(ctx, target.kind, before, { [column]: assetId });
}

/** What POST /assets hands the session object once the bytes are in R2. */
export interface UploadInput {
  asset_id: string;
  content_type: Asset["content_type"];
  size: number;
  sha256: string;
  width: number | null;
  height: number | null;
  label: string;
  /** Set this entity's image to the new asset (a player: its own PC's portrait only). */
  target: { entity: EntityRef; image: ImageSlot } | null;
}

/**
 * Who may upload: a DM anything; a player only its own PC's portrait (so `target` must name it);
 * spectators nothing. Checked before the bytes are stored, and again when the row is written.
 */
export async function authorizeUpload(ctx: HandlerContext, target: UploadInput["target"]): Promise<void> {
  if (isDm(ctx.actor)) return;
  if (ctx.actor.role !== "player") throw new AppError("FORBIDDEN", `a ${ctx.actor.role} may not upload images`, { role: ctx.actor.role });
  if (target?.entity.kind !== "character" || target.image !== "portrait") {
    throw new AppError("FORBIDDEN", "a player may upload only its own character's portrait (entity_kind=character&entity_id=<its PC>&image=portrait)", {
      role: "player",
    });
  }
  const pc = await requireVisible(ctx, CHARACTER, target.entity.id);
  if (pc.kind !== "pc" || pc.owner_participant_id !== ctx.actor.participant_id) {
    throw new AppError("FORBIDDEN", "a player may upload only its own character's portrait", { role: "player" });
  }
}

/** What a session's assets use: all of them (every source), and one participant's uploads. */
export interface AssetUsage {
  count: number;
  bytes: number;
  uploads: number;
  uploadBytes: number;
}

export async function assetUsage(db: D1Database, sessionId: string, participantId: string): Promise<AssetUsage> {
  const row = await db
    .prepare(
      "SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes, COALESCE(SUM(CASE WHEN mine THEN 1 ELSE 0 END), 0) AS uploads, COALESCE(SUM(CASE WHEN mine THEN size ELSE 0 END), 0) AS uploadBytes FROM (SELECT size, (created_by = ? AND source = 'upload') AS mine FROM assets WHERE session_id = ?)",
    )
    .bind(participantId, sessionId)
    .first<AssetUsage>();
  return row ?? { count: 0, bytes: 0, uploads: 0, uploadBytes: 0 };
}

export type QuotaLimits = Pick<Limits, "uploadMaxCountPerParticipant" | "uploadMaxBytesPerParticipant" | "sessionMaxAssets" | "sessionMaxAssetBytes">;

/**
 * The stored-asset quotas an upload of `size` bytes must fit (PAYLOAD_TOO_LARGE, 413, with
 * `details.reason`): the participant's uploads still stored (count and bytes) and the session's
 * assets of every source (count and bytes). Checked by POST /assets with the declared length
 * before a byte is read, and again in the write queue when the row is written (concurrent
 * uploads cannot overshoot). Deleting assets frees quota. See docs/images.md.
 */
export function checkUploadQuota(usage: AssetUsage, size: number, l: QuotaLimits): void {
  const over = (reason: string, what: string, limit: number, used: number) =>
    new AppError("PAYLOAD_TOO_LARGE", `${what} (${used} of ${limit} used; this upload: ${size} bytes). A DM may delete assets to make room`, {
      reason,
      limit,
      used,
      size,
    });
  if (usage.uploads + 1 > l.uploadMaxCountPerParticipant)
    throw over("participant_upload_count", "too many uploads by this participant", l.uploadMaxCountPerParticipant, usage.uploads);
  if (usage.uploadBytes + size > l.uploadMaxBytesPerParticipant)
    throw over("participant_upload_bytes", "this participant's uploads would exceed their quota of bytes", l.uploadMaxBytesPerParticipant, usage.uploadBytes);
  if (usage.count + 1 > l.sessionMaxAssets) throw over("session_asset_count", "the session holds as many assets as it may", l.sessionMaxAssets, usage.count);
  if (usage.bytes + size > l.sessionMaxAssetBytes)
    throw over("session_asset_bytes", "the session's assets would exceed its quota of bytes", l.sessionMaxAssetBytes, usage.bytes);
}

/** The asset row of an upload (AssetCreated), and the target's image when one was named. */
export async function recordUpload(ctx: HandlerContext, input: UploadInput): Promise<Asset> {
  await authorizeUpload(ctx, input.target);
  const usage = await assetUsage(ctx.db, ctx.session.sessionId, ctx.actor.participant_id);
  // Uploads committed in the same group are not in D1 yet: count the new assets written before this one.
  for (const a of ctx.tx.pending.written<Asset>(ASSET.table.name).filter((a) => a.version === 1)) {
    usage.count++;
    usage.bytes += a.size;
    if (a.source === "upload" && a.created_by === ctx.actor.participant_id) usage.uploads++, (usage.uploadBytes += a.size);
  }
  checkUploadQuota(usage, input.size, ctx.limits);
  const { asset_id, target, ...meta } = input;
  const asset: Asset = {
    ...create<Asset>(
      {
        world_id: ctx.session.worldId,
        ...meta,
        tags: [],
        depicts: target?.entity ?? null,
        source: "upload",
        created_by: ctx.actor.participant_id,
        generation_id: null,
      },
      ctx.now,
    ),
    id: asset_id,
  };
  assets.add(ctx, asset);
  emitChange(ctx.tx, ASSET, null, asset);
  if (target) await setEntityImage(ctx, target.entity, target.image, asset.id);
  return asset;
}

/** Clears every reference to the asset (each entity's Updated event). */
async function clearReferences(ctx: HandlerContext, assetId: string): Promise<void> {
  for (const { kind, slots } of Object.values(IMAGE_COLUMNS)) {
    const columns = Object.values(slots);
    const sql = columns.map((c) => `${c} = ?`).join(" OR ");
    const rows = (await kind.table.rows(ctx, {
      sql: `(${sql})`,
      params: columns.map(() => assetId),
      match: (e: Imaged) => columns.some((c) => e[c] === assetId),
    })) as Imaged[];
    for (const row of rows) {
      const patch = Object.fromEntries(columns.filter((c) => row[c] === assetId).map((c) => [c, null]));
      updateEntity(ctx, kind, row, patch);
    }
  }
}

/** Assets: metadata over the socket; bytes over HTTP (src/worker/assets.ts). See docs/images.md. */
export const assetHandlers = defineHandlers({
  ListAssets: {
    async handle(ctx, p) {
      // A player may filter by a character it can see only (a hidden NPC's id finds NOT_FOUND, as everywhere).
      if (p.depicts_kind === "character" && p.depicts_id && !isDm(ctx.actor)) await requireVisible(ctx, CHARACTER, p.depicts_id);
      // Whatever else the filter says, a player's filter on `depicts` never matches an image of a
      // character it cannot see (`depicts_id` alone would otherwise find a hidden NPC's portrait).
      const filtered = (p.depicts_kind || p.depicts_id) && !isDm(ctx.actor);
      const where = conditions(
        p.depicts_kind ? ["json_extract(depicts, '$.kind') = ?", p.depicts_kind] : false,
        p.depicts_id ? ["json_extract(depicts, '$.id') = ?", p.depicts_id] : false,
        filtered
          ? [
              "(json_extract(depicts, '$.kind') IS NOT 'character' OR json_extract(depicts, '$.id') IN (SELECT id FROM characters WHERE session_id = ? AND hidden = 0))",
              ctx.session.sessionId,
            ]
          : false,
      );
      const page = await assets.page(ctx.db, ctx.session.sessionId, { ...where, cursor: p.cursor, limit: p.limit, order: "desc" });
      return { items: await Promise.all(page.items.map((a) => view(ctx, viewOf(ctx, ASSET, a)))), next_cursor: page.next_cursor };
    },
  },

  GetAsset: {
    handle: async (ctx, p) => view(ctx, viewOf(ctx, ASSET, await requireVisible(ctx, ASSET, p.asset_id))),
  },

  UpdateAsset: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, ASSET, p.asset_id);
      if (p.data.depicts) await requireVisible(ctx, IMAGE_COLUMNS[p.data.depicts.kind].kind, p.data.depicts.id);
      return updateEntity(ctx, ASSET, before, p.data, p.expected_version);
    },
  },

  DeleteAsset: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, ASSET, p.asset_id);
      await clearReferences(ctx, before.id);
      const result = deleteEntity(ctx, ASSET, before, p.expected_version);
      const { IMAGES } = ctx.env;
      const key = assetKey(ctx.session.sessionId, before.id);
      // The bytes go once the row is gone; a failed delete leaves an object no URL can reach.
      ctx.tx.onCommit(() => void IMAGES.delete(key).catch((err) => console.error(JSON.stringify({ msg: "R2 delete failed", key, error: String(err) }))));
      return result;
    },
  },

  SetEntityImage: {
    async handle(ctx, p) {
      await setEntityImage(ctx, p.entity, p.image, p.asset_id);
      return { entity: p.entity, image: p.image, asset_id: p.asset_id };
    },
  },
});

/** setEntityImage for a job's outcome (no actor): an entity deleted meanwhile is left alone. */
export async function setEntityImageFromJob(o: JobOutcomeContext, ref: EntityRef, slot: ImageSlot, assetId: string): Promise<void> {
  const target = IMAGE_COLUMNS[ref.kind];
  const column = target.slots[slot];
  if (!column) return;
  const before = (await target.kind.table.find(o, ref.id)) as Imaged | null;
  if (!before) return;
  const after = bump(before, { [column]: assetId }, o.now);
  target.kind.table.save(o, after);
  emitChange(o.tx, target.kind, before, after);
}

export { assets, requireAssetRefs };
