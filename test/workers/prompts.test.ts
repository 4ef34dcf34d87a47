import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PROMPT_CATALOGUE, renderPromptTemplate } from "../../src/domain/prompts";
import { settle, table } from "./helpers";

const REQUIRED = [
  "dialogue.system",
  "dialogue.response_format",
  "staging.system",
  "staging.response_format",
  "outcome.system",
  "suggestion.character_description",
];

describe("prompt templates", () => {
  it("the catalogue lists every key with its default, label, description and placeholders, a page at a time", async () => {
    const t = await table();
    const keys: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await t.dm.ok({ type: "ListPromptTemplates", limit: 3, ...(cursor ? { cursor } : {}) });
      for (const item of page.items) {
        expect(item.label.length).toBeGreaterThan(0);
        expect(item.description.length).toBeGreaterThan(0);
        expect(item.default_value.length).toBeGreaterThan(0);
        expect(item).toMatchObject({ override: null, version: 0, updated_at: null });
        expect(item.value).toBe(item.default_value);
        expect(Array.isArray(item.placeholders)).toBe(true);
      }
      keys.push(...page.items.map((i: any) => i.key));
      cursor = page.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThan(1);
    expect(keys).toEqual(Object.keys(PROMPT_CATALOGUE).sort());
    for (const k of REQUIRED) expect(keys).toContain(k);
    expect((await t.dm.request({ type: "GetPromptTemplate", key: "dialogue.nonsense" })).code).toBe("NOT_FOUND");
    t.close();
  });

  it("a DM overrides and resets a template; only DMs see templates and their events", async () => {
    const t = await table();
    const set = await t.dm.ok({
      type: "SetPromptTemplate",
      key: "dialogue.system",
      value: "You are {npc_name} of {world_name}. Be terse.",
      expected_version: 0,
    });
    expect(set).toMatchObject({ key: "dialogue.system", override: "You are {npc_name} of {world_name}. Be terse.", version: 1 });
    expect(set.value).toBe(set.override);
    const e = await t.dm.waitFor((f) => f.type === "Event" && f.event.type === "PromptTemplateUpdated");
    expect(e.event.prompt_template.version).toBe(1);
    expect((await t.dm.ok({ type: "GetPromptTemplate", key: "dialogue.system" })).override).toBe(set.override);

    const stale = await t.dm.request({ type: "SetPromptTemplate", key: "dialogue.system", value: "x", expected_version: 0 });
    expect(stale.code).toBe("CONFLICT");
    expect(stale.details.current.version).toBe(1);

    // Braces that are not placeholders (a JSON example) are plain text.
    const json = await t.dm.ok({ type: "SetPromptTemplate", key: "staging.response_format", value: 'Answer {"npcs": [ ]} only.' });
    expect(json.override).toBe('Answer {"npcs": [ ]} only.');

    const reset = await t.dm.ok({ type: "ResetPromptTemplate", key: "dialogue.system" });
    expect(reset).toMatchObject({ override: null, version: 2 });
    expect(reset.value).toBe(PROMPT_CATALOGUE["dialogue.system"].default_value);
    await t.dm.waitFor((f) => f.type === "Event" && f.event.type === "PromptTemplateUpdated" && f.event.prompt_template.version === 2);
    const again = await t.dm.ok({ type: "SetPromptTemplate", key: "dialogue.system", value: "Hello {pc_name}", expected_version: 2 });
    expect(again.version).toBe(3);

    for (const s of [t.player, t.spectator]) {
      expect((await s.request({ type: "ListPromptTemplates" })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "GetPromptTemplate", key: "dialogue.system" })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "SetPromptTemplate", key: "dialogue.system", value: "x" })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "ResetPromptTemplate", key: "dialogue.system" })).code).toBe("FORBIDDEN");
    }
    await settle();
    expect(t.player.events("PromptTemplateUpdated")).toEqual([]);
    expect(t.spectator.events("PromptTemplateUpdated")).toEqual([]);
    t.close();
  });

  it("unknown placeholders are refused with VALIDATION_ERROR", async () => {
    const t = await table();
    const r = await t.dm.request({ type: "SetPromptTemplate", key: "staging.system", value: "In {region} at {game_time}: {npc_secrets} and {mood}" });
    expect(r.code).toBe("VALIDATION_ERROR");
    expect(r.message).toContain("{npc_secrets}");
    expect(r.details).toMatchObject({ unknown: ["npc_secrets", "mood"] });
    expect(r.details.accepted).toContain("region");
    expect((await t.dm.ok({ type: "GetPromptTemplate", key: "staging.system" })).override).toBeNull();
    t.close();
  });

  it("renders a template for a world: the override, else the default, with its placeholders filled", async () => {
    const t = await table();
    const sessionId = t.dmGrant.session_id;
    const byDefault = await renderPromptTemplate(env.DB, sessionId, "outcome.branch_system", {
      branch_count: "3",
      outcome: "failure",
      pc_name: "Aria",
      challenge_name: "Pick the lock",
      world_name: "Emberfall",
    });
    expect(byDefault).toBe("Propose 3 different ways the failure of Aria's attempt at 'Pick the lock' could play out in Emberfall.");
    await t.dm.ok({ type: "SetPromptTemplate", key: "dialogue.system", value: "You are {npc_name}. {pc_name} says hi. {recent_turns}" });
    const rendered = await renderPromptTemplate(env.DB, sessionId, "dialogue.system", { npc_name: "Mira", pc_name: "Aria" });
    expect(rendered).toBe("You are Mira. Aria says hi. ");
    t.close();
  });
});
