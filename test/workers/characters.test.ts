import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { table } from "./helpers";

describe("characters", () => {
  it("creates, reads, updates and deletes with versions and events", async () => {
    const t = await table();
    const c = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Tobin", stats: { int: 17 }, archetype: "herald" } });
    expect(c).toMatchObject({
      version: 1,
      kind: "npc",
      name: "Tobin",
      stats: { int: 17 },
      hidden: false,
      is_alive: true,
      owner_participant_id: null,
      region_id: null,
    });
    expect(c.created_at).toBe(c.updated_at);
    const got = await t.spectator.ok({ type: "GetCharacter", character_id: c.id });
    expect(got.name).toBe("Tobin");
    const up = await t.dm.ok({ type: "UpdateCharacter", character_id: c.id, data: { description: "Old", is_alive: false } });
    expect(up).toMatchObject({ version: 2, description: "Old", is_alive: false, name: "Tobin" });
    const ev = await t.player.waitFor((f) => f.type === "Event" && f.event.type === "CharacterUpdated");
    expect(ev.event.character.version).toBe(2);
    const s1 = await t.dm.ok({ type: "SetCharacterStat", character_id: c.id, stat: "hp", value: 9 });
    expect(s1.stats).toEqual({ int: 17, hp: 9 });
    const s2 = await t.dm.ok({ type: "SetCharacterStat", character_id: c.id, stat: "int", value: null, expected_version: 3 });
    expect(s2).toMatchObject({ version: 4, stats: { hp: 9 } });
    await t.dm.ok({ type: "AddInventoryItem", character_id: c.id, data: { name: "Quill" } });
    expect(await t.dm.ok({ type: "DeleteCharacter", character_id: c.id })).toEqual({ deleted: true });
    await t.player.waitFor((f) => f.type === "Event" && f.event.type === "CharacterDeleted" && f.event.character_id === c.id);
    expect((await t.dm.request({ type: "GetCharacter", character_id: c.id })).code).toBe("NOT_FOUND");
    const orphans = await env.DB.prepare("SELECT COUNT(*) AS n FROM inventory_items WHERE character_id = ?").bind(c.id).first<{ n: number }>();
    expect(orphans!.n).toBe(0);
    t.close();
  });

  it("pages through more than one page with cursors, filtered by kind", async () => {
    const t = await table();
    await t.dm.ok({ type: "Batch", operations: Array.from({ length: 7 }, (_, i) => ({ type: "CreateCharacter", data: { kind: "npc", name: `NPC ${i}` } })) });
    await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero" } });
    const names: string[] = [];
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const page = await t.player.ok({ type: "ListCharacters", kind: "npc", limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(3);
      names.push(...page.items.map((c: any) => c.name));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(names).toEqual(Array.from({ length: 7 }, (_, i) => `NPC ${i}`));
    expect((await t.player.ok({ type: "ListCharacters", kind: "pc" })).items.map((c: any) => c.name)).toEqual(["Hero"]);
    expect((await t.player.request({ type: "ListCharacters", limit: 500 })).code).toBe("VALIDATION_ERROR");
    expect((await t.player.request({ type: "ListCharacters", cursor: "garbage" })).code).toBe("VALIDATION_ERROR");
    t.close();
  });

  it("manages inventory: add, update, remove, give (whole and split), with events", async () => {
    const t = await table();
    const hero = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero" } });
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Merchant" } });
    const coins = await t.player.ok({ type: "AddInventoryItem", character_id: hero.id, data: { name: "Gold", quantity: 10, item_type: "currency" } });
    expect(coins).toMatchObject({ character_id: hero.id, quantity: 10, equipped: false, version: 1 });
    await t.dm.waitFor((f) => f.type === "Event" && f.event.type === "InventoryItemAdded");
    const sword = await t.player.ok({ type: "AddInventoryItem", character_id: hero.id, data: { name: "Sword" } });
    expect((await t.player.ok({ type: "UpdateInventoryItem", item_id: sword.id, data: { equipped: true } })).equipped).toBe(true);
    const split = await t.player.ok({ type: "GiveItem", item_id: coins.id, to_character_id: npc.id, quantity: 4 });
    expect(split.from).toMatchObject({ id: coins.id, quantity: 6, character_id: hero.id });
    expect(split.to).toMatchObject({ quantity: 4, character_id: npc.id, name: "Gold" });
    expect(split.to.id).not.toBe(coins.id);
    const given = await t.dm.waitFor((f) => f.type === "Event" && f.event.type === "ItemGiven");
    expect(given.event).toMatchObject({ from_character_id: hero.id, to_character_id: npc.id, quantity: 4 });
    const whole = await t.player.ok({ type: "GiveItem", item_id: sword.id, to_character_id: npc.id });
    expect(whole.from).toBeNull();
    expect(whole.to).toMatchObject({ id: sword.id, character_id: npc.id, equipped: false });
    expect((await t.player.request({ type: "GiveItem", item_id: coins.id, to_character_id: npc.id, quantity: 7 })).code).toBe("VALIDATION_ERROR");
    expect((await t.player.request({ type: "GiveItem", item_id: coins.id, to_character_id: hero.id })).code).toBe("VALIDATION_ERROR");
    const mine = await t.player.ok({ type: "ListInventory", character_id: hero.id });
    expect(mine.items.map((i: any) => [i.name, i.quantity])).toEqual([["Gold", 6]]);
    const theirs = await t.spectator.ok({ type: "ListInventory", character_id: npc.id });
    expect(theirs.items.map((i: any) => i.name).sort()).toEqual(["Gold", "Sword"]);
    expect(await t.player.ok({ type: "RemoveInventoryItem", item_id: coins.id })).toEqual({ deleted: true });
    await t.dm.waitFor((f) => f.type === "Event" && f.event.type === "InventoryItemRemoved" && f.event.item_id === coins.id);
    expect((await t.player.ok({ type: "ListInventory", character_id: hero.id })).items).toHaveLength(0);
    t.close();
  });

  it("checks references: unknown owner, unknown character", async () => {
    const t = await table();
    expect((await t.dm.request({ type: "CreateCharacter", data: { kind: "pc", name: "X", owner_participant_id: "nobody" } })).code).toBe("NOT_FOUND");
    expect((await t.dm.request({ type: "AddInventoryItem", character_id: "nobody", data: { name: "X" } })).code).toBe("NOT_FOUND");
    const pc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Assigned", owner_participant_id: t.playerGrant.participant_id } });
    // The player now owns it and may edit it.
    expect((await t.player.ok({ type: "UpdateCharacter", character_id: pc.id, data: { description: "mine now" } })).version).toBe(2);
    t.close();
  });

  it("session settings and snapshot", async () => {
    const t = await table();
    const settings = await t.dm.ok({ type: "UpdateSessionSettings", data: { dialogue_approval: false, staging_timeout_seconds: 60 } });
    expect(settings).toMatchObject({ dialogue_approval: false, staging_timeout_seconds: 60, auto_approve_staging: true });
    const ev = await t.spectator.waitFor((f) => f.type === "Event" && f.event.type === "SessionSettingsUpdated");
    expect(ev.event.settings.staging_timeout_seconds).toBe(60);
    expect((await t.dm.request({ type: "UpdateSessionSettings", data: { staging_timeout_seconds: 1 } })).code).toBe("VALIDATION_ERROR");
    const snap = await t.player.ok({ type: "GetSessionSnapshot" });
    expect(snap.session.settings.dialogue_approval).toBe(false);
    expect(snap.you).toMatchObject({ id: t.playerGrant.participant_id, role: "player", online: true });
    expect(snap.participants).toHaveLength(3);
    expect(snap.session.seq).toBe(t.spectator.lastSeq());
    t.close();
  });
});
