import { isWrldbldrError, type ErrorCode } from "../../src/client";

/** Each code of the closed catalogue as a sentence a player understands. */
export const WORDS: Record<ErrorCode, string> = {
  BAD_FRAME: "The app sent something the engine could not read. Reload the page and try again.",
  VALIDATION_ERROR: "Some input is not valid.",
  UNKNOWN_REQUEST: "The engine does not know this action. Reload the page to get the newest app.",
  UNAUTHENTICATED: "You are not signed in to this session (the link may be too old). Ask your DM for a new invite link.",
  FORBIDDEN: "You are not allowed to do that.",
  NOT_FOUND: "That is no longer there (someone may have removed it).",
  CONFLICT: "Someone changed this at the same time; your change was undone.",
  PAYLOAD_TOO_LARGE: "That is too large to send.",
  RATE_LIMITED: "Too many actions at once; wait a moment and try again.",
  TIMEOUT: "The engine took too long to answer; try again.",
  UNAVAILABLE: "The engine cannot be reached right now; the page keeps trying.",
  INTERNAL: "Something went wrong in the engine; try again.",
};

/** Refusals the server marks with `details.reason`: what happened, in words. */
const REASONS: Record<string, (d: Record<string, unknown>, message: string) => string> = {
  already_triggered: () => "This challenge is already waiting for that character's roll.",
  not_prompted: () => "Only the player who was asked to roll can roll for this challenge.",
  already_resolved: () => "This roll was already resolved.",
  already_processed: () => "This staging was already decided.",
  not_awaiting_approval: () => "This answer was already decided.",
  dialogue_in_progress: (_d, m) => `${cap(m)}; wait for the answer before speaking again.`,
  already_exists: (_d, m) => `${cap(m)}.`,
  not_connected: (_d, m) => `${cap(m)}.`,
  connection_locked: (_d, m) => `${cap(m)}.`,
  stat_locked: (d) => `The DM does not let players change ${String(d.stat ?? "that stat")}.`,
  stat_out_of_bounds: (d) => `${cap(String(d.stat ?? "That stat"))}: a number from ${String(d.min)} to ${String(d.max)} (the DM's rule).`,
  kicked: () => "The DM removed you from this session.",
  // SpeakToNpc to someone presence does not offer: FORBIDDEN, reason not_here, its message in words
  // ("Hask is not here", "Hask is not here yet: the DM is deciding who is at Mill Yard").
  not_here: (_d, m) => `${cap(m)}.`,
  not_staged_here: (_d, m) => notHere(m),
  not_in_same_region: (_d, m) => notHere(m),
  npc_hidden: (_d, m) => notHere(m),
  npc_inactive: (_d, m) => notHere(m),
  npc_dead: (_d, m) => notHere(m),
  staging_pending: () => "The DM has not yet said who is here; wait a moment.",
  pc_nowhere: () => "Your character is nowhere yet: enter a place first.",
};

/**
 * Fields the server names in a VALIDATION_ERROR (`details.issues[].path`, `data.` left off): the
 * label the page shows, and what is allowed when the engine's words would not say it.
 */
const FIELDS: Record<string, { label: string; allowed?: string }> = {
  formula: { label: "Dice", allowed: "write them like 2d6+1, 1d20+5 or 4d6kh3" },
  name: { label: "Name" },
  description: { label: "Description" },
  summary: { label: "Summary" },
  text: { label: "What you say" },
  feedback: { label: "Feedback" },
  narration: { label: "Narration" },
  outcome: { label: "Outcome" },
  quantity: { label: "Quantity", allowed: "a whole number of at least 1" },
  staging_timeout_seconds: { label: "Seconds before staging is approved automatically", allowed: "a whole number from 5 to 3600" },
  "difficulty.value": { label: "DC", allowed: "a whole number from 1 to 100" },
  ttl_minutes: { label: "Minutes", allowed: "a whole number from 1 to 525600" },
  world_name: { label: "World name" },
  dm_name: { label: "Your name" },
  invite_code: { label: "Invite code" },
  region_id: { label: "Where to go" },
  character_id: { label: "Character" },
  npc_id: { label: "Who you speak to" },
  item_type: { label: "Type" },
  cursor: { label: "Older entries" },
};

const notHere = (message: string) => `${message.match(/^(.+?) is not here/)?.[1] ?? "They"} is not here.`;
const cap = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

/** A zod message ("Too big: expected string to have <=200 characters") as a rule in words. */
export function ruleInWords(message: string): string {
  let m: RegExpMatchArray | null;
  if (/received undefined|required/i.test(message)) return "it is required";
  if ((m = message.match(/string to have <=\s*(\d+)/))) return `at most ${m[1]} characters`;
  if ((m = message.match(/string to have >=\s*(\d+)/))) return m[1] === "1" ? "it must not be empty" : `at least ${m[1]} characters`;
  if ((m = message.match(/array to have <=\s*(\d+)/))) return `at most ${m[1]} entries`;
  if ((m = message.match(/number to be <=\s*(-?\d+)/))) return `at most ${m[1]}`;
  if ((m = message.match(/number to be >=\s*(-?\d+)/))) return `at least ${m[1]}`;
  if (/expected int/.test(message)) return "a whole number";
  if (/expected number/.test(message)) return "a number";
  if ((m = message.match(/expected one of (.*)/))) return `one of ${m[1]!.replace(/"/g, "").split("|").join(", ")}`;
  return message;
}

/** One validation issue as "Label: what is wrong — what is allowed." */
export function issueInWords(path: string, message: string, labels: Record<string, string> = {}): string {
  const key = path.replace(/^(payload\.)?(data\.)?/, "");
  const field = FIELDS[key] ?? FIELDS[key.split(".").pop() ?? ""];
  const label = labels[key] ?? field?.label ?? cap(key.split(".").pop()!.replace(/_/g, " "));
  // The engine's own hint in brackets ("(expected NdM, …)") is for developers: the label's rule says it.
  const raw = message.replace(/\s*\(expected [^)]*\)/, "");
  const rule = ruleInWords(raw);
  // A schema rule turned into words is what the allowed text says already; the engine's own words add to it.
  if (field?.allowed) return rule !== raw ? `${label}: ${field.allowed}.` : `${label}: ${field.allowed} (${raw}).`;
  return `${label}: ${rule}.`;
}

/**
 * An error as words for the page: a validation failure names the field by its label and says
 * what is allowed; a refusal with a known reason says what happened; any other code its sentence.
 * `labels` maps a field's path to the label of the form it came from.
 */
export function describeError(err: unknown, labels: Record<string, string> = {}): string {
  if (!isWrldbldrError(err)) return err instanceof Error ? err.message : String(err);
  const details = (err.details ?? {}) as Record<string, unknown>;
  const message = err.message.replace(/^invalid field '[^']*': /, "");
  const reason = typeof details.reason === "string" ? REASONS[details.reason] : undefined;
  if (reason) return reason(details, message);
  if (err.code === "VALIDATION_ERROR") {
    const issues = Array.isArray(details.issues) ? (details.issues as { path?: string; message?: string }[]) : [];
    const words = issues.filter((i) => i.path).map((i) => issueInWords(String(i.path), String(i.message ?? ""), labels));
    if (words.length) return words.slice(0, 3).join(" ");
    return `${WORDS.VALIDATION_ERROR} ${cap(message)}.`;
  }
  return WORDS[err.code];
}
