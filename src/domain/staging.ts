import { z } from "zod";
import {
  OPERATIONS,
  AppError,
  invalidField,
  type Character,
  type PresentNpc,
  type Region,
  type RegionPresence,
  type StagedNpc,
  type Staging,
} from "../protocol";
import { isDm } from "../engine/authorize";
import { bump, conditions, create, type ReadScope } from "../engine/store";
import { SYSTEM_ACTOR, defineTimerKind } from "../engine/timers";
import { DMS, NON_DMS, only } from "../engine/tx";
import { defineHandlers, type HandlerContext, type RegionEntryHook, type CharacterChangeHook } from "../engine/context";
import { requireVisible } from "./changes";
import { characters } from "./characters";
import { stagings } from "./gameplay-tables";
import { appendStoryEvent } from "./story";
import { LOG_ALL, logPlay, logPlaySplit } from "./play-log";
import { REGION, npcRegionRelationships } from "./world-tables";

/**
 * Staging: who is present in a region. A PC entering a region without a valid staging starts a
 * pending one with a rule-based proposal (DMs: StagingApprovalRequest; the player:
 * StagingPending); a DM approves it (or the timer does, with auto_approve_staging), and the
 * approved staging is reused by every PC entering until its TTL ends. Hidden NPCs are present
 * for DMs only: players never receive them, live or on replay.
 */

/** How long an approved staging stays valid when the DM does not say (the original: 3 hours). */
export const DEFAULT_STAGING_TTL_MINUTES = 180;

/** Rule-based presence from NPC–region relationships (home, work, frequents: present; avoids: absent). */
const RULE: Record<string, { present: boolean; reasoning: string }> = {
  home: { present: true, reasoning: "lives here" },
  work: { present: true, reasoning: "works here" },
  frequents: { present: true, reasoning: "frequents this place" },
  avoids: { present: false, reasoning: "avoids this place" },
};

/** The rule-based proposal for a region: relationships first, then NPCs a DM placed there. */
async function proposalFor(ctx: HandlerContext, region: Region): Promise<StagedNpc[]> {
  const [rels, placed] = await Promise.all([
    npcRegionRelationships.rows(ctx, npcRegionRelationships.where({ region_id: region.id })),
    characters.rows(ctx, characters.where({ region_id: region.id, kind: "npc" })),
  ]);
  const byId = new Map<string, StagedNpc>();
  const npcs = new Map<string, Character>();
  for (const c of placed) npcs.set(c.id, c);
  for (const r of rels) {
    const c = npcs.get(r.character_id) ?? (await characters.find(ctx, r.character_id));
    if (c?.kind !== "npc" || !c.is_alive || !c.is_active) continue;
    npcs.set(c.id, c);
    // "avoids" wins over any other relationship with the same region.
    const rule = RULE[r.relationship_type]!;
    const prior = byId.get(c.id);
    if (prior && !prior.present) continue;
    byId.set(c.id, { character_id: c.id, present: rule.present, hidden: c.hidden, reasoning: rule.reasoning });
  }
  for (const c of placed) {
    if (!byId.has(c.id) && c.is_alive && c.is_active) byId.set(c.id, { character_id: c.id, present: true, hidden: c.hidden, reasoning: "placed here" });
  }
  return [...byId.values()];
}

/** What reading presence needs (a HandlerContext is one; the dialogue job builds one). */
export type PresenceScope = ReadScope & { now: number };

/** The approved, unexpired staging of a region, if any. */
async function validStaging(ctx: PresenceScope, regionId: string): Promise<Staging | null> {
  const approved = await stagings.rows(ctx, stagings.where({ region_id: regionId, status: "approved" }));
  const valid = approved.filter((s) => (s.expires_at ?? 0) > ctx.now);
  return valid.sort((a, b) => (b.approved_at ?? 0) - (a.approved_at ?? 0))[0] ?? null;
}

async function pendingStaging(ctx: PresenceScope, regionId: string): Promise<Staging | null> {
  return (await stagings.rows(ctx, stagings.where({ region_id: regionId, status: "pending" })))[0] ?? null;
}

/** The present NPCs of a staging with their names (NPCs deleted, dead or inactive since are left out). */
async function presentOf(ctx: PresenceScope, staging: Staging): Promise<PresentNpc[]> {
  const out: PresentNpc[] = [];
  for (const n of staging.npcs.filter((x) => x.present)) {
    const c = await characters.find(ctx, n.character_id);
    if (c?.is_alive && c.is_active) out.push({ character_id: c.id, name: c.name, hidden: n.hidden || c.hidden });
  }
  return out;
}

const visibleToPlayers = (npcs: PresentNpc[]) => npcs.filter((n) => !n.hidden);

