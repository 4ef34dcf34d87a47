import type { StoryEvent, StoryEventKind } from "../protocol";
import { isDm } from "../engine/authorize";
import { SYSTEM_ACTOR } from "../engine/timers";
import { deleteEntity, insertEntity, requireAll, requireVisible, updateEntity } from "./changes";
import { withVisibleCharacters } from "./character-refs";
import { characters } from "./characters";
import type { HandlerContext } from "../engine/context";
import { conditions } from "../engine/store";
import { defineHandlers } from "../engine/context";
import { STORY_EVENT, locations, regions, scenes, storyEvents } from "./world-tables";
import { LOG_ALL, LOG_DMS, logPlay } from "./play-log";

/**
 * Timeline kinds the play log takes from the timeline itself; the others (arrivals, dialogue,
 * challenges, presence) are logged by their workflows with more than a summary.
 */
const LOGGED_KINDS: Partial<Record<StoryEventKind, "scene" | "story">> = { scene_changed: "scene", dm_marker: "story", custom: "story", item_given: "story" };

/**
 * Story events as the actor may see them: players learn only the ids of characters they can see
 * (events are filtered the same way at commit: character-refs.ts).
 */
const storyFor = (ctx: HandlerContext, items: StoryEvent[]) => withVisibleCharacters(ctx, "character_ids", items);

type Refs = Partial<Pick<StoryEvent, "character_ids" | "location_id" | "region_id" | "scene_id">>;

/** What a story event points at must exist in this world (NOT_FOUND otherwise). */
async function checkRefs(ctx: HandlerContext, refs: Refs): Promise<void> {
  await requireAll(ctx, characters, refs.character_ids ?? [], "character");
  await requireAll(ctx, locations, refs.location_id ? [refs.location_id] : [], "location");
  await requireAll(ctx, regions, refs.region_id ? [refs.region_id] : [], "region");
  await requireAll(ctx, scenes, refs.scene_id ? [refs.scene_id] : [], "scene");
}

/**
 * Appends an entry to the timeline, in the caller's transaction (its events go out with the
 * change that caused it). Workflows call this: scene changes, moves, and later dialogue,
 * challenges and staging. The caller vouches for the references.
 */
export async function appendStoryEvent(
  ctx: HandlerContext,
  entry: { kind: StoryEventKind; summary: string; hidden?: boolean } & Refs & Partial<Pick<StoryEvent, "details" | "game_time" | "tags">>,
): Promise<StoryEvent> {
  // Entries written in one millisecond keep their order: ids are time-ordered (store.newId).
  const story = insertEntity(ctx, STORY_EVENT, {
    world_id: ctx.session.worldId,
    kind: entry.kind,
    summary: entry.summary,
    details: entry.details ?? {},
    character_ids: entry.character_ids ?? [],
    location_id: entry.location_id ?? null,
    region_id: entry.region_id ?? null,
    scene_id: entry.scene_id ?? null,
    game_time: entry.game_time ?? null,
    tags: entry.tags ?? [],
    hidden: entry.hidden ?? false,
    // Work the session does by itself (a staging timeout) has no participant behind it.
    created_by: ctx.actor.participant_id === SYSTEM_ACTOR.participant_id ? null : ctx.actor.participant_id,
  });
  const kind = LOGGED_KINDS[story.kind];
  if (kind) logPlay(ctx, { kind, text: story.summary, scene_id: story.scene_id, story_event_id: story.id }, story.hidden ? LOG_DMS : LOG_ALL);
  return story;
}

/** The timeline: newest first; hidden entries exist for DMs only (lists, gets and events). */
export const storyHandlers = defineHandlers({
  ListStoryEvents: {
    async handle(ctx, p) {
      const filter = conditions(
        !isDm(ctx.actor) && ["hidden = 0"],
        p.kind && ["kind = ?", p.kind],
        p.character_id && ["EXISTS (SELECT 1 FROM json_each(story_events.character_ids) WHERE json_each.value = ?)", p.character_id],
        // For a player a hidden NPC and an unknown id are alike: nothing names them.
        !isDm(ctx.actor) &&
          p.character_id && ["EXISTS (SELECT 1 FROM characters c WHERE c.session_id = story_events.session_id AND c.id = ? AND c.hidden = 0)", p.character_id],
        p.from !== undefined && ["created_at >= ?", p.from],
        p.to !== undefined && ["created_at <= ?", p.to],
      );
      const page = await storyEvents.page(ctx.db, ctx.session.sessionId, {
        ...filter,
        cursor: p.cursor,
        limit: p.limit,
        order: "desc",
      });
      return { items: await storyFor(ctx, page.items), next_cursor: page.next_cursor };
    },
  },

  GetStoryEvent: {
    handle: async (ctx, p) => (await storyFor(ctx, [await requireVisible(ctx, STORY_EVENT, p.story_event_id)]))[0]!,
  },

  CreateStoryEvent: {
    async handle(ctx, p) {
      await checkRefs(ctx, p.data);
      return appendStoryEvent(ctx, { ...p.data, kind: p.data.kind ?? "dm_marker" });
    },
  },

  UpdateStoryEvent: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, STORY_EVENT, p.story_event_id);
      await checkRefs(ctx, p.data);
      return updateEntity(ctx, STORY_EVENT, before, p.data, p.expected_version);
    },
  },

  SetStoryEventVisibility: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, STORY_EVENT, p.story_event_id);
      return updateEntity(ctx, STORY_EVENT, before, { hidden: p.hidden }, p.expected_version);
    },
  },

  DeleteStoryEvent: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, STORY_EVENT, p.story_event_id);
      return deleteEntity(ctx, STORY_EVENT, before, p.expected_version);
    },
  },
});
