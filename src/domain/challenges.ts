import { AppError, invalidField, type Challenge, type ChallengeAttempt, type ChallengeOutcome, type DiceRoll, type Difficulty } from "../protocol";
import { isDm } from "../engine/authorize";
import { bump, conditions, create } from "../engine/store";
import { defineHandlers, type HandlerContext } from "../engine/context";
import { ALL, only } from "../engine/tx";
import { deleteEntity, emitChange, insertEntity, pageView, requireVisible, updateEntity, viewOf } from "./changes";
import { characters } from "./characters";
import { diceRoll, parseFormula } from "./dice";
import { CHALLENGE, challengeAttempts, challenges } from "./gameplay-tables";
import { appendStoryEvent } from "./story";
import { LOG_ALL, logPlay, logTo } from "./play-log";
import { worlds } from "./world";

/**
 * Challenges: a DM triggers one for a PC (ChallengePrompt to its player), the prompted player
 * rolls on the server (ChallengeRollSubmitted with the outcome the rules suggest), and a DM
 * resolves the attempt once (ChallengeResolved to everyone, and a timeline entry).
 */

/** The difficulty a new challenge gets from the world's rule system when the DM gives none. */
async function defaultDifficulty(ctx: HandlerContext): Promise<Difficulty> {
  const world = await worlds.require(ctx, ctx.session.worldId, "world");
  const system = world.rule_system.system_type;
  return system === "d20" ? { kind: "dc", value: 10 } : system === "d100" ? { kind: "percentage", value: 50 } : { kind: "narrative" };
}

/** The dice a difficulty is rolled with. */
export const suggestedDice = (d: Difficulty) => (d.kind === "dc" ? "1d20" : d.kind === "percentage" ? "1d100" : "2d6");

/** The natural value of a single-die roll (its only die), or null when the roll had several dice. */
function naturalDie(roll: DiceRoll): { value: number; sides: number } | null {
  const dice = roll.terms.filter((t) => t.kind === "dice");
  if (dice.length !== 1 || dice[0]!.dice.length !== 1) return null;
  return { value: dice[0]!.dice[0]!.value, sides: dice[0]!.sides! };
}

/**
 * The outcome the rules suggest (the DM decides):
 * - dc: a natural 20 on a d20 is critical, a natural 1 failure; else success when total ≥ DC,
 *   partial when within 2 below;
 * - percentage: the roll must be at most the percentage plus the modifier; 1–5 is critical;
 * - narrative (2d6 bands): 10+ success, 7–9 partial, else failure; a total of 12+ is critical.
 * Critical failures: a natural 1 on a d20, 96–100 on a d100, a total of 2 or less on 2d6.
 * A critical, partial or critical failure with no text for it becomes success, failure or failure.
 */
export function suggestOutcome(c: Challenge, roll: DiceRoll, modifier: number): { outcome: ChallengeOutcome; total: number } {
  const outcomes = c.outcomes ?? { success: "", failure: "", partial: "", critical: "" };
  const has = (o: ChallengeOutcome) => (outcomes[o] ?? "") !== "";
  const d = c.difficulty;
  const natural = naturalDie(roll);
  let outcome: ChallengeOutcome;
  let total = roll.total + modifier;
  if (d.kind === "percentage") {
    total = roll.total;
    const target = d.value + modifier;
    outcome = total <= Math.min(5, target) ? "critical" : total <= target ? "success" : total >= 96 ? "critical_failure" : "failure";
  } else if (d.kind === "dc") {
    if (natural?.sides === 20 && natural.value === 20) outcome = "critical";
    else if (natural?.sides === 20 && natural.value === 1) outcome = "critical_failure";
    else outcome = total >= d.value ? "success" : total >= d.value - 2 ? "partial" : "failure";
  } else {
    outcome = total >= 12 ? "critical" : total >= 10 ? "success" : total >= 7 ? "partial" : total <= 2 ? "critical_failure" : "failure";
  }
  if (outcome === "critical" && !has("critical")) outcome = "success";
  if (outcome === "partial" && !has("partial")) outcome = d.kind === "narrative" ? "success" : "failure";
  if (outcome === "critical_failure" && !has("critical_failure")) outcome = "failure";
  return { outcome, total };
}

const emptyOutcomes = { success: "", failure: "", partial: "", critical: "", critical_failure: "" };

/** An outcome in words. */
export const OUTCOME_WORDS: Record<ChallengeOutcome, string> = {
  critical: "critical success",
  success: "success",
  partial: "partial success",
  failure: "failure",
  critical_failure: "critical failure",
};

/** Whether a formula rolls the same dice as the one asked for ("d%" is "1d100"); a bad one is VALIDATION_ERROR. */
function sameFormula(a: string, b: string): boolean {
  const shape = (f: string) => JSON.stringify(parseFormula(f).map(({ text: _text, ...t }) => t));
  return shape(a) === shape(b);
}

