import { AppError, LocationEntity, RegionConnectionEntity, RegionEntity, type Region, invalidField } from "../protocol";
import { requireAssetRefs } from "./asset-refs";
import { deleteEntity, emitChange, insertEntity, requireVisible, updateEntity } from "./changes";
import { crudHandlers } from "./crud";
import { CHARACTER, characters } from "./characters";
import { bump, checkVersion } from "../engine/store";
import { defineHandlers, type HandlerContext } from "../engine/context";
import {
  LOCATION,
  NPC_REGION_RELATIONSHIP,
  REGION,
  REGION_CONNECTION,
  SCENE,
  locations,
  npcRegionRelationships,
  regionConnections,
  regions,
  scenes,
} from "./world-tables";

/** A location's default region must be one of its own regions. */
async function checkDefaultRegion(ctx: HandlerContext, locationId: string | null, regionId: string | null | undefined): Promise<void> {
  if (!regionId) return;
  const region = await requireVisible(ctx, REGION, regionId);
  if (region.location_id !== locationId) throw invalidField("data.default_region_id", "the region belongs to another location");
}

/**
 * Removes regions with everything that hangs on them, in the caller's transaction: their
 * connections and NPC relationships are deleted; characters standing in them are taken off the
 * map (region_id null); a location whose default region it was loses that default.
 * Every change emits its own event, so clients need no cascade rules of their own.
 * `set` selects the ids of the regions `gone` in SQL (a subquery: any number of regions, few
 * parameters); the rows this Tx changed are matched against `gone` itself.
 */
async function removeRegions(ctx: HandlerContext, gone: Region[], set: { sql: string; params: unknown[] }, keepLocationId?: string): Promise<void> {
  if (gone.length === 0) return;
  const ids = new Set(gone.map((r) => r.id));
  const sub = `(${set.sql})`;
  const inGone = (id: string | null) => id !== null && ids.has(id);
  const [connections, relationships, standing] = await Promise.all([
    regionConnections.rows(ctx, {
      sql: `from_region_id IN ${sub} OR to_region_id IN ${sub}`,
      params: [...set.params, ...set.params],
      match: (c) => inGone(c.from_region_id) || inGone(c.to_region_id),
    }),
    npcRegionRelationships.rows(ctx, { sql: `region_id IN ${sub}`, params: set.params, match: (r) => inGone(r.region_id) }),
    characters.rows(ctx, { sql: `region_id IN ${sub}`, params: set.params, match: (c) => inGone(c.region_id) }),
  ]);
  for (const c of connections) deleteEntity(ctx, REGION_CONNECTION, c);
  for (const r of relationships) deleteEntity(ctx, NPC_REGION_RELATIONSHIP, r, undefined, { character_id: r.character_id, region_id: r.region_id });
  for (const c of standing) {
    const after = characters.save(ctx, bump(c, { region_id: null }, ctx.now));
    emitChange(ctx.tx, CHARACTER, c, after);
  }
  if (keepLocationId) {
    const owner = await locations.find(ctx, keepLocationId);
    if (owner?.default_region_id && ids.has(owner.default_region_id)) updateEntity(ctx, LOCATION, owner, { default_region_id: null });
  }
  for (const r of gone) deleteEntity(ctx, REGION, r);
}

