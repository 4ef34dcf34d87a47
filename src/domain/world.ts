import { AppError, WORLD_DOCUMENT_FORMAT, WorldSchema, type WorldDocument, invalidField } from "../protocol";
import { ALL } from "../engine/tx";
import { characters, inventory } from "./characters";
import { Table, bump, checkVersion } from "../engine/store";
import { checkPromptOverride } from "./prompts";
import { defineHandlers, type HandlerContext } from "../engine/context";
import { actantialViews, challenges, wants } from "./gameplay-tables";
import { assets } from "./asset-refs";
import { assetKey } from "../engine/asset-urls";
import { locations, npcRegionRelationships, promptOverrides, regionConnections, regions, scenes, goals, storyEvents } from "./world-tables";

/** The session's world; active_scene_id is play state beside it (scenes.ts), not a World field. */
export const worlds = Table.of("worlds", WorldSchema, { scope: ["session_id"], extraColumns: ["active_scene_id"] });

/**
 * Every table of the world's content, by its key in the export document. A function, because
 * characters.ts imports this module indirectly (through session.ts): read at call time.
 */
const content = () => ({
  locations,
  regions,
  region_connections: regionConnections,
  npc_region_relationships: npcRegionRelationships,
  scenes,
  goals,
  story_events: storyEvents,
  prompt_templates: promptOverrides,
  characters,
  inventory,
  wants,
  actantial_views: actantialViews,
  challenges,
});
type ContentKey = keyof ReturnType<typeof content>;

/** Rows left out of an export: prompt keys reset to their default; relationships of deleted NPCs. */
const EXPORT_FILTER: Partial<Record<ContentKey, string>> = {
  prompt_templates: "value IS NOT NULL",
  npc_region_relationships: "character_id IN (SELECT id FROM characters WHERE session_id = ?1)",
  wants: "character_id IN (SELECT id FROM characters WHERE session_id = ?1)",
  actantial_views:
    "want_id IN (SELECT id FROM wants WHERE session_id = ?1 AND character_id IN (SELECT id FROM characters WHERE session_id = ?1)) AND target_character_id IN (SELECT id FROM characters WHERE session_id = ?1)",
};

/** The whole world, read in ONE D1 batch (a transaction): a consistent snapshot, even while writes go on. */
async function exportWorld(ctx: HandlerContext): Promise<WorldDocument> {
  const { db } = ctx;
  const s = ctx.session.sessionId;
  const keys = Object.keys(content()) as ContentKey[];
  const [worldRows, ...tables] = await db.batch<Record<string, unknown>>([
    db.prepare("SELECT * FROM worlds WHERE session_id = ?1 AND id = ?2").bind(s, ctx.session.worldId),
    ...keys.map((k) => {
      const filter = EXPORT_FILTER[k];
      return db.prepare(`SELECT * FROM ${content()[k].name} WHERE session_id = ?1${filter ? ` AND ${filter}` : ""} ORDER BY created_at, id`).bind(s);
    }),
  ]);
  const assetRows = await db.prepare("SELECT * FROM assets WHERE session_id = ? ORDER BY created_at, id").bind(s).all<Record<string, unknown>>();
  const worldRow = worldRows?.results[0];
  if (!worldRow) throw new AppError("NOT_FOUND", `world '${ctx.session.worldId}' not found`);
  const { session_id: _s, ...world } = worlds.fromRow(worldRow);
  const rows = <K extends ContentKey>(k: K) => tables[keys.indexOf(k)]!.results.map((r) => (content()[k] as Table<any>).fromRow(r)) as WorldDocument[K];
  return {
    format: WORLD_DOCUMENT_FORMAT,
    exported_at: ctx.now,
    world: { ...world, active_scene_id: (worldRow.active_scene_id as string | null) ?? null },
    locations: rows("locations"),
    regions: rows("regions"),
    region_connections: rows("region_connections"),
    npc_region_relationships: rows("npc_region_relationships"),
    scenes: rows("scenes"),
    goals: rows("goals"),
    story_events: rows("story_events"),
    prompt_templates: rows("prompt_templates").map(({ key, value, version, created_at, updated_at }) => ({ key, value, version, created_at, updated_at })),
    characters: rows("characters"),
    inventory: rows("inventory"),
    wants: rows("wants"),
    actantial_views: rows("actantial_views"),
    challenges: rows("challenges"),
    assets: assetRows.results.map((r) => assets.fromRow(r)),
  };
}