async function openAttempts(ctx: HandlerContext, challengeId: string): Promise<ChallengeAttempt[]> {
  const all = await challengeAttempts.rows(ctx, challengeAttempts.where({ challenge_id: challengeId }));
  return all.filter((a) => a.status !== "resolved");
}

export const challengeHandlers = defineHandlers({
  ListChallenges: {
    async handle(ctx, p) {
      const page = await challenges.page(ctx.db, ctx.session.sessionId, {
        ...conditions(!isDm(ctx.actor) && ["hidden = 0"]),
        cursor: p.cursor,
        limit: p.limit,
      });
      return pageView(ctx, CHALLENGE, page);
    },
  },

  GetChallenge: {
    handle: async (ctx, p) => viewOf(ctx, CHALLENGE, await requireVisible(ctx, CHALLENGE, p.challenge_id)),
  },

  CreateChallenge: {
    async handle(ctx, p) {
      const d = p.data;
      return insertEntity(ctx, CHALLENGE, {
        world_id: ctx.session.worldId,
        name: d.name,
        description: d.description ?? "",
        check_stat: d.check_stat ?? null,
        difficulty: d.difficulty ?? (await defaultDifficulty(ctx)),
        outcomes: { ...emptyOutcomes, ...d.outcomes },
        hidden: d.hidden ?? false,
      });
    },
  },

  UpdateChallenge: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, CHALLENGE, p.challenge_id);
      const data = p.data.outcomes ? { ...p.data, outcomes: { ...emptyOutcomes, ...before.outcomes, ...p.data.outcomes } } : p.data;
      return updateEntity(ctx, CHALLENGE, before, data as Partial<Challenge>, p.expected_version);
    },
  },

  DeleteChallenge: {
    async handle(ctx, p) {
      const before = await requireVisible(ctx, CHALLENGE, p.challenge_id);
      challengeAttempts.removeWhere(ctx, challengeAttempts.where({ challenge_id: before.id }));
      return deleteEntity(ctx, CHALLENGE, before, p.expected_version);
    },
  },

  TriggerChallenge: {
    async handle(ctx, p) {
      let challenge = await requireVisible(ctx, CHALLENGE, p.challenge_id);
      const pc = await characters.require(ctx, p.character_id, "character");
      if (pc.kind !== "pc") throw invalidField("character_id", `'${pc.name}' is an NPC; challenges prompt a player character`);
      if (!pc.owner_participant_id) throw invalidField("character_id", `nobody plays '${pc.name}': there is no player to prompt`);
      const open = (await openAttempts(ctx, challenge.id)).find((a) => a.character_id === pc.id);
      if (open)
        throw new AppError("CONFLICT", `'${pc.name}' already faces '${challenge.name}' (attempt ${open.id} is ${open.status})`, {
          reason: "already_triggered",
          attempt: open,
        });
      if (challenge.hidden) {
        // Triggered: it exists for players from now on.
        const revealed = challenges.save(ctx, bump(challenge, { hidden: false }, ctx.now));
        emitChange(ctx.tx, CHALLENGE, challenge, revealed);
        challenge = revealed;
      }
      const attempt = challengeAttempts.add(
        ctx,
        create<ChallengeAttempt>(
          {
            world_id: ctx.session.worldId,
            challenge_id: challenge.id,
            character_id: pc.id,
            participant_id: pc.owner_participant_id,
            status: "prompted",
            suggested_dice: suggestedDice(challenge.difficulty),
            roll: null,
            modifier: challenge.check_stat ? (pc.stats[challenge.check_stat] ?? 0) : 0,
            total: null,
            suggested_outcome: null,
            outcome: null,
            narration: null,
          },
          ctx.now,
        ),
      );
      // An audience of participants includes DMs; they get the player's view of the challenge too.
      ctx.tx.emit({ type: "ChallengePrompt", attempt, challenge: CHALLENGE.playerView!(challenge) }, only(pc.owner_participant_id));
      const stat = challenge.check_stat ? ` + ${challenge.check_stat}` : "";
      logPlay(
        ctx,
        {
          kind: "challenge_prompt",
          text: `${pc.name} must roll for '${challenge.name}' (${attempt.suggested_dice}${stat})`,
          character_id: pc.id,
          character_name: pc.name,
          challenge: {
            challenge_id: challenge.id,
            attempt_id: attempt.id,
            challenge_name: challenge.name,
            total: null,
            outcome: null,
            outcome_text: null,
            narration: null,
          },
        },
        logTo(pc.owner_participant_id),
      );
      return attempt;
    },
  },

  SubmitChallengeRoll: {
    async handle(ctx, p) {
      const challenge = await requireVisible(ctx, CHALLENGE, p.challenge_id);
      const open = await openAttempts(ctx, challenge.id);
      const mine = open.find((a) => a.participant_id === ctx.actor.participant_id && a.status === "prompted");
      if (!mine) {
        if (open.some((a) => a.status === "prompted")) {
          throw new AppError("FORBIDDEN", `only the prompted player may roll for '${challenge.name}'`, { reason: "not_prompted" });
        }
        throw new AppError("CONFLICT", `no roll awaits '${challenge.name}' (trigger it first, or it was rolled already)`, { reason: "no_prompt" });
      }
      // The challenge decides the dice: a player may not choose its own.
      if (p.formula !== undefined && !sameFormula(p.formula, mine.suggested_dice)) {
        throw invalidField("formula", `'${challenge.name}' is rolled with ${mine.suggested_dice}: the challenge decides the dice`, {
          reason: "dice_fixed",
          suggested_dice: mine.suggested_dice,
        });
      }
      const pc = await characters.find(ctx, mine.character_id);
      // The modifier is the PC's stat when the DM asked for the roll: raising it meanwhile changes nothing.
      const modifier = mine.modifier;
      const roll = diceRoll(ctx, mine.suggested_dice, "dm");
      const { outcome, total } = suggestOutcome(challenge, roll, modifier);
      const after = challengeAttempts.save(ctx, bump(mine, { status: "rolled", roll, modifier, total, suggested_outcome: outcome }, ctx.now));
      ctx.tx.emit({ type: "ChallengeRollSubmitted", attempt: after }, only(after.participant_id));
      const name = pc?.name ?? "A character";
      const mod = modifier === 0 ? "" : ` ${modifier > 0 ? "+" : "-"} ${Math.abs(modifier)} (${challenge.check_stat})`;
      logPlay(
        ctx,
        {
          kind: "challenge_roll",
          text: `${name} rolled ${roll.formula} for '${challenge.name}': ${roll.total}${mod} = ${total}`,
          character_id: pc?.id ?? null,
          character_name: pc?.name ?? null,
          roll,
          modifier,
          challenge: {
            challenge_id: challenge.id,
            attempt_id: after.id,
            challenge_name: challenge.name,
            total,
            outcome: null,
            outcome_text: null,
            narration: null,
          },
        },
        logTo(after.participant_id),
      );
      return after;
    },
  },

  ResolveChallenge: {
    async handle(ctx, p) {
      const attempt = await challengeAttempts.require(ctx, p.attempt_id, "challenge attempt");
      if (attempt.status === "resolved") {
        throw new AppError("CONFLICT", `attempt '${attempt.id}' was already resolved (${attempt.outcome})`, { reason: "already_resolved", current: attempt });
      }
      const outcome = p.outcome ?? attempt.suggested_outcome;
      if (!outcome) throw invalidField("outcome", "no roll was submitted yet: choose the outcome");
      const challenge = await challenges.require(ctx, attempt.challenge_id, "challenge");
      const after = challengeAttempts.save(ctx, bump(attempt, { status: "resolved", outcome, narration: p.narration ?? null }, ctx.now));
      const text = challenge.outcomes?.[outcome] ?? "";
      // A challenge hidden again since its trigger stays between the DM and the prompted player.
      const audience = challenge.hidden ? only(attempt.participant_id) : ALL;
      ctx.tx.emit(
        { type: "ChallengeResolved", attempt: after, challenge_name: challenge.name, outcome, outcome_text: text, narration: after.narration },
        audience,
      );
      const pc = await characters.find(ctx, attempt.character_id);
      const summary = `${pc?.name ?? "A character"} faced '${challenge.name}': ${OUTCOME_WORDS[outcome]}`;
      await appendStoryEvent(ctx, {
        kind: "challenge_resolved",
        summary,
        character_ids: pc ? [pc.id] : [],
        hidden: challenge.hidden,
        details: { challenge_id: challenge.id, attempt_id: after.id, outcome, total: after.total, narration: after.narration },
      });
      logPlay(
        ctx,
        {
          kind: "challenge_outcome",
          text: [summary, text, after.narration].filter((x) => x).join(". "),
          character_id: pc?.id ?? null,
          character_name: pc?.name ?? null,
          roll: after.roll,
          modifier: after.roll ? after.modifier : null,
          challenge: {
            challenge_id: challenge.id,
            attempt_id: after.id,
            challenge_name: challenge.name,
            total: after.total,
            outcome,
            outcome_text: text,
            narration: after.narration,
          },
        },
        challenge.hidden ? logTo(attempt.participant_id) : LOG_ALL,
      );
      return after;
    },
  },

  ListChallengeAttempts: {
    async handle(ctx, p) {
      const { where, params } = conditions(p.challenge_id && ["challenge_id = ?", p.challenge_id], p.open_only && ["status != 'resolved'"]);
      return challengeAttempts.page(ctx.db, ctx.session.sessionId, { where, params, cursor: p.cursor, limit: p.limit });
    },
  },
});
