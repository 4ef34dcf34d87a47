/**
 * The one write pipeline: writes that do not come from a socket request (an upload, a job's
 * outcome) get the same character-reference filter as requests before they commit.
 */
import { describe, expect, it } from "vitest";
import { table } from "./helpers";
import { PNG_1X1, uploadImage } from "./image-helpers";

describe("the write pipeline", () => {
  it("an upload that changes a scene sends players the scene without a hidden NPC's id", async () => {
    const t = await table();
    const spy = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Spy", hidden: true } });
    const scene = await t.dm.ok({ type: "CreateScene", data: { name: "Harbour at dusk", featured_character_ids: [spy.id] } });
    const { asset } = await uploadImage(t.dmGrant, PNG_1X1, { entity_kind: "scene", entity_id: scene.id, image: "backdrop" });
    const seen = await t.player.waitFor((f) => f.type === "Event" && f.event.type === "SceneUpdated" && f.event.scene.id === scene.id);
    expect(seen.event.scene.backdrop_asset_id).toBe(asset.id);
    expect(seen.event.scene.featured_character_ids).toEqual([]);
    expect(JSON.stringify(t.player.frames)).not.toContain(spy.id);
    // DMs get the whole scene.
    const dmSeen = await t.dm.waitFor((f) => f.type === "Event" && f.event.type === "SceneUpdated" && f.event.scene.id === scene.id);
    expect(dmSeen.event.scene.featured_character_ids).toEqual([spy.id]);
    t.close();
  });
});
