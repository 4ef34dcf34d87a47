import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { settle, table } from "./helpers";

/** Batches read their own writes: each operation sees the changes of the operations before it. */

const count = async (sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;
const batch = (operations: Record<string, unknown>[], atomic?: boolean) => ({ type: "Batch", operations, ...(atomic === undefined ? {} : { atomic }) });

describe("batches read their own writes", () => {
  it("a player cannot create several PCs in one batch", async () => {
    const t = await table();
    const create = (name: string) => ({ type: "CreateCharacter", data: { kind: "pc", name } });
    const r = await t.player.request(batch(["A", "B", "C", "D", "E"].map(create)));
    expect(r).toMatchObject({ status: "error", code: "CONFLICT", details: { index: 1 } });
    expect(await count("SELECT COUNT(*) AS n FROM characters WHERE session_id = ?", t.dmGrant.session_id)).toBe(0);

    const partial = await t.player.ok(batch(["A", "B", "C", "D", "E"].map(create), false));
    expect(partial.results.map((x: any) => x.status)).toEqual(["success", "error", "error", "error", "error"]);
    expect(partial.results[1]).toMatchObject({ code: "CONFLICT", details: { character_id: partial.results[0].data.id } });
    const owned = await count(
      "SELECT COUNT(*) AS n FROM characters WHERE session_id = ? AND kind = 'pc' AND owner_participant_id = ?",
      t.dmGrant.session_id,
      t.playerGrant.participant_id,
    );
    expect(owned).toBe(1);
    t.close();
  });

  it("a stack cannot be given away twice in one batch", async () => {
    const t = await table();
    const hero = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero" } });
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Merchant" } });
    const gold = await t.player.ok({ type: "AddInventoryItem", character_id: hero.id, data: { name: "Gold", quantity: 10, item_type: "currency" } });
    const give = Array.from({ length: 10 }, () => ({ type: "GiveItem", item_id: gold.id, to_character_id: npc.id, quantity: 9 }));
    const totalGold = () => count("SELECT COALESCE(SUM(quantity), 0) AS n FROM inventory_items WHERE session_id = ? AND name = 'Gold'", t.dmGrant.session_id);

    const r = await t.player.request(batch(give));
    expect(r).toMatchObject({ status: "error", code: "VALIDATION_ERROR", details: { index: 1 } });
    expect(await totalGold()).toBe(10);

    const partial = await t.player.ok(batch(give, false));
    expect(partial.results.filter((x: any) => x.status === "success")).toHaveLength(1);
    expect(partial.results[0].data.from).toMatchObject({ id: gold.id, quantity: 1, version: 2 });
    expect(await totalGold()).toBe(10);
    expect(await count("SELECT quantity AS n FROM inventory_items WHERE id = ?", gold.id)).toBe(1);
    t.close();
  });

  it("two updates expecting the same version cannot both win", async () => {
    const t = await table();
    const c = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "V" } });
    const set = (stat: string) => ({ type: "SetCharacterStat", character_id: c.id, stat, value: 1, expected_version: 1 });
    const r = await t.dm.request(batch([set("hp"), set("mp")]));
    expect(r).toMatchObject({ status: "error", code: "CONFLICT", details: { index: 1, error: { details: { current: { version: 2, stats: { hp: 1 } } } } } });
    expect((await t.dm.ok({ type: "GetCharacter", character_id: c.id })).version).toBe(1);

    // Not atomic: the second is refused; a third that expects the first's version wins.
    const partial = await t.dm.ok(batch([set("hp"), set("mp"), { ...set("sp"), expected_version: 2 }], false));
    expect(partial.results.map((x: any) => x.status)).toEqual(["success", "error", "success"]);
    const after = await t.dm.ok({ type: "GetCharacter", character_id: c.id });
    expect(after).toMatchObject({ version: 3, stats: { hp: 1, sp: 1 } });
    t.close();
  });

  it("creates then updates the same entity in one batch", async () => {
    const t = await table();
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
    const loc = await t.dm.ok({ type: "CreateLocation", data: { name: "Town" } });
    const hall = await t.dm.ok({ type: "CreateRegion", location_id: loc.id, data: { name: "Hall" } });
    const rel = (relationship_type: string) => ({ type: "SetNpcRegionRelationship", character_id: npc.id, region_id: hall.id, relationship_type });
    const r = await t.dm.ok(batch([rel("work"), rel("home")]));
    expect(r.results[1]).toMatchObject({ id: r.results[0].id, version: 2, relationship_type: "home" });
    expect(await count("SELECT COUNT(*) AS n FROM npc_region_relationships WHERE session_id = ?", t.dmGrant.session_id)).toBe(1);

    const p = await t.dm.ok(
      batch([
        { type: "SetPromptTemplate", key: "staging.response_format", value: "first" },
        { type: "SetPromptTemplate", key: "staging.response_format", value: "second", expected_version: 1 },
      ]),
    );
    expect(p.results[1]).toMatchObject({ value: "second", version: 2 });
    expect(await t.dm.ok({ type: "GetPromptTemplate", key: "staging.response_format" })).toEqual(p.results[1]);
    t.close();
  });

  it("updates then deletes; a deleted entity (and what went with it) is gone for later operations", async () => {
    const t = await table();
    const c = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Doomed" } });
    const item = await t.dm.ok({ type: "AddInventoryItem", character_id: c.id, data: { name: "Ring" } });
    const r = await t.dm.ok(
      batch([
        { type: "UpdateCharacter", character_id: c.id, data: { name: "Renamed" }, expected_version: 1 },
        { type: "DeleteCharacter", character_id: c.id, expected_version: 2 },
      ]),
    );
    expect(r.results).toEqual([expect.objectContaining({ name: "Renamed", version: 2 }), { deleted: true }]);
    const deleted = await t.player.waitFor((f) => f.type === "Event" && f.event.type === "CharacterDeleted" && f.event.character_id === c.id);
    const updated = t.player.events("CharacterUpdated").find((f) => f.event.character.id === c.id)!;
    expect(deleted.seq).toBe(updated.seq + 1);
    expect(await count("SELECT COUNT(*) AS n FROM characters WHERE id = ?", c.id)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM inventory_items WHERE id = ?", item.id)).toBe(0);

    const d = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Next" } });
    const ring = await t.dm.ok({ type: "AddInventoryItem", character_id: d.id, data: { name: "Ring" } });
    const afterDelete = [
      { type: "GetCharacter", character_id: d.id },
      { type: "UpdateInventoryItem", item_id: ring.id, data: { name: "Gone" } },
      { type: "CreateScene", data: { name: "S", featured_character_ids: [d.id] } },
    ];
    const gone = await t.dm.ok(batch([{ type: "DeleteCharacter", character_id: d.id }, ...afterDelete], false));
    expect(gone.results.map((x: any) => x.code ?? x.status)).toEqual(["success", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);

    const e = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Kept" } });
    const atomic = await t.dm.request(
      batch([
        { type: "DeleteCharacter", character_id: e.id },
        { type: "GetCharacter", character_id: e.id },
      ]),
    );
    expect(atomic).toMatchObject({ status: "error", code: "NOT_FOUND", details: { index: 1 } });
    expect((await t.dm.ok({ type: "GetCharacter", character_id: e.id })).name).toBe("Kept");
    t.close();
  });

  it("a failed operation of a non-atomic batch leaves nothing for later operations", async () => {
    const t = await table();
    const c = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Survivor" } });
    await t.dm.ok({ type: "CreateLocation", data: { name: "Town" } });
    const doc = await t.dm.ok({ type: "ExportWorld" });
    // Replace mode deletes everything first, then fails on the broken reference: that
    // operation's deletions must not reach the operations after it.
    const region = {
      id: "r1",
      version: 1,
      created_at: 1,
      updated_at: 1,
      world_id: doc.world.id,
      location_id: "nowhere",
      name: "R",
      description: "",
      backdrop_asset_id: null,
      atmosphere: null,
      is_spawn_point: false,
      sort_order: 0,
    };
    const broken = { ...doc, regions: [region] };
    const r = await t.dm.ok(
      batch(
        [
          { type: "ImportWorld", document: broken, mode: "replace" },
          { type: "GetCharacter", character_id: c.id },
          { type: "UpdateCharacter", character_id: c.id, data: { name: "Still here" }, expected_version: 1 },
        ],
        false,
      ),
    );
    expect(r.results.map((x: any) => x.code ?? x.status)).toEqual(["VALIDATION_ERROR", "success", "success"]);
    expect(r.results[0].message).toContain("'nowhere' is not in the document");
    expect(r.results[1].data.name).toBe("Survivor");
    expect(await count("SELECT COUNT(*) AS n FROM locations WHERE session_id = ?", t.dmGrant.session_id)).toBe(1);
    t.close();
  });

  it("what a batch reports is what it committed", async () => {
    const t = await table();
    const c = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Tally" } });
    const r = await t.dm.ok(
      batch([
        { type: "UpdateCharacter", character_id: c.id, data: { description: "keeper" } },
        { type: "SetCharacterStat", character_id: c.id, stat: "hp", value: 5 },
        { type: "SetCharacterStat", character_id: c.id, stat: "mp", value: 3, expected_version: 3 },
        { type: "AddInventoryItem", character_id: c.id, data: { name: "Coin", quantity: 7 } },
        { type: "GetCharacter", character_id: c.id },
      ]),
    );
    expect(r.results[2]).toMatchObject({ version: 4, description: "keeper", stats: { hp: 5, mp: 3 } });
    expect(r.results[4]).toEqual(r.results[2]);
    expect(await t.dm.ok({ type: "GetCharacter", character_id: c.id })).toEqual(r.results[2]);
    const inv = await t.dm.ok({ type: "ListInventory", character_id: c.id });
    expect(inv.items).toEqual([r.results[3]]);
    const last = await t.dm.waitFor((f) => f.type === "Event" && f.event.type === "CharacterUpdated" && f.event.character.version === 4);
    expect(last.event.character).toEqual(r.results[2]);
    t.close();
  });

  it("a participant cannot be kicked twice in one batch", async () => {
    const t = await table();
    const kick = { type: "KickParticipant", participant_id: t.spectatorGrant.participant_id };
    const r = await t.dm.ok(batch([kick, kick], false));
    expect(r.results.map((x: any) => x.code ?? x.status)).toEqual(["success", "CONFLICT"]);
    await t.spectator.waitClosed();
    await settle();
    expect(t.dm.events("ParticipantKicked")).toHaveLength(1);
    t.close();
  });

  it("an NPC hidden earlier in the batch stays hidden from players in later operations' events", async () => {
    const t = await table();
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Shadow" } });
    await t.dm.ok(
      batch([
        { type: "UpdateCharacter", character_id: npc.id, data: { hidden: true } },
        { type: "CreateScene", data: { name: "Ambush", featured_character_ids: [npc.id] } },
      ]),
    );
    const dmSees = await t.dm.waitFor((f) => f.type === "Event" && f.event.type === "SceneCreated");
    const playerSees = await t.player.waitFor((f) => f.type === "Event" && f.event.type === "SceneCreated");
    expect(dmSees.event.scene.featured_character_ids).toEqual([npc.id]);
    expect(playerSees.event.scene.featured_character_ids).toEqual([]);
    await settle();
    t.close();
  });
});