/**
 * Who is in a region, by the one rule dialogue applies (DM view: hidden NPCs included, marked):
 * - `approved`: the region's valid staging says who is present;
 * - `pending`: a staging waits for the DM: nobody may be spoken to until it is answered;
 * - `fallback`: no staging (never entered, or the last one expired): the NPCs placed in the
 *   region (`region_id`), alive and active.
 */
export async function regionPresence(ctx: PresenceScope, region: Region): Promise<RegionPresence> {
  const valid = await validStaging(ctx, region.id);
  const pending = valid ? null : await pendingStaging(ctx, region.id);
  const here = await characters.rows(ctx, characters.where({ region_id: region.id }));
  let npcs: PresentNpc[] = [];
  if (valid) npcs = await presentOf(ctx, valid);
  else if (!pending) {
    npcs = here.filter((c) => c.kind === "npc" && c.is_alive && c.is_active).map((c) => ({ character_id: c.id, name: c.name, hidden: c.hidden }));
  }
  const status = valid ? "approved" : pending ? "pending" : "fallback";
  return {
    region_id: region.id,
    region_name: region.name,
    status,
    staged: !!valid,
    staging_id: (valid ?? pending)?.id ?? null,
    expires_at: valid?.expires_at ?? null,
    npcs_present: npcs,
    pcs_present: here.filter((c) => c.kind === "pc").map((c) => ({ character_id: c.id, name: c.name, owner_participant_id: c.owner_participant_id })),
  };
}

/** A presence as players may know it: no hidden NPC. */
export const playersPresence = (p: RegionPresence): RegionPresence => ({ ...p, npcs_present: visibleToPlayers(p.npcs_present) });

/** RegionPresenceChanged: DMs get the whole presence, everyone else the players' copy (unless `dmsOnly`). */
export async function emitPresence(ctx: HandlerContext, region: Region, opts: { dmsOnly?: boolean } = {}): Promise<void> {
  const p = await regionPresence(ctx, region);
  ctx.tx.emit({ type: "RegionPresenceChanged", presence: p }, DMS);
  if (!opts.dmsOnly) ctx.tx.emit({ type: "RegionPresenceChanged", presence: playersPresence(p) }, NON_DMS);
}

/** What of a character presence depends on. */
const PRESENCE_FIELDS = ["region_id", "hidden", "is_alive", "is_active", "name", "kind"] as const;

/**
 * A character created, edited or deleted may change who is present where it was and where it is
 * (a fallback region lists placed NPCs; a staging lists names; PCs are listed too). A character
 * hidden before and after is a DM matter: players get no event about it.
 */
export const stagingOnCharacterChange: CharacterChangeHook = {
  name: "staging",
  run: async (ctx, before, after) => {
    if (before && after && PRESENCE_FIELDS.every((f) => before[f] === after[f])) return;
    const dmsOnly = (before?.hidden ?? true) && (after?.hidden ?? true);
    const ids = new Set([before?.region_id, after?.region_id].filter((id): id is string => !!id));
    for (const id of ids) {
      const region = await REGION.table.find(ctx, id);
      if (region) await emitPresence(ctx, region, { dmsOnly });
    }
  },
};

