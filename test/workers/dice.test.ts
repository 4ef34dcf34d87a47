import { describe, expect, it } from "vitest";
import type { AppError } from "../../src/protocol";
import { DICE_LIMITS, parseFormula, rollDie, rollTerms } from "../../src/domain/dice";
import { settle, table } from "./helpers";

const ev = (type: string) => (f: any) => f.type === "Event" && f.event.type === type;

function parseError(formula: string): AppError {
  try {
    parseFormula(formula);
  } catch (err) {
    return err as AppError;
  }
  throw new Error(`'${formula}' parsed`);
}

describe("dice formulas", () => {
  it("parses NdM, ±K, several terms, kh/kl, d% and dF", () => {
    expect(parseFormula("2d6+3")).toMatchObject([
      { kind: "dice", count: 2, sides: 6, sign: 1 },
      { kind: "constant", value: 3, sign: 1 },
    ]);
    expect(parseFormula(" 4D6kh3 - 1d4 - 2 ")).toMatchObject([
      { count: 4, sides: 6, keep: { mode: "kh", n: 3 } },
      { count: 1, sides: 4, sign: -1 },
      { kind: "constant", value: 2, sign: -1 },
    ]);
    expect(parseFormula("2d20kl")).toMatchObject([{ count: 2, sides: 20, keep: { mode: "kl", n: 1 } }]);
    expect(parseFormula("d%")).toMatchObject([{ count: 1, sides: 100, kind: "dice" }]);
    expect(parseFormula("4dF+1")).toMatchObject([
      { count: 4, kind: "fate" },
      { kind: "constant", value: 1 },
    ]);
    expect(parseFormula("-1d6")).toMatchObject([{ sign: -1 }]);
  });

  it("refuses bad and oversized formulas with VALIDATION_ERROR naming the problem", () => {
    const cases: [string, RegExp][] = [
      ["", /empty/],
      ["2d6+", /sign without a term/],
      ["2d6++1", /sign without a term/],
      ["2x6", /'2x6' is not a term/],
      ["0d6", /rolls no dice/],
      ["1d1", /at least 2 sides/],
      [`1d${DICE_LIMITS.sides + 1}`, /at most 1000 sides/],
      [`${DICE_LIMITS.dice + 1}d6`, /at most 100 dice/],
      ["60d6+60d6", /at most 100 dice/],
      ["4d6kh5", /keeps 5 of 4 dice/],
      ["4d6kh0", /keeps 0 of 4/],
      [`${"1+".repeat(30)}1`, /at most 20 terms/],
      ["1d6".padEnd(101, " "), /at most 100 characters/],
      ["9999999", /above 1000000/],
    ];
    for (const [formula, message] of cases) {
      const err = parseError(formula);
      expect(err.code, formula).toBe("VALIDATION_ERROR");
      expect(err.message, formula).toMatch(message);
      expect(err.message).toContain("'formula'");
    }
  });

  it("records every die and keeps the highest or lowest", () => {
    const faces = [2, 6, 1, 5];
    let i = 0;
    const fixed = () => faces[i++ % faces.length]!;
    const kh = rollTerms(parseFormula("4d6kh3+2"), fixed);
    expect(kh.terms[0]!.dice).toEqual([
      { value: 2, kept: true },
      { value: 6, kept: true },
      { value: 1, kept: false },
      { value: 5, kept: true },
    ]);
    expect(kh.total).toBe(13 + 2);
    i = 0;
    const kl = rollTerms(parseFormula("4d6kl2-1d6"), fixed);
    expect(kl.terms[0]!.dice.filter((d) => d.kept).map((d) => d.value)).toEqual([2, 1]);
    expect(kl.terms[1]!.value).toBe(-2);
    expect(kl.total).toBe(3 - 2);
  });

  it("rejection sampling drops draws from the biased top of the 32-bit range", () => {
    const draws = [0xffffffff, 0xfffffffe, 7];
    let n = 0;
    const random = (buf: Uint32Array) => ((buf[0] = draws[n++]!), buf);
    // 2^32 mod 6 = 4: the last 4 values would favour faces 1-4; they are drawn again.
    expect(rollDie(6, random)).toBe((7 % 6) + 1);
    expect(n).toBe(3);
  });

  it("is uniform over many rolls (chi-square, d6 and dF) and stays in range", () => {
    const N = 60_000;
    const counts = new Array(6).fill(0);
    for (let k = 0; k < N; k++) counts[rollDie(6) - 1]++;
    const expected = N / 6;
    const chi = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 5 degrees of freedom: p = 0.001 at 20.5.
    expect(chi).toBeLessThan(20.5);
    const fate = rollTerms(parseFormula("100dF"));
    expect(fate.terms[0]!.dice.every((d) => d.value >= -1 && d.value <= 1)).toBe(true);
    expect(new Set(fate.terms[0]!.dice.map((d) => d.value)).size).toBe(3);
    const pct = Array.from({ length: 2000 }, () => rollTerms(parseFormula("d%")).total);
    expect(Math.min(...pct)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...pct)).toBeLessThanOrEqual(100);
    expect(Math.max(...pct)).toBeGreaterThan(90);
  });
});

describe("RollDice", () => {
  it("public rolls reach everyone; dm and self rolls the roller and DMs only; bad formulas change nothing", async () => {
    const t = await table();
    const roll = await t.player.ok({ type: "RollDice", formula: "3d6+2" });
    expect(roll.terms[0].dice).toHaveLength(3);
    expect(roll.total).toBe(roll.terms[0].value + 2);
    expect(roll).toMatchObject({ formula: "3d6+2", visibility: "public", roller_participant_id: t.playerGrant.participant_id });
    for (const s of [t.dm, t.player, t.spectator]) expect((await s.waitFor(ev("DiceRolled"))).event.roll.id).toBe(roll.id);

    const secret = await t.player.ok({ type: "RollDice", formula: "1d20", visibility: "self" });
    const toDm = await t.player.ok({ type: "RollDice", formula: "1d20", visibility: "dm" });
    await t.dm.waitFor((f) => ev("DiceRolled")(f) && f.event.roll.id === toDm.id);
    await t.player.waitFor((f) => ev("DiceRolled")(f) && f.event.roll.id === toDm.id);
    await settle();
    expect(t.spectator.events("DiceRolled").map((f) => f.event.roll.id)).toEqual([roll.id]);
    expect(t.dm.events("DiceRolled").map((f) => f.event.roll.id)).toEqual([roll.id, secret.id, toDm.id]);

    const bad = await t.player.request({ type: "RollDice", formula: "1d6+" });
    expect(bad.code).toBe("VALIDATION_ERROR");
    expect(bad.message).toContain("formula");
    expect((await t.player.request({ type: "RollDice", formula: "500d6" })).code).toBe("VALIDATION_ERROR");
    expect((await t.spectator.request({ type: "RollDice", formula: "1d6" })).code).toBe("FORBIDDEN");
    // A roll may name a character: the player's own PC; any character for a DM.
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Guard" } });
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero" } });
    expect((await t.player.request({ type: "RollDice", formula: "1d6", character_id: npc.id })).code).toBe("FORBIDDEN");
    await settle();
    expect(t.dm.events("DiceRolled")).toHaveLength(3);
    expect((await t.player.ok({ type: "RollDice", formula: "1d6", character_id: pc.id })).total).toBeGreaterThanOrEqual(1);
    await t.dm.ok({ type: "RollDice", formula: "1d6", character_id: npc.id });
    t.close();
  });
});
