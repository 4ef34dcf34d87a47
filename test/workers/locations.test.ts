import { describe, expect, it } from "vitest";
import { TestSocket, createSession, settle, table } from "./helpers";
import { uploadImage } from "./image-helpers";

type T = Awaited<ReturnType<typeof table>>;

const ev =
  (type: string, pred: (e: any) => boolean = () => true) =>
  (f: any) =>
    f.type === "Event" && f.event.type === type && pred(f.event);

/** An inn with a common room and a cellar, connected. */
async function inn(t: T) {
  const location = await t.dm.ok({ type: "CreateLocation", data: { name: "Gilded Lantern", location_type: "interior", atmosphere: "warm, smoky" } });
  const hall = await t.dm.ok({ type: "CreateRegion", location_id: location.id, data: { name: "Common room", is_spawn_point: true } });
  const cellar = await t.dm.ok({ type: "CreateRegion", location_id: location.id, data: { name: "Cellar", atmosphere: "damp" } });
  const door = await t.dm.ok({
    type: "CreateRegionConnection",
    data: { from_region_id: hall.id, to_region_id: cellar.id, is_locked: true, lock_description: "A heavy trapdoor, padlocked" },
  });
  return { location, hall, cellar, door };
}

describe("locations and regions", () => {
  it("a DM builds a location with regions and a connection; everyone sees it", async () => {
    const t = await table();
    const { location, hall, cellar, door } = await inn(t);
    expect(location).toMatchObject({ location_type: "interior", atmosphere: "warm, smoky", backdrop_asset_id: null, version: 1 });
    expect(hall).toMatchObject({ location_id: location.id, is_spawn_point: true });
    expect(door).toMatchObject({ bidirectional: true, is_locked: true, lock_description: "A heavy trapdoor, padlocked" });
    for (const s of [t.player, t.spectator]) {
      await s.waitFor(ev("LocationCreated", (e) => e.location.id === location.id));
      await s.waitFor(ev("RegionCreated", (e) => e.region.id === cellar.id));
      await s.waitFor(ev("RegionConnectionCreated", (e) => e.region_connection.id === door.id));
    }

    const { asset } = await uploadImage(t.dmGrant);
    const updated = await t.dm.ok({
      type: "UpdateLocation",
      location_id: location.id,
      data: { backdrop_asset_id: asset.id, default_region_id: hall.id },
      expected_version: 1,
    });
    expect(updated).toMatchObject({ version: 2, backdrop_asset_id: asset.id, default_region_id: hall.id, atmosphere: "warm, smoky" });
    await t.player.waitFor(ev("LocationUpdated", (e) => e.location.version === 2));

    const unlocked = await t.dm.ok({ type: "UpdateRegionConnection", region_connection_id: door.id, data: { is_locked: false } });
    expect(unlocked).toMatchObject({ is_locked: false, version: 2 });
    await t.spectator.waitFor(ev("RegionConnectionUpdated", (e) => !e.region_connection.is_locked));

    expect((await t.player.ok({ type: "ListRegions", location_id: location.id })).items.map((r: any) => r.name)).toEqual(["Common room", "Cellar"]);
    expect((await t.player.ok({ type: "ListRegionConnections", region_id: cellar.id })).items.map((c: any) => c.id)).toEqual([door.id]);
    expect(await t.spectator.ok({ type: "GetRegion", region_id: cellar.id })).toMatchObject({ atmosphere: "damp" });

    await t.dm.ok({ type: "DeleteRegionConnection", region_connection_id: door.id });
    await t.player.waitFor(ev("RegionConnectionDeleted", (e) => e.region_connection_id === door.id));
    expect((await t.player.ok({ type: "ListRegionConnections" })).items).toEqual([]);
    t.close();
  });

  it("only DMs write; players and spectators read", async () => {
    const t = await table();
    const { location, hall, cellar, door } = await inn(t);
    for (const s of [t.player, t.spectator]) {
      for (const payload of [
        { type: "CreateLocation", data: { name: "x" } },
        { type: "UpdateLocation", location_id: location.id, data: { name: "x" } },
        { type: "DeleteLocation", location_id: location.id },
        { type: "CreateRegion", location_id: location.id, data: { name: "x" } },
        { type: "UpdateRegion", region_id: hall.id, data: { name: "x" } },
        { type: "DeleteRegion", region_id: hall.id },
        { type: "CreateRegionConnection", data: { from_region_id: cellar.id, to_region_id: hall.id } },
        { type: "DeleteRegionConnection", region_connection_id: door.id },
        { type: "ListNpcRegionRelationships" },
      ]) {
        expect((await s.request(payload)).code, `${payload.type} by ${s === t.player ? "player" : "spectator"}`).toBe("FORBIDDEN");
      }
      expect((await s.ok({ type: "GetLocation", location_id: location.id })).name).toBe("Gilded Lantern");
    }
    t.close();
  });

  it("references must exist in this world", async () => {
    const t = await table();
    const { location, hall, cellar } = await inn(t);
    // A region of another session is not found here.
    const other = await createSession("Elsewhere");
    const os = await TestSocket.open(other);
    await os.join();
    const foreignLoc = await os.ok({ type: "CreateLocation", data: { name: "Far away" } });
    const foreign = await os.ok({ type: "CreateRegion", location_id: foreignLoc.id, data: { name: "Over there" } });
    os.close();

    const cases: [Record<string, unknown>, string][] = [
      [{ type: "CreateRegion", location_id: "missing", data: { name: "x" } }, "NOT_FOUND"],
      [{ type: "CreateRegion", location_id: foreignLoc.id, data: { name: "x" } }, "NOT_FOUND"],
      [{ type: "CreateRegionConnection", data: { from_region_id: hall.id, to_region_id: foreign.id } }, "NOT_FOUND"],
      [{ type: "CreateRegionConnection", data: { from_region_id: hall.id, to_region_id: hall.id } }, "VALIDATION_ERROR"],
      [{ type: "CreateRegionConnection", data: { from_region_id: cellar.id, to_region_id: hall.id } }, "CONFLICT"],
      [{ type: "GetRegion", region_id: foreign.id }, "NOT_FOUND"],
      [{ type: "ListRegions", location_id: "missing" }, "NOT_FOUND"],
      [{ type: "UpdateLocation", location_id: location.id, data: { default_region_id: foreign.id } }, "NOT_FOUND"],
      [{ type: "CreateLocation", data: { name: "x", location_type: "underwater" } }, "VALIDATION_ERROR"],
      [{ type: "CreateLocation", data: { name: "x" }, world_id: other.world_id }, "FORBIDDEN"],
    ];
    for (const [payload, code] of cases) expect((await t.dm.request(payload)).code, JSON.stringify(payload)).toBe(code);

    const second = await t.dm.ok({ type: "CreateLocation", data: { name: "Market" } });
    const stall = await t.dm.ok({ type: "CreateRegion", location_id: second.id, data: { name: "Stall" } });
    const wrong = await t.dm.request({ type: "UpdateLocation", location_id: location.id, data: { default_region_id: stall.id } });
    expect(wrong.code).toBe("VALIDATION_ERROR");
    t.close();
  });

  it("lists page and stale versions conflict", async () => {
    const t = await table();
    const location = await t.dm.ok({ type: "CreateLocation", data: { name: "Town" } });
    for (const name of ["North", "South", "East", "West", "Centre"]) await t.dm.ok({ type: "CreateRegion", location_id: location.id, data: { name } });
    const first = await t.player.ok({ type: "ListRegions", location_id: location.id, limit: 3 });
    expect(first.items.map((r: any) => r.name)).toEqual(["North", "South", "East"]);
    const second = await t.player.ok({ type: "ListRegions", location_id: location.id, limit: 3, cursor: first.next_cursor });
    expect(second.items.map((r: any) => r.name)).toEqual(["West", "Centre"]);
    expect(second.next_cursor).toBeNull();

    await t.dm.ok({ type: "UpdateLocation", location_id: location.id, data: { description: "Busy" } });
    const stale = await t.dm.request({ type: "UpdateLocation", location_id: location.id, data: { description: "Quiet" }, expected_version: 1 });
    expect(stale.code).toBe("CONFLICT");
    expect(stale.details.current).toMatchObject({ version: 2, description: "Busy" });
    const region = first.items[0];
    const staleRegion = await t.dm.request({ type: "DeleteRegion", region_id: region.id, expected_version: 7 });
    expect(staleRegion.code).toBe("CONFLICT");
    expect(await t.dm.ok({ type: "GetRegion", region_id: region.id })).toMatchObject({ name: "North" });
    t.close();
  });

  it("NPC–region relationships are DM-only: set, replace, remove", async () => {
    const t = await table();
    const { hall, cellar } = await inn(t);
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Aria" } });

    const home = await t.dm.ok({ type: "SetNpcRegionRelationship", character_id: npc.id, region_id: hall.id, relationship_type: "work", notes: "evenings" });
    expect(home).toMatchObject({ character_id: npc.id, region_id: hall.id, relationship_type: "work", notes: "evenings", version: 1 });
    const again = await t.dm.ok({ type: "SetNpcRegionRelationship", character_id: npc.id, region_id: hall.id, relationship_type: "home" });
    expect(again).toMatchObject({ id: home.id, relationship_type: "home", notes: "evenings", version: 2 });
    await t.dm.ok({ type: "SetNpcRegionRelationship", character_id: npc.id, region_id: cellar.id, relationship_type: "avoids" });
    await t.dm.waitFor(ev("NpcRegionRelationshipSet", (e) => e.npc_region_relationship.relationship_type === "avoids"));

    const list = await t.dm.ok({ type: "ListNpcRegionRelationships", character_id: npc.id });
    expect(list.items.map((r: any) => r.relationship_type)).toEqual(["home", "avoids"]);
    expect((await t.dm.ok({ type: "ListNpcRegionRelationships", region_id: cellar.id })).items).toHaveLength(1);

    expect((await t.dm.request({ type: "SetNpcRegionRelationship", character_id: pc.id, region_id: hall.id, relationship_type: "home" })).code).toBe(
      "VALIDATION_ERROR",
    );
    expect((await t.dm.request({ type: "SetNpcRegionRelationship", character_id: "nobody", region_id: hall.id, relationship_type: "home" })).code).toBe(
      "NOT_FOUND",
    );
    expect((await t.dm.request({ type: "SetNpcRegionRelationship", character_id: npc.id, region_id: "nowhere", relationship_type: "home" })).code).toBe(
      "NOT_FOUND",
    );
    expect((await t.player.request({ type: "SetNpcRegionRelationship", character_id: npc.id, region_id: hall.id, relationship_type: "home" })).code).toBe(
      "FORBIDDEN",
    );

    await t.dm.ok({ type: "RemoveNpcRegionRelationship", character_id: npc.id, region_id: cellar.id });
    const removed = await t.dm.waitFor(ev("NpcRegionRelationshipRemoved"));
    expect(removed.event).toMatchObject({ character_id: npc.id, region_id: cellar.id });
    expect((await t.dm.request({ type: "RemoveNpcRegionRelationship", character_id: npc.id, region_id: cellar.id })).code).toBe("NOT_FOUND");

    await settle();
    for (const s of [t.player, t.spectator]) {
      expect(s.events().filter((f) => f.event.type.startsWith("NpcRegionRelationship"))).toEqual([]);
    }
    t.close();
  });

  it("deleting a location removes its regions, connections and relationships in one go", async () => {
    const t = await table();
    const { location, hall, cellar, door } = await inn(t);
    const market = await t.dm.ok({ type: "CreateLocation", data: { name: "Market" } });
    const square = await t.dm.ok({ type: "CreateRegion", location_id: market.id, data: { name: "Square" } });
    const street = await t.dm.ok({ type: "CreateRegionConnection", data: { from_region_id: square.id, to_region_id: hall.id } });
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira", region_id: cellar.id } });
    await t.dm.ok({ type: "SetNpcRegionRelationship", character_id: npc.id, region_id: hall.id, relationship_type: "home" });
    const scene = await t.dm.ok({ type: "CreateScene", data: { name: "Night at the inn", location_id: location.id } });

    const stale = await t.dm.request({ type: "DeleteLocation", location_id: location.id, expected_version: 9 });
    expect(stale.code).toBe("CONFLICT");
    expect(await t.dm.ok({ type: "GetRegion", region_id: hall.id })).toBeTruthy();

    await t.dm.ok({ type: "DeleteLocation", location_id: location.id, expected_version: 1 });
    const deleted = await t.player.waitFor(ev("LocationDeleted"));
    expect(deleted.event).toEqual({ type: "LocationDeleted", location_id: location.id, region_ids: [hall.id, cellar.id] });
    for (const id of [hall.id, cellar.id]) await t.player.waitFor(ev("RegionDeleted", (e) => e.region_id === id));
    for (const id of [door.id, street.id]) await t.player.waitFor(ev("RegionConnectionDeleted", (e) => e.region_connection_id === id));
    await t.player.waitFor(ev("CharacterUpdated", (e) => e.character.id === npc.id && e.character.region_id === null));
    await t.player.waitFor(ev("SceneUpdated", (e) => e.scene.id === scene.id && e.scene.location_id === null));

    expect((await t.dm.request({ type: "GetLocation", location_id: location.id })).code).toBe("NOT_FOUND");
    expect((await t.dm.ok({ type: "ListRegions" })).items.map((r: any) => r.id)).toEqual([square.id]);
    expect((await t.dm.ok({ type: "ListRegionConnections" })).items).toEqual([]);
    expect((await t.dm.ok({ type: "ListNpcRegionRelationships" })).items).toEqual([]);
    expect(await t.dm.ok({ type: "GetCharacter", character_id: npc.id })).toMatchObject({ region_id: null });
    t.close();
  });

  it("deleting a region clears it as its location's default", async () => {
    const t = await table();
    const { location, hall } = await inn(t);
    await t.dm.ok({ type: "UpdateLocation", location_id: location.id, data: { default_region_id: hall.id } });
    await t.dm.ok({ type: "DeleteRegion", region_id: hall.id });
    expect(await t.dm.ok({ type: "GetLocation", location_id: location.id })).toMatchObject({ default_region_id: null, version: 3 });
    expect((await t.dm.ok({ type: "ListRegionConnections" })).items).toEqual([]);
    t.close();
  });
});