/** "Hask", "Hask and Mira", "Hask, Mira and Tom". */
export function namesInProse(names: string[]): string {
  if (names.length <= 1) return names[0] ?? "";
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** "Hask and Mira are at the Mill Yard" / "Nobody is at the Mill Yard". */
function presenceProse(names: string[], regionName: string): string {
  if (names.length === 0) return `Nobody is at ${regionName}`;
  return `${namesInProse(names)} ${names.length === 1 ? "is" : "are"} at ${regionName}`;
}

/**
 * Who is present in a region now, by its valid staging (empty when it has none): the one
 * function dialogue and other rules ask. Hidden NPCs are included, marked `hidden`; callers
 * answering a player must leave them out (or treat them as absent).
 */
export async function presentNpcs(ctx: HandlerContext, regionId: string): Promise<PresentNpc[]> {
  return (await stagedNpcs(ctx, regionId)) ?? [];
}

/** Who the region's valid staging says is present, or null when the region has no valid staging. */
export async function stagedNpcs(ctx: HandlerContext, regionId: string): Promise<PresentNpc[] | null> {
  const staging = await validStaging(ctx, regionId);
  return staging ? presentOf(ctx, staging) : null;
}

/** The player of a PC (null for a PC nobody plays). */
const playerOf = (pc: Character) => pc.owner_participant_id;

/** PcSceneChanged to a PC's player: the region and whom it sees there. */
function emitPcScene(ctx: HandlerContext, pc: Character, region: Region, present: PresentNpc[]): void {
  const player = playerOf(pc);
  if (!player) return;
  // An audience of participants includes DMs: they get the player's view, like the player.
  ctx.tx.emit({ type: "PcSceneChanged", pc_id: pc.id, region, npcs_present: visibleToPlayers(present) }, only(player));
}

export const stagingTimeout = defineTimerKind({
  kind: "staging.timeout",
  data: z.object({ staging_id: z.string() }),
  // It approves as ApproveStaging does.
  events: OPERATIONS.ApproveStaging.events,
  async fire(ctx, data) {
    // At-least-once: a staging answered meanwhile, or auto-approval turned off, leaves nothing to do.
    if (!ctx.session.settings.auto_approve_staging) return;
    const staging = await stagings.find(ctx, data.staging_id);
    if (staging?.status !== "pending") return;
    await approve(ctx, staging, { npcs: staging.proposal, source: "auto" });
  },
});

/** A pending staging of a region with its rule-based proposal (not yet written). */
async function newStaging(ctx: HandlerContext, region: Region, opts: { waiting: string[]; autoApproveAt: number | null }): Promise<Staging> {
  return create<Staging>(
    {
      world_id: ctx.session.worldId,
      region_id: region.id,
      status: "pending",
      proposal: await proposalFor(ctx, region),
      npcs: [],
      source: null,
      ttl_minutes: null,
      approved_at: null,
      expires_at: null,
      approved_by: null,
      waiting_character_ids: opts.waiting,
      auto_approve_at: opts.autoApproveAt,
    },
    ctx.now,
  );
}

/**
 * A PC entered a region (MoveToRegion): the play log's departure and arrival, the staging (reuse
 * the valid one, join a pending one, or start one), then both regions' presence.
 */
export const stagingOnRegionEntry: RegionEntryHook = {
  name: "staging",
  async run(ctx, { character: pc, from, to: region }) {
    if (from)
      logPlay(
        ctx,
        {
          kind: "departure",
          text: `${pc.name} left ${from.name}`,
          character_id: pc.id,
          character_name: pc.name,
          region: { region_id: from.id, region_name: from.name },
        },
        LOG_ALL,
      );
    logPlay(
      ctx,
      {
        kind: "arrival",
        text: `${pc.name} arrived at ${region.name}`,
        character_id: pc.id,
        character_name: pc.name,
        region: { region_id: region.id, region_name: region.name },
      },
      LOG_ALL,
    );
    await stageOnEntry(ctx, pc, region);
    if (from) await emitPresence(ctx, from);
    await emitPresence(ctx, region);
  },
};

async function stageOnEntry(ctx: HandlerContext, pc: Character, region: Region): Promise<void> {
  const valid = await validStaging(ctx, region.id);
  if (valid) return emitPcScene(ctx, pc, region, await presentOf(ctx, valid));
  const settings = ctx.session.settings;
  let staging = await pendingStaging(ctx, region.id);
  if (staging) {
    if (!staging.waiting_character_ids.includes(pc.id)) {
      staging = stagings.save(ctx, bump(staging, { waiting_character_ids: [...staging.waiting_character_ids, pc.id] }, ctx.now));
    }
  } else {
    const autoAt = settings.auto_approve_staging ? ctx.now + settings.staging_timeout_seconds * 1000 : null;
    staging = stagings.add(ctx, await newStaging(ctx, region, { waiting: [pc.id], autoApproveAt: autoAt }));
    if (autoAt !== null) ctx.timers.schedule(stagingTimeout, autoAt, { staging_id: staging.id }, staging.id);
  }
  ctx.tx.emit({ type: "StagingApprovalRequest", staging, region_name: region.name }, DMS);
  const player = playerOf(pc);
  if (player) {
    const timeout = staging.auto_approve_at === null ? null : Math.max(0, Math.ceil((staging.auto_approve_at - ctx.now) / 1000));
    ctx.tx.emit({ type: "StagingPending", staging_id: staging.id, region_id: region.id, region_name: region.name, timeout_seconds: timeout }, only(player));
  }
}

/** NPCs given by a DM must be NPCs of this world; hidden defaults to the NPC's own flag. */
async function stagedFromInput(ctx: HandlerContext, input: { character_id: string; present: boolean; hidden?: boolean }[]): Promise<StagedNpc[]> {
  const seen = new Set<string>();
  const out: StagedNpc[] = [];
  for (const [i, n] of input.entries()) {
    if (seen.has(n.character_id)) throw invalidField(`npcs.${i}.character_id`, `'${n.character_id}' is listed twice`);
    seen.add(n.character_id);
    const c = await characters.require(ctx, n.character_id, "character");
    if (c.kind !== "npc") throw invalidField(`npcs.${i}.character_id`, `'${c.name}' is a player character; staging places NPCs`);
    out.push({ character_id: c.id, present: n.present, hidden: n.hidden ?? c.hidden, reasoning: "chosen by the DM" });
  }
  return out;
}

/**
 * Approves a staging (pending, or a new prestaged one): StagingApproved (DMs: everything; players:
 * the NPCs they may see), each waiting PC's PcSceneChanged, and a timeline entry.
 */
async function approve(
  ctx: HandlerContext,
  staging: Staging,
  opts: { npcs: StagedNpc[]; source: NonNullable<Staging["source"]>; ttlMinutes?: number; isNew?: boolean },
): Promise<Staging> {
  const ttl = opts.ttlMinutes ?? DEFAULT_STAGING_TTL_MINUTES;
  const patch: Partial<Staging> = {
    status: "approved",
    npcs: opts.npcs,
    source: opts.source,
    ttl_minutes: ttl,
    approved_at: ctx.now,
    expires_at: ctx.now + ttl * 60_000,
    approved_by: ctx.actor.participant_id === SYSTEM_ACTOR.participant_id ? null : ctx.actor.participant_id,
    auto_approve_at: null,
  };
  const after = opts.isNew ? stagings.add(ctx, { ...staging, ...patch }) : stagings.save(ctx, bump(staging, patch, ctx.now));
  if (!opts.isNew) ctx.timers.cancel("staging.timeout", staging.id);
  const region = await REGION.table.require(ctx, after.region_id, "region");
  const present = await presentOf(ctx, after);
  const base = { staging_id: after.id, region_id: after.region_id, expires_at: after.expires_at };
  ctx.tx
    .emit({ type: "StagingApproved", ...base, npcs_present: present, staging: after }, DMS)
    .emit({ type: "StagingApproved", ...base, npcs_present: visibleToPlayers(present) }, NON_DMS);
  for (const id of after.waiting_character_ids) {
    const pc = await characters.find(ctx, id);
    // A PC that walked on meanwhile sees the region it is in now, not this one.
    if (pc && pc.region_id === after.region_id) emitPcScene(ctx, pc, region, present);
  }
  // The timeline and the play log name only the NPCs players may see: an NPC staged hidden is
  // nowhere in them (DMs have the staging itself).
  const seen = visibleToPlayers(present);
  const story = await appendStoryEvent(ctx, {
    kind: "staging_approved",
    summary: presenceProse(
      seen.map((n) => n.name),
      region.name,
    ),
    region_id: region.id,
    location_id: region.location_id,
    character_ids: seen.map((n) => n.character_id),
    details: { staging_id: after.id },
  });
  const entry = { kind: "presence" as const, region: { region_id: region.id, region_name: region.name }, story_event_id: story.id };
  const hidden = present.filter((n) => n.hidden);
  if (hidden.length === 0) logPlay(ctx, { ...entry, text: story.summary }, LOG_ALL);
  else logPlaySplit(ctx, { ...entry, text: `${story.summary} (hidden: ${namesInProse(hidden.map((n) => n.name))})` }, { ...entry, text: story.summary });
  await emitPresence(ctx, region);
  return after;
}

export const stagingHandlers = defineHandlers({
  ApproveStaging: {
    async handle(ctx, p) {
      const staging = await stagings.require(ctx, p.staging_id, "staging");
      if (staging.status !== "pending") {
        throw new AppError("CONFLICT", `staging '${staging.id}' was already approved`, { reason: "already_processed", current: staging });
      }
      const npcs = p.npcs ? await stagedFromInput(ctx, p.npcs) : staging.proposal;
      return approve(ctx, staging, { npcs, source: p.npcs ? "custom" : "rule", ttlMinutes: p.ttl_minutes });
    },
  },

  PreStageRegion: {
    async handle(ctx, p) {
      const region = await requireVisible(ctx, REGION, p.region_id);
      const npcs = await stagedFromInput(ctx, p.npcs);
      const pending = await pendingStaging(ctx, region.id);
      if (pending) return approve(ctx, pending, { npcs, source: "prestaged", ttlMinutes: p.ttl_minutes });
      const fresh = await newStaging(ctx, region, { waiting: [], autoApproveAt: null });
      return approve(ctx, fresh, { npcs, source: "prestaged", ttlMinutes: p.ttl_minutes, isNew: true });
    },
  },

  ListStagings: {
    async handle(ctx, p) {
      // A DM who joins late finds what awaits an answer with status "pending".
      const { where, params } = conditions(p.status && ["status = ?", p.status], p.region_id && ["region_id = ?", p.region_id]);
      return stagings.page(ctx.db, ctx.session.sessionId, { where, params, cursor: p.cursor, limit: p.limit });
    },
  },

  GetRegionPresence: {
    async handle(ctx, p) {
      const region = await requireVisible(ctx, REGION, p.region_id);
      const presence = await regionPresence(ctx, region);
      return isDm(ctx.actor) ? presence : playersPresence(presence);
    },
  },
});
