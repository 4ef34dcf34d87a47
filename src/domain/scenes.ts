import { AppError, SceneEntity, type Region, type Scene, invalidField } from "../protocol";
import { requireAssetRefs } from "./asset-refs";
import { authorize } from "../engine/authorize";
import { ALL } from "../engine/tx";
import { deleteEntity, emitChange, emitVisible, requireAll, requireVisible } from "./changes";
import { crudHandlers } from "./crud";
import { withVisibleCharacters } from "./character-refs";
import { CHARACTER, characters } from "./characters";
import { findConnection } from "./locations";
import { bump, checkVersion } from "../engine/store";
import { appendStoryEvent } from "./story";
import { defineHandlers, type HandlerContext } from "../engine/context";
import { LOCATION, REGION, SCENE, scenes } from "./world-tables";

/** The id of the scene everyone is in (worlds.active_scene_id, play state beside the World). */
export async function activeSceneId(ctx: HandlerContext): Promise<string | null> {
  const row = await ctx.db
    .prepare("SELECT active_scene_id FROM worlds WHERE session_id = ? AND id = ?")
    .bind(ctx.session.sessionId, ctx.session.worldId)
    .first<{ active_scene_id: string | null }>();
  return row?.active_scene_id ?? null;
}

/**
 * Scenes as the actor may see them: players learn only the ids of featured characters they can
 * see (events are filtered the same way at commit: character-refs.ts).
 */
export const scenesFor = (ctx: HandlerContext, items: Scene[]) => withVisibleCharacters(ctx, "featured_character_ids", items);

/** The active scene as the actor may see it (for GetActiveScene, and for the session snapshot). */
export async function activeScene(ctx: HandlerContext): Promise<Scene | null> {
  const id = await activeSceneId(ctx);
  const scene = id ? await scenes.find(ctx, id) : null;
  return scene && (await scenesFor(ctx, [scene]))[0]!;
}

function setActiveSceneId(ctx: HandlerContext, id: string | null): void {
  ctx.tx.write(ctx.db.prepare("UPDATE worlds SET active_scene_id = ? WHERE session_id = ? AND id = ?").bind(id, ctx.session.sessionId, ctx.session.worldId));
}

/** A scene's location and featured characters must exist in this world. */
async function checkSceneRefs(ctx: HandlerContext, d: { location_id?: string | null; featured_character_ids?: string[] }): Promise<void> {
  if (d.location_id) await requireVisible(ctx, LOCATION, d.location_id);
  await requireAll(ctx, characters, d.featured_character_ids ?? [], "character");
}

/** From its current region, may the PC walk into `to`? Refuses with the reason otherwise. */
async function checkPath(ctx: HandlerContext, from: Region, to: Region): Promise<void> {
  const c = await findConnection(ctx, from.id, to.id);
  if (!c || (!c.bidirectional && c.from_region_id !== from.id)) {
    throw invalidField("region_id", `'${to.name}' cannot be reached from '${from.name}'`, { reason: "not_connected", from_region_id: from.id });
  }
  if (c.is_locked) {
    throw new AppError("CONFLICT", `the way from '${from.name}' to '${to.name}' is locked${c.lock_description ? `: ${c.lock_description}` : ""}`, {
      reason: "connection_locked",
      region_connection_id: c.id,
      lock_description: c.lock_description,
    });
  }
}

export const sceneHandlers = defineHandlers({
  ...crudHandlers(SceneEntity, SCENE, {
    listWhere: (_ctx, p) => [!!p.location_id && ["location_id = ?", p.location_id]],
    check: (ctx, d) => checkSceneRefs(ctx, d),
    prepare: (d) => (d.featured_character_ids ? { ...d, featured_character_ids: [...new Set(d.featured_character_ids)] } : d),
    view: scenesFor,
  }),

  DeleteScene: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, SCENE, p.scene_id);
      const result = deleteEntity(ctx, SCENE, before, p.expected_version);
      if ((await activeSceneId(ctx)) === before.id) {
        setActiveSceneId(ctx, null);
        ctx.tx.emit({ type: "SceneChanged", scene: null, previous_scene_id: before.id }, ALL);
      }
      return result;
    },
  },

  SetActiveScene: {
    async handle(ctx, p) {
      const scene = p.scene_id ? await requireVisible(ctx, SCENE, p.scene_id) : null;
      const previous = await activeSceneId(ctx);
      setActiveSceneId(ctx, scene?.id ?? null);
      if (scene) emitVisible(ctx.tx, SCENE, scene, (s) => ({ type: "SceneChanged", scene: s, previous_scene_id: previous }));
      else ctx.tx.emit({ type: "SceneChanged", scene: null, previous_scene_id: previous }, ALL);
      await appendStoryEvent(ctx, {
        kind: "scene_changed",
        summary: scene ? `The scene is now '${scene.name}'` : "The scene ended",
        scene_id: scene?.id ?? null,
        location_id: scene?.location_id ?? null,
        details: { previous_scene_id: previous },
      });
      return { scene };
    },
  },

  GetActiveScene: {
    async handle(ctx) {
      return { scene: await activeScene(ctx) };
    },
  },

  SetSceneBackdrop: {
    async handle(ctx, p) {
      await requireAssetRefs(ctx, { backdrop_asset_id: p.backdrop_asset_id }, "payload");
      const before = await requireVisible(ctx, SCENE, p.scene_id);
      checkVersion(before, p.expected_version, "scene");
      const after = scenes.save(ctx, bump(before, { backdrop_asset_id: p.backdrop_asset_id }, ctx.now));
      emitVisible(ctx.tx, SCENE, after, (s) => ({ type: "SceneUpdate", scene: s }));
      return after;
    },
  },

  MoveToRegion: {
    async handle(ctx, p) {
      const pc = await requireVisible(ctx, CHARACTER, p.character_id);
      authorize(ctx.actor, "own", pc, "move a character that is not its own");
      if (pc.kind !== "pc") throw invalidField("character_id", "only player characters move with MoveToRegion (a DM places NPCs with UpdateCharacter)");
      const to = await requireVisible(ctx, REGION, p.region_id);
      if (pc.region_id === to.id) throw invalidField("region_id", `'${pc.name}' is already in '${to.name}'`);
      // A PC not yet on the map may enter anywhere; otherwise it follows a connection.
      const from = pc.region_id ? await REGION.table.find(ctx, pc.region_id) : null;
      if (from) await checkPath(ctx, from, to);
      const after = characters.save(ctx, bump(pc, { region_id: to.id }, ctx.now));
      emitChange(ctx.tx, CHARACTER, pc, after);
      await appendStoryEvent(ctx, {
        kind: "region_entered",
        summary: `${pc.name} entered ${to.name}`,
        character_ids: [pc.id],
        region_id: to.id,
        location_id: to.location_id,
        details: { from_region_id: from?.id ?? null },
      });
      for (const hook of ctx.hooks.regionEntry) await hook.run(ctx, { character: after, from, to });
      return { character: after, region: to };
    },
  },
});
