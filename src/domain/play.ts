import type { ChallengeAttempt, DialogueExchange } from "../protocol";
import { defineHandlers, type HandlerContext } from "../engine/context";
import { characters } from "./characters";
import { dialogueExchanges } from "./dialogue";
import { challengeAttempts, challenges, stagings } from "./gameplay-tables";
import { regions } from "./world-tables";
import { rollBreakdown } from "./dice";

/**
 * What waits for whom: the DM's queue (ListDmQueue) and a player's waits (ListMyWaits). Both are
 * reads of the committed state; the events that keep a page's copy current are listed in
 * docs/gameplay.md ("What waits").
 */

const MAX_ITEMS = 200;

async function withNames(ctx: HandlerContext, attempts: ChallengeAttempt[]) {
  const out = [];
  for (const attempt of attempts) {
    const challenge = await challenges.find(ctx, attempt.challenge_id);
    const pc = await characters.find(ctx, attempt.character_id);
    const stat = challenge?.check_stat ? ` (${challenge.check_stat})` : "";
    const mod = attempt.modifier === 0 ? "" : ` ${attempt.modifier > 0 ? "+" : "-"} ${Math.abs(attempt.modifier)}${stat}`;
    const breakdown = attempt.roll ? `${rollBreakdown(attempt.roll)}${mod} = ${attempt.total}` : null;
    out.push({ attempt, challenge_name: challenge?.name ?? "a challenge", character_name: pc?.name ?? "a character", breakdown });
  }
  return out;
}

export const playHandlers = defineHandlers({
  ListDmQueue: {
    async handle(ctx) {
      const drafts = await dialogueExchanges.page(ctx.db, ctx.session.sessionId, { where: "status = 'awaiting_approval'", limit: MAX_ITEMS });
      const pending = await stagings.page(ctx.db, ctx.session.sessionId, { where: "status = 'pending'", limit: MAX_ITEMS });
      const rolled = await challengeAttempts.page(ctx.db, ctx.session.sessionId, { where: "status = 'rolled'", limit: MAX_ITEMS });
      const staged = [];
      for (const staging of pending.items) {
        const region = await regions.find(ctx, staging.region_id);
        // A deleted region leaves its stagings unreachable: nothing to answer.
        if (region) staged.push({ staging, region_name: region.name });
      }
      return { dialogue_drafts: drafts.items, stagings: staged, challenge_rolls: await withNames(ctx, rolled.items) };
    },
  },

  ListMyWaits: {
    async handle(ctx) {
      const me = ctx.actor.participant_id;
      const mine = (await characters.rows(ctx, characters.where({ owner_participant_id: me }))).filter((c) => c.kind === "pc");
      const ids = new Set(mine.map((c) => c.id));
      const dialogues: DialogueExchange[] = [];
      const attempts: ChallengeAttempt[] = [];
      if (ids.size > 0) {
        const open = await dialogueExchanges.page(ctx.db, ctx.session.sessionId, { where: "status IN ('generating', 'awaiting_approval')", limit: MAX_ITEMS });
        dialogues.push(...open.items.filter((e) => ids.has(e.character_id)));
        const rolls = await challengeAttempts.page(ctx.db, ctx.session.sessionId, {
          where: "status != 'resolved' AND participant_id = ?",
          params: [me],
          limit: MAX_ITEMS,
        });
        attempts.push(...rolls.items);
      }
      const waits = [];
      const byRegion = new Map<string, string[]>();
      for (const c of mine) if (c.region_id) byRegion.set(c.region_id, [...(byRegion.get(c.region_id) ?? []), c.id]);
      for (const [regionId, characterIds] of byRegion) {
        const pending = (await stagings.rows(ctx, stagings.where({ region_id: regionId, status: "pending" })))[0];
        const region = pending ? await regions.find(ctx, regionId) : null;
        if (pending && region) waits.push({ staging_id: pending.id, region_id: regionId, region_name: region.name, character_ids: characterIds });
      }
      return { dialogues, stagings: waits, challenges: await withNames(ctx, attempts) };
    },
  },
});
