import { AppError, type PromptTemplate, invalidField } from "../protocol";
import { DMS, Tx } from "../engine/tx";
import { bump, create, type ReadScope } from "../engine/store";
import { defineHandlers, type HandlerContext } from "../engine/context";
import { promptOverrides, type PromptOverride } from "./world-tables";

interface CatalogueEntry {
  label: string;
  description: string;
  category: PromptTemplate["category"];
  placeholders: readonly string[];
  default_value: string;
}

const WORLD = ["world_name", "world_description"] as const;

/**
 * The prompt template catalogue: every key the engine builds prompts from, with its default.
 * A world may override any key; `{name}` in a text is replaced by renderPromptTemplate, and only
 * the names listed in `placeholders` are accepted.
 */
export const PROMPT_CATALOGUE = {
  "dialogue.system": {
    label: "Dialogue: system prompt",
    description: "Sets up the LLM to speak as one NPC to a player character.",
    category: "dialogue",
    placeholders: [...WORLD, "npc_name", "npc_description", "npc_wants", "npc_notes", "scene", "region", "present", "pc_name", "recent_turns"],
    default_value: [
      "You are {npc_name}, a character in the world of {world_name}. {world_description}",
      "Who you are: {npc_description}",
      "What you want (never say it outright): {npc_wants}",
      "What the game master tells you about yourself (never reveal it directly): {npc_notes}",
      "Scene: {scene}. You are in {region}, talking with {pc_name}. Also here: {present}.",
      "Recent conversation:\n{recent_turns}",
      "Stay in character, speak in the first person, and keep answers short.",
    ].join("\n\n"),
  },
  "dialogue.response_format": {
    label: "Dialogue: response format",
    description: "How the NPC's answer must be laid out: what is said first (streamed to the table), then the reasons for the DM after a [DM] line.",
    category: "dialogue",
    placeholders: ["npc_name"],
    default_value: [
      "Answer with what {npc_name} says, in the first person, with *expression* markers for gestures. No preamble, no quotes around the whole answer.",
      "Then, on a new line starting with [DM], say in one sentence why {npc_name} answers this way (only the game master reads it).",
    ].join("\n"),
  },
  "staging.system": {
    label: "Staging: system prompt",
    description: "Asks the LLM which NPCs are present when a player character enters a region.",
    category: "staging",
    placeholders: [...WORLD, "location", "region", "game_time", "candidates"],
    default_value: [
      "You decide who is present in {region} ({location}) in the world of {world_name}, at {game_time}.",
      "Candidates, with where they live, work or like to go:\n{candidates}",
      "Pick between one and four NPCs who plausibly are here now.",
    ].join("\n\n"),
  },
  "staging.response_format": {
    label: "Staging: response format",
    description: "How the staging answer must be structured.",
    category: "staging",
    placeholders: [],
    default_value: 'Answer as JSON: {"npcs": [{"character_id": "…", "reasoning": "…"}]}',
  },
  "outcome.system": {
    label: "Challenge outcome: system prompt",
    description: "Describes the outcome of a challenge roll in the story's voice.",
    category: "outcomes",
    placeholders: [...WORLD, "challenge_name", "pc_name", "roll", "outcome"],
    default_value: [
      "You narrate a game set in {world_name}.",
      "{pc_name} attempted '{challenge_name}' and rolled {roll}: the result is a {outcome}.",
      "Describe in two or three sentences what happens, without inventing new rules.",
    ].join("\n"),
  },
  "outcome.branch_system": {
    label: "Challenge outcome: alternatives",
    description: "Proposes alternative outcomes for the DM to choose from.",
    category: "outcomes",
    placeholders: [...WORLD, "challenge_name", "pc_name", "outcome", "branch_count"],
    default_value: "Propose {branch_count} different ways the {outcome} of {pc_name}'s attempt at '{challenge_name}' could play out in {world_name}.",
  },
  "suggestion.character_description": {
    label: "Suggestion: character description",
    description: "Drafts a description for a character the DM is creating.",
    category: "suggestions",
    placeholders: ["entity_type", "entity_name", "world_setting", "hints", "additional_context"],
    default_value: [
      "Write a short description of {entity_name}, a {entity_type} in this setting: {world_setting}.",
      "Hints from the DM: {hints}",
      "{additional_context}",
    ].join("\n"),
  },
  "suggestion.location_description": {
    label: "Suggestion: location description",
    description: "Drafts a description for a location the DM is creating.",
    category: "suggestions",
    placeholders: ["entity_name", "world_setting", "hints", "additional_context"],
    default_value: [
      "Describe the place called {entity_name} in this setting: {world_setting}. Focus on what a visitor sees, hears and smells.",
      "Hints from the DM: {hints}",
      "{additional_context}",
    ].join("\n"),
  },
} as const satisfies Record<string, CatalogueEntry>;

export type PromptKey = keyof typeof PROMPT_CATALOGUE;
export type PromptValues<K extends PromptKey> = Partial<Record<(typeof PROMPT_CATALOGUE)[K]["placeholders"][number], string>>;
const KEYS = (Object.keys(PROMPT_CATALOGUE) as PromptKey[]).sort();

const isKey = (k: string): k is PromptKey => Object.hasOwn(PROMPT_CATALOGUE, k);

