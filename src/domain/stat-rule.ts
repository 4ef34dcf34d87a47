import { AppError, invalidField, type SessionSettings } from "../protocol";
import { isDm, type Actor } from "../engine/authorize";

/**
 * Which stats a player may set on its own PC, within which bounds: the DM's rule, the session
 * setting `player_stat_edits` ({stats: keys or ["*"], min, max}). DMs are not bound by it.
 * Editing (SetCharacterStat, UpdateCharacter) checks the key and the bounds of every changed
 * stat; creating a PC checks the bounds only (a new PC starts from what its player gives).
 */
export function checkPlayerStats(
  ctx: { actor: Actor; session: { settings: SessionSettings } },
  before: Record<string, number> | null,
  after: Record<string, number | null>,
): void {
  if (isDm(ctx.actor)) return;
  const rule = ctx.session.settings.player_stat_edits;
  for (const [key, value] of Object.entries(after)) {
    if (before && before[key] === value) continue;
    if (before && !rule.stats.includes("*") && !rule.stats.includes(key)) {
      throw new AppError("FORBIDDEN", `the DM does not let players change '${key}'`, { reason: "stat_locked", stat: key, editable: rule.stats });
    }
    if (value !== null && (value < rule.min || value > rule.max)) {
      throw invalidField(before ? "value" : `data.stats.${key}`, `'${key}' must be between ${rule.min} and ${rule.max} (the DM's rule)`, {
        reason: "stat_out_of_bounds",
        stat: key,
        min: rule.min,
        max: rule.max,
      });
    }
  }
  if (before) {
    // A stat removed is a change too.
    for (const key of Object.keys(before)) {
      if (key in after) continue;
      if (!rule.stats.includes("*") && !rule.stats.includes(key)) {
        throw new AppError("FORBIDDEN", `the DM does not let players change '${key}'`, { reason: "stat_locked", stat: key, editable: rule.stats });
      }
    }
  }
}

/** A stat rule whose bounds are the wrong way round is VALIDATION_ERROR. */
export function checkStatRule(rule: SessionSettings["player_stat_edits"] | undefined): void {
  if (rule && rule.min > rule.max) throw invalidField("data.player_stat_edits.min", `min (${rule.min}) is above max (${rule.max})`);
}
