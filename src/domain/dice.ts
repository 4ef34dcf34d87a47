import { invalidField, type DiceRoll } from "../protocol";
import { authorize } from "../engine/authorize";
import { defineHandlers, type HandlerContext } from "../engine/context";
import { newId } from "../engine/store";
import { ALL, DMS, NON_DMS, only, type Audience } from "../engine/tx";
import { LOG_ALL, logPlay, logPlaySplit, logTo } from "./play-log";
import { requireVisible } from "./changes";
import { CHARACTER } from "./characters";

/**
 * Dice formulas, parsed by hand and rolled on the server. Grammar (case-insensitive, spaces ignored):
 *   formula  := ["+"|"-"] term (("+"|"-") term)*
 *   term     := dice | integer
 *   dice     := [count] "d" (sides | "%" | "F") [("kh"|"kl") [keep]]
 * `d%` is a d100; `dF` a Fate die (-1, 0, +1); `4d6kh3` keeps the 3 highest (keep defaults to 1).
 */

export const DICE_LIMITS = {
  formulaChars: 100,
  terms: 20,
  /** Dice in one formula, all terms together. */
  dice: 100,
  sides: 1000,
  constant: 1_000_000,
} as const;

export interface DiceTerm {
  text: string;
  sign: 1 | -1;
  kind: "dice" | "fate" | "constant";
  count: number;
  sides: number;
  keep?: { mode: "kh" | "kl"; n: number };
  /** The constant of a `constant` term. */
  value: number;
}

const fail = (message: string) => invalidField("formula", message);

const TERM = /^(?:(\d+)?d(\d+|%|f)(?:(kh|kl)(\d+)?)?|(\d+))$/;

/** Parses a formula, or throws VALIDATION_ERROR naming what is wrong with it. */
export function parseFormula(formula: string): DiceTerm[] {
  if (formula.length > DICE_LIMITS.formulaChars) throw fail(`at most ${DICE_LIMITS.formulaChars} characters`);
  const text = formula.replace(/\s+/g, "").toLowerCase();
  if (text === "") throw fail("empty formula");
  const parts = text.match(/[+-]?[^+-]+|[+-]$/g) ?? [];
  if (parts.join("") !== text || parts.some((p) => p === "+" || p === "-")) throw fail(`'${formula}' has a sign without a term`);
  if (parts.length > DICE_LIMITS.terms) throw fail(`at most ${DICE_LIMITS.terms} terms`);
  let dice = 0;
  const terms = parts.map((part): DiceTerm => {
    const sign = part.startsWith("-") ? -1 : 1;
    const body = part.replace(/^[+-]/, "");
    const m = TERM.exec(body);
    if (!m) throw fail(`'${body}' is not a term (expected NdM, NdMkhK, NdMklK, d%, dF or a number)`);
    if (m[5] !== undefined) {
      const value = Number(m[5]);
      if (value > DICE_LIMITS.constant) throw fail(`the constant ${body} is above ${DICE_LIMITS.constant}`);
      return { text: part, sign, kind: "constant", count: 0, sides: 0, value };
    }
    const count = m[1] === undefined ? 1 : Number(m[1]);
    if (count < 1) throw fail(`'${body}' rolls no dice`);
    const fate = m[2] === "f";
    const sides = fate ? 3 : m[2] === "%" ? 100 : Number(m[2]);
    if (!fate && sides < 2) throw fail(`'${body}': a die has at least 2 sides`);
    if (sides > DICE_LIMITS.sides) throw fail(`'${body}': at most ${DICE_LIMITS.sides} sides`);
    dice += count;
    if (dice > DICE_LIMITS.dice) throw fail(`at most ${DICE_LIMITS.dice} dice in one formula`);
    const term: DiceTerm = { text: part, sign, kind: fate ? "fate" : "dice", count, sides, value: 0 };
    if (m[3]) {
      const n = m[4] === undefined ? 1 : Number(m[4]);
      if (n < 1 || n > count) throw fail(`'${body}': keeps ${n} of ${count} dice (must be 1 to ${count})`);
      term.keep = { mode: m[3] as "kh" | "kl", n };
    }
    return term;
  });
  return terms;
}

/** A uniform integer in [1, sides]: rejection sampling over 32-bit draws (no modulo bias). */
export function rollDie(sides: number, random: (buf: Uint32Array) => Uint32Array = (b) => crypto.getRandomValues(b)): number {
  const range = 2 ** 32;
  const limit = range - (range % sides);
  const buf = new Uint32Array(1);
  for (;;) {
    const x = random(buf)[0]!;
    if (x < limit) return (x % sides) + 1;
  }
}

export type RolledTerms = Pick<DiceRoll, "total" | "terms">;

