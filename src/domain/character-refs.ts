import type { AnyEvent } from "../protocol";
import { isDm } from "../engine/authorize";
import { DMS, NON_DMS, type PendingEvent, type Tx } from "../engine/tx";
import type { HandlerContext } from "../engine/context";

/**
 * Scenes (featured_character_ids) and story events (character_ids) name characters. Players see
 * only the ids of characters they can see: not hidden NPCs, and not characters that are gone —
 * a deleted hidden NPC never existed for them, and an unknown id must look the same as a hidden
 * one. Reads are filtered against what is committed; events at commit, against the state the
 * whole Tx (a Batch too) leaves behind.
 */

/** Which of `ids` name characters players can see (committed state). */
async function visibleCharacterIds(db: D1Database, sessionId: string, ids: readonly string[]): Promise<Set<string>> {
  const unique = [...new Set(ids)];
  const visible = new Set<string>();
  // D1 binds at most 100 parameters per statement.
  for (let i = 0; i < unique.length; i += 90) {
    const chunk = unique.slice(i, i + 90);
    const { results } = await db
      .prepare(`SELECT id FROM characters WHERE session_id = ? AND hidden = 0 AND id IN (${chunk.map(() => "?").join(", ")})`)
      .bind(sessionId, ...chunk)
      .all<{ id: string }>();
    for (const r of results) visible.add(r.id);
  }
  return visible;
}

/** Entities as the actor may see them: for players, without ids of characters they cannot see. */
export async function withVisibleCharacters<E, F extends keyof E & string>(ctx: HandlerContext, field: F, items: E[]): Promise<E[]> {
  if (isDm(ctx.actor)) return items;
  const ids = items.flatMap((e) => e[field] as unknown as string[]);
  if (ids.length === 0) return items;
  const visible = await visibleCharacterIds(ctx.db, ctx.session.sessionId, ids);
  return items.map((e) => {
    const list = e[field] as unknown as string[];
    return list.every((id) => visible.has(id)) ? e : { ...e, [field]: list.filter((id) => visible.has(id)) };
  });
}

/** The character ids an event names, and the event without those `keep` refuses. */
function namedCharacters(event: AnyEvent): { ids: string[]; keepOnly: (keep: (id: string) => boolean) => AnyEvent } | null {
  switch (event.type) {
    case "SceneCreated":
    case "SceneUpdated":
    case "SceneUpdate":
    case "SceneChanged": {
      const scene = event.scene;
      if (!scene) return null;
      return {
        ids: scene.featured_character_ids,
        keepOnly: (keep) => ({ ...event, scene: { ...scene, featured_character_ids: scene.featured_character_ids.filter(keep) } }),
      };
    }
    case "StoryEventCreated":
    case "StoryEventUpdated": {
      const entry = event.story_event;
      return { ids: entry.character_ids, keepOnly: (keep) => ({ ...event, story_event: { ...entry, character_ids: entry.character_ids.filter(keep) } }) };
    }
    default:
      return null;
  }
}

/**
 * Runs on every Tx before it commits (src/session/pipeline.ts: requests, jobs, timers, uploads
 * alike): events players receive name only characters
 * visible once the Tx is committed. An event for everyone that names others splits in two: DMs
 * get it whole, players without those ids. Costs a query only when such an event is in the Tx.
 */
export async function redactCharacterRefs(db: D1Database, sessionId: string, tx: Tx, earlier: readonly PendingEvent[] = []): Promise<void> {
  const toPlayers = (p: PendingEvent) => p.audience.kind !== "dm";
  const named = tx.events.flatMap((p) => (toPlayers(p) ? (namedCharacters(p.event)?.ids ?? []) : []));
  if (named.length === 0) return;
  const visible = await visibleCharacterIds(db, sessionId, named);
  // Changes not committed yet come last, in order: those of the Tx's group commit before it
  // (`earlier`), then its own. Each change's DM event carries the whole character.
  for (const { event } of [...earlier, ...tx.events]) {
    if (event.type === "CharacterCreated" || event.type === "CharacterUpdated") {
      if (event.character.hidden) visible.delete(event.character.id);
      else visible.add(event.character.id);
    } else if (event.type === "CharacterDeleted") {
      visible.delete(event.character_id);
    }
  }
  const keep = (id: string) => visible.has(id);
  const out: PendingEvent[] = [];
  for (const p of tx.events) {
    const named = toPlayers(p) ? namedCharacters(p.event) : null;
    if (!named || named.ids.every(keep)) out.push(p);
    else if (p.audience.kind === "all") out.push({ event: p.event, audience: DMS }, { event: named.keepOnly(keep), audience: NON_DMS });
    else out.push({ event: named.keepOnly(keep), audience: p.audience });
  }
  tx.events.splice(0, tx.events.length, ...out);
}
