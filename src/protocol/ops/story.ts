import { z } from "zod";
import { PageParams, pageOf } from "../entities";
import { StoryEventFieldsSchema, StoryEventKindSchema, StoryEventSchema } from "../world-entities";
import { Deleted, ExpectedVersion, Id, op } from "./define";

const Time = z.number().int().min(0);

/** The timeline: newest first; hidden entries exist for DMs only. */
export const STORY_OPS = {
  ListStoryEvents: op(
    {
      kind: StoryEventKindSchema.optional(),
      character_id: Id.optional(),
      /** Time range on created_at (ms since epoch), both ends inclusive. */
      from: Time.optional(),
      to: Time.optional(),
      ...PageParams,
    },
    pageOf(StoryEventSchema),
  ),
  GetStoryEvent: op({ story_event_id: Id }, StoryEventSchema),
  /** DM: a marker on the timeline (kind dm_marker unless another is given). */
  CreateStoryEvent: op(
    {
      data: StoryEventFieldsSchema.partial()
        .required({ summary: true })
        .extend({ kind: StoryEventKindSchema.optional(), hidden: z.boolean().optional() })
        .strict(),
    },
    StoryEventSchema,
  ),
  UpdateStoryEvent: op({ story_event_id: Id, data: StoryEventFieldsSchema.partial().strict(), ...ExpectedVersion }, StoryEventSchema),
  SetStoryEventVisibility: op({ story_event_id: Id, hidden: z.boolean(), ...ExpectedVersion }, StoryEventSchema),
  DeleteStoryEvent: op({ story_event_id: Id, ...ExpectedVersion }, Deleted),
} as const;