/**
 * Writes every entity of an import into the Tx: each entity gets a fresh id (so a document can be imported
 * into any session, even twice), and every reference is rewritten to the new ids. A required
 * reference to something not in the document is a VALIDATION_ERROR naming it; an optional one is
 * dropped (set to null, or left out of a list).
 */
async function importEntities(ctx: HandlerContext, doc: WorldDocument): Promise<void> {
  const ids = new Map<string, string>();
  for (const k of Object.keys(content()) as ContentKey[]) {
    if (k === "prompt_templates") continue;
    doc[k].forEach((e, i) => {
      if (ids.has(e.id)) throw invalidField(`document.${k}.${i}.id`, `id '${e.id}' appears twice in the document`);
      ids.set(e.id, crypto.randomUUID());
    });
  }
  doc.assets.forEach((a, i) => {
    if (ids.has(a.id)) throw invalidField(`document.assets.${i}.id`, `id '${a.id}' appears twice in the document`);
    ids.set(a.id, crypto.randomUUID());
  });
  const keys = new Set<string>();
  doc.prompt_templates.forEach((p, i) => {
    if (keys.has(p.key)) throw invalidField(`document.prompt_templates.${i}.key`, `'${p.key}' appears twice in the document`);
    keys.add(p.key);
    checkPromptOverride(p.key, p.value, `document.prompt_templates.${i}`);
  });
  const opt = (id: string | null) => (id !== null && ids.get(id)) || null;
  const list = (xs: string[]) => xs.flatMap((x) => ids.get(x) ?? []);
  // Story event details may name entities (a move's from_region_id): those ids follow too.
  const remap = (v: unknown): unknown =>
    typeof v === "string"
      ? (ids.get(v) ?? v)
      : Array.isArray(v)
        ? v.map(remap)
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, remap(x)]))
          : v;
  const req = (id: string, path: string) => {
    const mapped = ids.get(id);
    if (!mapped) throw invalidField(`document.${path}`, `'${id}' is not in the document`);
    return mapped;
  };
  // A region reference must name a region of the document (not another entity, not nothing).
  const regionIds = new Set(doc.regions.map((r) => r.id));
  const region = (id: string | null, path: string) => {
    if (id === null) return null;
    if (!regionIds.has(id)) throw invalidField(`document.${path}`, `'${id}' is not a region of the document`);
    return ids.get(id)!;
  };
  const { results } = await ctx.db.prepare("SELECT id FROM participants WHERE session_id = ?").bind(ctx.session.sessionId).all<{ id: string }>();
  const here = new Set(results.map((r) => r.id));
  // PCs keep their player only when that participant is in this session.
  const participant = (id: string | null) => (id && here.has(id) ? id : null);

  // An image reference survives only when its asset is in the document.
  const assetIds = new Set(doc.assets.map((a) => a.id));
  const img = (id: string | null) => (id !== null && assetIds.has(id) ? ids.get(id)! : null);

  const add = <E extends { id: string; version: number; created_at: number; updated_at: number }>(t: Table<E>, e: E) => t.add(ctx, e);
  const w = ctx.session.worldId;
  doc.locations.forEach((l, i) =>
    add(locations, {
      ...l,
      world_id: w,
      id: ids.get(l.id)!,
      backdrop_asset_id: img(l.backdrop_asset_id),
      map_asset_id: img(l.map_asset_id),
      default_region_id: region(l.default_region_id, `locations.${i}.default_region_id`),
    }),
  );
  doc.regions.forEach((r, i) =>
    add(regions, {
      ...r,
      world_id: w,
      id: ids.get(r.id)!,
      backdrop_asset_id: img(r.backdrop_asset_id),
      location_id: req(r.location_id, `regions.${i}.location_id`),
    }),
  );
  doc.region_connections.forEach((c, i) =>
    add(regionConnections, {
      ...c,
      world_id: w,
      id: ids.get(c.id)!,
      from_region_id: region(c.from_region_id, `region_connections.${i}.from_region_id`)!,
      to_region_id: region(c.to_region_id, `region_connections.${i}.to_region_id`)!,
    }),
  );
  doc.npc_region_relationships.forEach((r, i) =>
    add(npcRegionRelationships, {
      ...r,
      world_id: w,
      id: ids.get(r.id)!,
      character_id: req(r.character_id, `npc_region_relationships.${i}.character_id`),
      region_id: region(r.region_id, `npc_region_relationships.${i}.region_id`)!,
    }),
  );
  doc.scenes.forEach((s) =>
    add(scenes, {
      ...s,
      world_id: w,
      id: ids.get(s.id)!,
      location_id: opt(s.location_id),
      featured_character_ids: list(s.featured_character_ids),
      backdrop_asset_id: img(s.backdrop_asset_id),
      directorial_notes: s.directorial_notes ?? "",
    }),
  );
  doc.goals.forEach((g) => add(goals, { ...g, world_id: w, id: ids.get(g.id)! }));
  doc.story_events.forEach((e) =>
    add(storyEvents, {
      ...e,
      world_id: w,
      id: ids.get(e.id)!,
      details: remap(e.details) as Record<string, unknown>,
      character_ids: list(e.character_ids),
      location_id: opt(e.location_id),
      // The timeline outlives deleted regions (as it does locations and scenes): such a reference
      // becomes null, and only a region of the document is kept.
      region_id: e.region_id !== null && regionIds.has(e.region_id) ? ids.get(e.region_id)! : null,
      scene_id: opt(e.scene_id),
      created_by: participant(e.created_by),
    }),
  );
  doc.prompt_templates.forEach((p) => add(promptOverrides, { ...p, id: crypto.randomUUID() }));
  doc.characters.forEach((c, i) =>
    add(characters, {
      ...c,
      world_id: w,
      id: ids.get(c.id)!,
      region_id: region(c.region_id, `characters.${i}.region_id`),
      owner_participant_id: participant(c.owner_participant_id),
      portrait_asset_id: img(c.portrait_asset_id),
      sprite_asset_id: img(c.sprite_asset_id),
      dm_notes: c.dm_notes ?? "",
    }),
  );
  doc.inventory.forEach((item, i) => add(inventory, { ...item, id: ids.get(item.id)!, character_id: req(item.character_id, `inventory.${i}.character_id`) }));
  // A want's target follows its entity; a target not in the document is dropped.
  const target = (t: WorldDocument["wants"][number]["target"]) => (t && t.type !== "text" ? (ids.has(t.id) ? { ...t, id: ids.get(t.id)! } : null) : t);
  doc.wants.forEach((x, i) =>
    add(wants, { ...x, world_id: w, id: ids.get(x.id)!, character_id: req(x.character_id, `wants.${i}.character_id`), target: target(x.target) }),
  );
  doc.actantial_views.forEach((v, i) =>
    add(actantialViews, {
      ...v,
      world_id: w,
      id: ids.get(v.id)!,
      character_id: req(v.character_id, `actantial_views.${i}.character_id`),
      want_id: req(v.want_id, `actantial_views.${i}.want_id`),
      target_character_id: req(v.target_character_id, `actantial_views.${i}.target_character_id`),
    }),
  );
  doc.challenges.forEach((c) =>
    add(challenges, { ...c, world_id: w, id: ids.get(c.id)!, outcomes: c.outcomes ?? { success: "", failure: "", partial: "", critical: "" } }),
  );
  await importAssets(ctx, doc, ids, participant);
  const activeSceneId = opt(doc.world.active_scene_id);
  ctx.tx.write(ctx.db.prepare("UPDATE worlds SET active_scene_id = ? WHERE session_id = ? AND id = ?").bind(activeSceneId, ctx.session.sessionId, w));
}

