import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TestSocket, settle, table } from "./helpers";

const ev = (type: string) => (f: any) => f.type === "Event" && f.event.type === type;

describe("actantial model", () => {
  it("DMs manage wants, targets and views; events reach DMs only; the context merges allies and enemies", async () => {
    const t = await table();
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
    const ally = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Tobin" } });
    const hero = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Hero" } });
    const goal = await t.dm.ok({ type: "CreateGoal", data: { name: "The crown" } });

    const want = await t.dm.ok({
      type: "CreateWant",
      npc_id: npc.id,
      data: { description: "SECRET-WANT: take the crown", intensity: 0.9, tells: ["glances at the throne"], deflection_behavior: "changes the subject" },
      target: { type: "goal", id: goal.id },
    });
    expect(want).toMatchObject({
      character_id: npc.id,
      intensity: 0.9,
      visibility: "hidden",
      priority: 1,
      target: { type: "goal", id: goal.id },
      tells: ["glances at the throne"],
    });
    const second = await t.dm.ok({ type: "CreateWant", npc_id: npc.id, data: { description: "SECRET-WANT: be loved", priority: 2 } });
    expect((await t.dm.waitFor(ev("NpcWantCreated"))).event.want.id).toBe(want.id);

    const updated = await t.dm.ok({ type: "UpdateWant", want_id: want.id, data: { intensity: 0.7, visibility: "suspected" }, expected_version: 1 });
    expect(updated).toMatchObject({ version: 2, intensity: 0.7, visibility: "suspected" });
    expect((await t.dm.request({ type: "UpdateWant", want_id: want.id, data: { intensity: 0.1 }, expected_version: 1 })).code).toBe("CONFLICT");
    expect((await t.dm.request({ type: "UpdateWant", want_id: want.id, data: { intensity: 2 } })).code).toBe("VALIDATION_ERROR");

    const cleared = await t.dm.ok({ type: "SetWantTarget", want_id: second.id, target: { type: "character", id: hero.id } });
    expect(cleared.target).toEqual({ type: "character", id: hero.id });
    expect((await t.dm.ok({ type: "SetWantTarget", want_id: second.id, target: null })).target).toBeNull();
    await t.dm.waitFor(ev("WantTargetRemoved"));
    expect((await t.dm.request({ type: "SetWantTarget", want_id: second.id, target: { type: "item", id: "nope" } })).code).toBe("NOT_FOUND");
    await t.dm.ok({ type: "SetWantTarget", want_id: second.id, target: { type: "text", text: "the village's respect" } });

    const helper = await t.dm.ok({ type: "AddActantialView", want_id: want.id, target_character_id: ally.id, role: "helper", reason: "owes her" });
    await t.dm.ok({ type: "AddActantialView", want_id: second.id, target_character_id: ally.id, role: "helper", reason: "old friend" });
    await t.dm.ok({ type: "AddActantialView", want_id: want.id, target_character_id: hero.id, role: "opponent", reason: "guards the crown" });
    await t.dm.ok({ type: "AddActantialView", want_id: want.id, target_character_id: hero.id, role: "receiver" });
    expect((await t.dm.request({ type: "AddActantialView", want_id: want.id, target_character_id: ally.id, role: "helper" })).code).toBe("CONFLICT");
    expect((await t.dm.request({ type: "AddActantialView", want_id: want.id, target_character_id: npc.id, role: "helper" })).code).toBe("VALIDATION_ERROR");

    const ctx = await t.dm.ok({ type: "GetActantialContext", npc_id: npc.id });
    expect(ctx.npc_name).toBe("Mira");
    expect(ctx.wants.map((w: any) => w.id)).toEqual([want.id, second.id]);
    expect(ctx.wants[0]).toMatchObject({
      target_name: "The crown",
      helpers: [{ id: ally.id, name: "Tobin", actor_type: "npc", reason: "owes her" }],
      opponents: [{ id: hero.id, actor_type: "pc" }],
      receivers: [{ id: hero.id }],
    });
    expect(ctx.wants[1].target_name).toBe("the village's respect");
    expect(ctx.social_views.allies).toEqual([{ id: ally.id, name: "Tobin", actor_type: "npc", reasons: ["owes her", "old friend"] }]);
    expect(ctx.social_views.enemies).toMatchObject([{ id: hero.id, reasons: ["guards the crown"] }]);

    await t.dm.ok({ type: "RemoveActantialView", actantial_view_id: helper.id });
    await t.dm.waitFor(ev("ActantialViewRemoved"));
    expect((await t.dm.ok({ type: "GetActantialContext", npc_id: npc.id })).social_views.allies[0].reasons).toEqual(["old friend"]);
    expect((await t.dm.request({ type: "ListWants", npc_id: hero.id })).code).toBe("VALIDATION_ERROR");

    await t.dm.ok({ type: "DeleteWant", want_id: second.id });
    const deleted = await t.dm.waitFor(ev("NpcWantDeleted"));
    expect(deleted.event).toMatchObject({ want_id: second.id, character_id: npc.id });
    expect((await t.dm.ok({ type: "ListWants", npc_id: npc.id })).items.map((w: any) => w.id)).toEqual([want.id]);
    // The deleted want's views went with it.
    expect((await t.dm.ok({ type: "GetActantialContext", npc_id: npc.id })).social_views.allies).toEqual([]);

    // Players and spectators: FORBIDDEN on every operation, reads included; no frame names a want.
    const calls = [
      { type: "ListWants", npc_id: npc.id },
      { type: "GetActantialContext", npc_id: npc.id },
      { type: "CreateWant", npc_id: npc.id, data: { description: "x" } },
      { type: "UpdateWant", want_id: want.id, data: { intensity: 0.1 } },
      { type: "DeleteWant", want_id: want.id },
      { type: "SetWantTarget", want_id: want.id, target: null },
      { type: "AddActantialView", want_id: want.id, target_character_id: ally.id, role: "sender" },
      { type: "RemoveActantialView", actantial_view_id: "x" },
    ];
    for (const s of [t.player, t.spectator]) for (const c of calls) expect((await s.request(c)).code, `${c.type}`).toBe("FORBIDDEN");
    await settle();
    for (const s of [t.player, t.spectator]) {
      expect(JSON.stringify(s.frames)).not.toContain("SECRET-WANT");
      expect(s.frames.some((f) => f.type === "Event" && /Want|Actantial/.test(f.event.type))).toBe(false);
    }
    // Replay: a player resuming from 0 receives none either.
    const again = await TestSocket.open(t.playerGrant);
    const joined = await again.join(0);
    expect(joined.replayed_events).toBeGreaterThan(5);
    expect(JSON.stringify(again.frames)).not.toContain("SECRET-WANT");
    again.close();

    // Deleting a character takes its wants and every view of or about it along.
    const count = async (sql: string) => (await env.DB.prepare(sql).bind(t.dmGrant.session_id).first<{ n: number }>())!.n;
    expect(await count("SELECT COUNT(*) AS n FROM actantial_views WHERE session_id = ?")).toBe(2);
    await t.dm.ok({ type: "DeleteCharacter", character_id: hero.id });
    expect(await count("SELECT COUNT(*) AS n FROM actantial_views WHERE session_id = ?")).toBe(0);
    await t.dm.ok({ type: "DeleteCharacter", character_id: npc.id });
    expect(await count("SELECT COUNT(*) AS n FROM wants WHERE session_id = ?")).toBe(0);
    t.close();
  });

  it("wants and views travel with ExportWorld / ImportWorld", async () => {
    const t = await table();
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
    const rival = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Rival" } });
    const want = await t.dm.ok({ type: "CreateWant", npc_id: npc.id, data: { description: "revenge" }, target: { type: "character", id: rival.id } });
    await t.dm.ok({ type: "AddActantialView", want_id: want.id, target_character_id: rival.id, role: "opponent", reason: "killed her brother" });
    await t.dm.ok({ type: "CreateChallenge", data: { name: "Climb", difficulty: { kind: "dc", value: 12 } } });
    const doc = await t.dm.ok({ type: "ExportWorld" });
    expect(doc.wants).toHaveLength(1);
    expect(doc.actantial_views).toHaveLength(1);
    expect(doc.challenges).toHaveLength(1);
    expect((await t.player.request({ type: "ExportWorld" })).code).toBe("FORBIDDEN");

    const u = await table();
    const imported = await u.dm.ok({ type: "ImportWorld", document: doc });
    expect(imported.counts).toMatchObject({ wants: 1, actantial_views: 1, challenges: 1 });
    const chars = (await u.dm.ok({ type: "ListCharacters" })).items;
    const mira = chars.find((c: any) => c.name === "Mira");
    const rivalNew = chars.find((c: any) => c.name === "Rival");
    const ctx = await u.dm.ok({ type: "GetActantialContext", npc_id: mira.id });
    expect(ctx.wants[0]).toMatchObject({ description: "revenge", target: { type: "character", id: rivalNew.id }, target_name: "Rival" });
    expect(ctx.social_views.enemies).toEqual([{ id: rivalNew.id, name: "Rival", actor_type: "npc", reasons: ["killed her brother"] }]);
    // A document of an earlier version (no gameplay keys) still imports.
    const { wants: _w, actantial_views: _v, challenges: _c, ...old } = doc;
    const v = await table();
    expect((await v.dm.ok({ type: "ImportWorld", document: old })).counts.wants).toBe(0);
    t.close();
    u.close();
    v.close();
  });
});