export const locationHandlers = defineHandlers({
  // ---------- locations ----------
  ...crudHandlers(LocationEntity, LOCATION, {
    // A new location has no regions yet, so it cannot name a default one.
    check: (ctx, d, before) => checkDefaultRegion(ctx, before?.id ?? null, d.default_region_id),
  }),

  DeleteLocation: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, LOCATION, p.location_id);
      const own = await regions.rows(ctx, regions.where({ location_id: before.id }));
      // Checked before the cascade so that a stale version changes nothing.
      deleteEntity(ctx, LOCATION, before, p.expected_version, { region_ids: own.map((r) => r.id) });
      await removeRegions(ctx, own, { sql: "SELECT id FROM regions WHERE session_id = ? AND location_id = ?", params: [ctx.session.sessionId, before.id] });
      // Scenes set there stay, without a location (the commit's filter keeps hidden NPCs' ids from players).
      for (const scene of await scenes.rows(ctx, scenes.where({ location_id: before.id }))) {
        updateEntity(ctx, SCENE, scene, { location_id: null });
      }
      return { deleted: true as const };
    },
  },

  // ---------- regions ----------
  ListRegions: {
    async handle(ctx, p) {
      if (p.location_id) await requireVisible(ctx, LOCATION, p.location_id);
      return regions.page(ctx.db, ctx.session.sessionId, {
        where: p.location_id ? "location_id = ?" : undefined,
        params: p.location_id ? [p.location_id] : [],
        cursor: p.cursor,
        limit: p.limit,
      });
    },
  },

  GetRegion: {
    handle: (ctx, p) => requireVisible(ctx, REGION, p.region_id),
  },

  CreateRegion: {
    async handle(ctx, p) {
      await requireAssetRefs(ctx, p.data);
      const location = await requireVisible(ctx, LOCATION, p.location_id);
      return insertEntity(ctx, REGION, { world_id: ctx.session.worldId, location_id: location.id, ...RegionEntity.complete(p.data) });
    },
  },

  UpdateRegion: {
    async handle(ctx, p) {
      await requireAssetRefs(ctx, p.data);
      const before = await requireVisible(ctx, REGION, p.region_id);
      return updateEntity(ctx, REGION, before, p.data, p.expected_version);
    },
  },

  DeleteRegion: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, REGION, p.region_id);
      checkVersion(before, p.expected_version, "region");
      await removeRegions(ctx, [before], { sql: "SELECT ?", params: [before.id] }, before.location_id);
      return { deleted: true as const };
    },
  },

  // ---------- connections ----------
  ListRegionConnections: {
    async handle(ctx, p) {
      if (p.region_id) await requireVisible(ctx, REGION, p.region_id);
      return regionConnections.page(ctx.db, ctx.session.sessionId, {
        where: p.region_id ? "from_region_id = ? OR to_region_id = ?" : undefined,
        params: p.region_id ? [p.region_id, p.region_id] : [],
        cursor: p.cursor,
        limit: p.limit,
      });
    },
  },

  CreateRegionConnection: {
    async handle(ctx, p) {
      const d = p.data;
      const { from_region_id, to_region_id, ...fields } = d;
      if (d.from_region_id === d.to_region_id) throw invalidField("data.to_region_id", "a region cannot connect to itself");
      await requireVisible(ctx, REGION, d.from_region_id);
      await requireVisible(ctx, REGION, d.to_region_id);
      const existing = await findConnection(ctx, d.from_region_id, d.to_region_id);
      if (existing) {
        throw new AppError("CONFLICT", `regions '${d.from_region_id}' and '${d.to_region_id}' are already connected`, { current: existing });
      }
      return insertEntity(ctx, REGION_CONNECTION, { world_id: ctx.session.worldId, from_region_id, to_region_id, ...RegionConnectionEntity.complete(fields) });
    },
  },

  UpdateRegionConnection: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, REGION_CONNECTION, p.region_connection_id);
      return updateEntity(ctx, REGION_CONNECTION, before, p.data, p.expected_version);
    },
  },

  DeleteRegionConnection: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, REGION_CONNECTION, p.region_connection_id);
      return deleteEntity(ctx, REGION_CONNECTION, before, p.expected_version);
    },
  },

  // ---------- NPC–region relationships (DM only) ----------
  ListNpcRegionRelationships: {
    async handle(ctx, p) {
      // Relationships of deleted NPCs are left out (DeleteCharacter does not know about them).
      const conds = ["character_id IN (SELECT id FROM characters WHERE session_id = ?)"];
      const params: unknown[] = [ctx.session.sessionId];
      if (p.character_id) {
        conds.push("character_id = ?");
        params.push(p.character_id);
      }
      if (p.region_id) {
        conds.push("region_id = ?");
        params.push(p.region_id);
      }
      return npcRegionRelationships.page(ctx.db, ctx.session.sessionId, { where: conds.join(" AND "), params, cursor: p.cursor, limit: p.limit });
    },
  },

  SetNpcRegionRelationship: {
    async handle(ctx, p) {
      const npc = await characters.require(ctx, p.character_id, "character");
      if (npc.kind !== "npc") throw invalidField("character_id", "only NPCs have region relationships");
      await requireVisible(ctx, REGION, p.region_id);
      const before = await findRelationship(ctx, p.character_id, p.region_id);
      const fields = { relationship_type: p.relationship_type, notes: p.notes ?? before?.notes ?? "" };
      if (before) return updateEntity(ctx, NPC_REGION_RELATIONSHIP, before, fields);
      return insertEntity(ctx, NPC_REGION_RELATIONSHIP, { world_id: ctx.session.worldId, character_id: npc.id, region_id: p.region_id, ...fields });
    },
  },

  RemoveNpcRegionRelationship: {
    async handle(ctx, p) {
      const before = await findRelationship(ctx, p.character_id, p.region_id);
      if (!before) {
        throw new AppError("NOT_FOUND", `character '${p.character_id}' has no relationship with region '${p.region_id}'`, {
          character_id: p.character_id,
          region_id: p.region_id,
        });
      }
      return deleteEntity(ctx, NPC_REGION_RELATIONSHIP, before, undefined, { character_id: before.character_id, region_id: before.region_id });
    },
  },
});

/** The connection between two regions, whichever way it was declared. */
export async function findConnection(ctx: HandlerContext, a: string, b: string) {
  const [c] = await regionConnections.rows(ctx, {
    sql: "(from_region_id = ? AND to_region_id = ?) OR (from_region_id = ? AND to_region_id = ?)",
    params: [a, b, b, a],
    match: (c) => (c.from_region_id === a && c.to_region_id === b) || (c.from_region_id === b && c.to_region_id === a),
  });
  return c ?? null;
}

async function findRelationship(ctx: HandlerContext, characterId: string, regionId: string) {
  const [r] = await npcRegionRelationships.rows(ctx, npcRegionRelationships.where({ character_id: characterId, region_id: regionId }));
  return r ?? null;
}