/**
 * Asset metadata of an import, under new ids (source "import"). The bytes stay where they are:
 * those of an asset still stored in this very session (same id and sha256 in D1) are copied to
 * the new key once the import has committed; the others (another session's or deployment's)
 * serve 404 until replaced. See docs/images.md.
 */
async function importAssets(
  ctx: HandlerContext,
  doc: WorldDocument,
  ids: Map<string, string>,
  participant: (id: string | null) => string | null,
): Promise<void> {
  const copies: { from: string; to: string }[] = [];
  for (const a of doc.assets) {
    const id = ids.get(a.id)!;
    const depicts = a.depicts && ids.has(a.depicts.id) ? { kind: a.depicts.kind, id: ids.get(a.depicts.id)! } : null;
    assets.add(ctx, { ...a, id, world_id: ctx.session.worldId, depicts, source: "import", created_by: participant(a.created_by), generation_id: null });
    // Only this session's own bytes: an id and sha256 are no proof of access to another session's
    // image (players see both), so the lookup never leaves the session.
    const origin = await ctx.db
      .prepare("SELECT id FROM assets WHERE session_id = ? AND id = ? AND sha256 = ?")
      .bind(ctx.session.sessionId, a.id, a.sha256)
      .first<{ id: string }>();
    if (origin) copies.push({ from: assetKey(ctx.session.sessionId, a.id), to: assetKey(ctx.session.sessionId, id) });
  }
  const bucket = ctx.env.IMAGES;
  ctx.tx.onCommit(() => {
    for (const { from, to } of copies) {
      void (async () => {
        const object = await bucket.get(from);
        if (object) await bucket.put(to, await object.arrayBuffer(), { httpMetadata: object.httpMetadata });
      })().catch((err) => console.error(JSON.stringify({ msg: "asset copy failed", from, to, error: String(err) })));
    }
  });
}