function entryOf(key: string): CatalogueEntry & { key: PromptKey } {
  if (!isKey(key)) throw new AppError("NOT_FOUND", `prompt template '${key}' not found`, { key, known: KEYS });
  return { key, ...PROMPT_CATALOGUE[key] };
}

/** `{name}`: letters, digits and underscores. Other braces (JSON examples) are plain text. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function checkPlaceholders(entry: CatalogueEntry & { key: string }, text: string, path = "value"): void {
  const unknown = [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))].filter((n) => !entry.placeholders.includes(n));
  if (unknown.length > 0) {
    throw invalidField(
      path,
      `unknown placeholder${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `{${n}}`).join(", ")} for '${entry.key}' (accepted: ${entry.placeholders.map((n) => `{${n}}`).join(", ") || "none"})`,
      { unknown, accepted: entry.placeholders },
    );
  }
}

/** An override as SetPromptTemplate would accept it (ImportWorld checks documents with this). */
export function checkPromptOverride(key: string, value: string, path: string): void {
  if (!isKey(key)) throw invalidField(`${path}.key`, `'${key}' is not a prompt template key`, { known: KEYS });
  checkPlaceholders({ key, ...PROMPT_CATALOGUE[key] }, value, `${path}.value`);
}

function view(entry: CatalogueEntry & { key: string }, row: PromptOverride | null): PromptTemplate {
  const override = row?.value ?? null;
  return {
    key: entry.key,
    label: entry.label,
    description: entry.description,
    category: entry.category,
    placeholders: [...entry.placeholders],
    default_value: entry.default_value,
    override,
    value: override ?? entry.default_value,
    version: row?.version ?? 0,
    updated_at: row?.updated_at ?? null,
  };
}

async function overrideRow(r: ReadScope, key: string): Promise<PromptOverride | null> {
  const [row] = await promptOverrides.rows(r, promptOverrides.where({ key }));
  return row ?? null;
}

/**
 * The text of a template for this world with its placeholders filled. A placeholder without a
 * value becomes empty text (prompts are built from what is known at the time).
 */
export async function renderPromptTemplate<K extends PromptKey>(db: D1Database, sessionId: string, key: K, values: PromptValues<K>): Promise<string> {
  // Committed overrides only (an empty Tx): prompts are built outside any handler's change.
  const row = await overrideRow({ db, session: { sessionId }, tx: new Tx() }, key);
  const text = row?.value ?? PROMPT_CATALOGUE[key].default_value;
  return text.replace(PLACEHOLDER, (whole, name: string) =>
    (PROMPT_CATALOGUE[key].placeholders as readonly string[]).includes(name) ? ((values as Record<string, string | undefined>)[name] ?? "") : whole,
  );
}

/** Writes the override (value null: back to the default) and tells the DMs. */
function writeOverride(ctx: HandlerContext, entry: CatalogueEntry & { key: string }, before: PromptOverride | null, value: string | null): PromptTemplate {
  const row = before ? bump(before, { value }, ctx.now) : create<PromptOverride>({ key: entry.key, value }, ctx.now);
  if (before) promptOverrides.save(ctx, row);
  else promptOverrides.add(ctx, row);
  const template = view(entry, row);
  ctx.tx.emit({ type: "PromptTemplateUpdated", prompt_template: template }, DMS);
  return template;
}

/** Prompt templates are DM material: reads, writes and events are for DMs only. */
export const promptHandlers = defineHandlers({
  ListPromptTemplates: {
    async handle(ctx, p) {
      const limit = p.limit ?? 50;
      // The cursor is the last key returned: the catalogue is code, in key order.
      const start = p.cursor ? KEYS.findIndex((k) => k > p.cursor!) : 0;
      const keys = start < 0 ? [] : KEYS.slice(start, start + limit);
      const { results } = await ctx.db
        .prepare("SELECT * FROM prompt_templates WHERE session_id = ?")
        .bind(ctx.session.sessionId)
        .all<Record<string, unknown>>();
      const rows = new Map(results.map((r) => [String(r.key), promptOverrides.fromRow(r)]));
      const last = keys[keys.length - 1];
      return {
        items: keys.map((k) => view(entryOf(k), rows.get(k) ?? null)),
        next_cursor: last && last !== KEYS[KEYS.length - 1] ? last : null,
      };
    },
  },

  GetPromptTemplate: {
    async handle(ctx, p) {
      const entry = entryOf(p.key);
      return view(entry, await overrideRow(ctx, entry.key));
    },
  },

  SetPromptTemplate: {
    async handle(ctx, p) {
      const entry = entryOf(p.key);
      checkPlaceholders(entry, p.value);
      const before = await overrideRow(ctx, entry.key);
      const current = view(entry, before);
      if (p.expected_version !== undefined && p.expected_version !== current.version) {
        throw new AppError("CONFLICT", `prompt template '${entry.key}' is at version ${current.version}, not ${p.expected_version}`, {
          current,
          expected_version: p.expected_version,
        });
      }
      return writeOverride(ctx, entry, before, p.value);
    },
  },

  ResetPromptTemplate: {
    async handle(ctx, p) {
      const entry = entryOf(p.key);
      const before = await overrideRow(ctx, entry.key);
      // Nothing to reset: answer with the template as it is, without an event.
      if (!before || before.value === null) return view(entry, before);
      return writeOverride(ctx, entry, before, null);
    },
  },
});