/** Rolls parsed terms: every die recorded, those dropped by kh/kl marked `kept: false`. */
export function rollTerms(terms: DiceTerm[], die: (sides: number) => number = rollDie): RolledTerms {
  let total = 0;
  const out = terms.map((t) => {
    if (t.kind === "constant") {
      total += t.sign * t.value;
      return { term: t.text, sign: t.sign, kind: t.kind, sides: null, dice: [], value: t.sign * t.value };
    }
    const values = Array.from({ length: t.count }, () => (t.kind === "fate" ? die(3) - 2 : die(t.sides)));
    const kept = new Set<number>(values.map((_, i) => i));
    if (t.keep) {
      const order = values.map((v, i) => [v, i] as const).sort((a, b) => (t.keep!.mode === "kh" ? b[0] - a[0] : a[0] - b[0]) || a[1] - b[1]);
      kept.clear();
      for (const [, i] of order.slice(0, t.keep.n)) kept.add(i);
    }
    const value = t.sign * values.reduce((sum, v, i) => sum + (kept.has(i) ? v : 0), 0);
    total += value;
    return { term: t.text, sign: t.sign, kind: t.kind, sides: t.sides, dice: values.map((v, i) => ({ value: v, kept: kept.has(i) })), value };
  });
  return { total, terms: out };
}

/** "2d20kh1 (17, 4) +3" — each term with its dice, dropped ones struck as "~4~". */
export function rollBreakdown(r: Pick<DiceRoll, "terms">): string {
  return r.terms
    .map((t, i) => {
      const sign = t.sign < 0 ? "- " : i > 0 ? "+ " : "";
      const body =
        t.kind === "constant"
          ? String(Math.abs(t.value))
          : `${t.term.replace(/^[+-]/, "")} (${t.dice.map((d) => (d.kept ? String(d.value) : `~${d.value}~`)).join(", ")})`;
      return sign + body;
    })
    .join(" ");
}

/** Who rolled, in words: the character when the roll is for one, else the participant's name. */
export function rollerName(ctx: HandlerContext, characterName: string | null): string {
  return characterName ?? ctx.session.participant(ctx.actor.participant_id)?.name ?? "Someone";
}

/** Parses and rolls a formula. */
export function roll(formula: string): RolledTerms {
  return rollTerms(parseFormula(formula));
}

/**
 * Who receives a roll: everyone (public), or the roller and DMs. `dm` and `self` differ only in
 * intent: DMs referee the table and receive every roll (an audience of participants includes them).
 */
const audienceOf = (visibility: DiceRoll["visibility"], roller: string): Audience => (visibility === "public" ? ALL : only(roller));

/** A roll as recorded in DiceRolled and in a challenge attempt. */
export function diceRoll(ctx: HandlerContext, formula: string, visibility: DiceRoll["visibility"]): DiceRoll {
  const { total, terms } = roll(formula);
  return { id: newId(ctx.now), formula, total, terms, visibility, roller_participant_id: ctx.actor.participant_id, rolled_at: ctx.now };
}

export const diceHandlers = defineHandlers({
  RollDice: {
    async handle(ctx, p) {
      const r = diceRoll(ctx, p.formula, p.visibility ?? "public");
      // A roll may name the character it is for: a player's own PC, any character for a DM.
      const character = p.character_id ? await requireVisible(ctx, CHARACTER, p.character_id) : null;
      if (character) authorize(ctx.actor, "own", character, "roll for a character that is not its own");
      const name = rollerName(ctx, character?.name ?? null);
      const entry = {
        kind: "roll" as const,
        text: `${name} rolled ${r.formula}: ${r.total}`,
        roll: r,
        character_id: character?.id ?? null,
        character_name: character?.name ?? null,
      };
      const audience = audienceOf(r.visibility, ctx.actor.participant_id);
      if (audience.kind !== "all") {
        // A secret roll: the roller and DMs (a DM's own secret roll: DMs only).
        ctx.tx.emit({ type: "DiceRolled", roll: r, character_id: character?.id ?? null }, audience);
        logPlay(ctx, { ...entry, text: `${entry.text} (secret)` }, logTo(ctx.actor.participant_id));
      } else if (character?.hidden) {
        // A public roll for a hidden NPC: players see the roll, never whom it was for.
        const anonymous = rollerName(ctx, null);
        ctx.tx.emit({ type: "DiceRolled", roll: r, character_id: character.id }, DMS).emit({ type: "DiceRolled", roll: r, character_id: null }, NON_DMS);
        logPlaySplit(ctx, entry, { ...entry, text: `${anonymous} rolled ${r.formula}: ${r.total}`, character_id: null, character_name: null });
      } else {
        ctx.tx.emit({ type: "DiceRolled", roll: r, character_id: character?.id ?? null }, ALL);
        logPlay(ctx, entry, LOG_ALL);
      }
      return r;
    },
  },
});