export const worldHandlers = defineHandlers({
  GetWorld: {
    handle: (ctx) => worlds.require(ctx, ctx.session.worldId, "world"),
  },

  UpdateWorld: {
    async handle(ctx, p) {
      const before = await worlds.require(ctx, ctx.session.worldId, "world");
      checkVersion(before, p.expected_version, "world");
      const after = worlds.save(ctx, bump(before, p.data, ctx.now));
      ctx.tx.emit({ type: "WorldUpdated", world: after }, ALL);
      return after;
    },
  },

  ExportWorld: {
    handle: (ctx) => exportWorld(ctx),
  },

  ImportWorld: {
    async handle(ctx, p) {
      const mode = p.mode ?? "fill";
      const s = ctx.session.sessionId;
      const tables = Object.values(content());
      if (mode === "fill") {
        const rows = await Promise.all(tables.map((t) => ctx.db.prepare(`SELECT 1 FROM ${t.name} WHERE session_id = ? LIMIT 1`).bind(s).first()));
        const used = tables.find((_, i) => rows[i] !== null);
        if (used) {
          throw new AppError("CONFLICT", `the world is not empty (it has ${used.name}); import with mode 'replace' to overwrite it`, { table: used.name });
        }
      } else {
        for (const t of tables) (t as Table<any>).removeWhere(ctx, { match: () => true });
      }
      await importEntities(ctx, p.document);
      const before = await worlds.require(ctx, ctx.session.worldId, "world");
      const { name, description, rule_system } = p.document.world;
      const world = worlds.save(ctx, bump(before, { name, description, rule_system }, ctx.now));
      ctx.tx.emit({ type: "WorldImported", world }, ALL);
      const counts = Object.fromEntries((Object.keys(content()) as ContentKey[]).map((k) => [k, p.document[k].length]));
      return { world, counts };
    },
  },
});
