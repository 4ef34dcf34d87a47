import { describe, expect, it } from "vitest";
import { settle, table } from "./helpers";

describe("goals", () => {
  it("a DM creates, updates and deletes goals; everyone receives the events", async () => {
    const t = await table();
    const goal = await t.dm.ok({ type: "CreateGoal", data: { name: "Find the lost map", description: "Somewhere in Emberfall" } });
    expect(goal).toMatchObject({ name: "Find the lost map", version: 1 });
    for (const s of [t.dm, t.player, t.spectator]) {
      const e = await s.waitFor((f) => f.type === "Event" && f.event.type === "GoalCreated");
      expect(e.event.goal.id).toBe(goal.id);
    }
    const updated = await t.dm.ok({ type: "UpdateGoal", goal_id: goal.id, data: { description: "Under the inn" }, expected_version: 1 });
    expect(updated).toMatchObject({ version: 2, description: "Under the inn", name: "Find the lost map" });
    await t.player.waitFor((f) => f.type === "Event" && f.event.type === "GoalUpdated" && f.event.goal.version === 2);
    expect(await t.player.ok({ type: "GetGoal", goal_id: goal.id })).toMatchObject({ version: 2 });

    await t.dm.ok({ type: "DeleteGoal", goal_id: goal.id });
    const del = await t.spectator.waitFor((f) => f.type === "Event" && f.event.type === "GoalDeleted");
    expect(del.event.goal_id).toBe(goal.id);
    const missing = await t.player.request({ type: "GetGoal", goal_id: goal.id });
    expect(missing.code).toBe("NOT_FOUND");
    t.close();
  });

  it("players and spectators may read but not write", async () => {
    const t = await table();
    const goal = await t.dm.ok({ type: "CreateGoal", data: { name: "Protect the village" } });
    for (const s of [t.player, t.spectator]) {
      expect((await s.request({ type: "CreateGoal", data: { name: "x" } })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "UpdateGoal", goal_id: goal.id, data: { name: "x" } })).code).toBe("FORBIDDEN");
      expect((await s.request({ type: "DeleteGoal", goal_id: goal.id })).code).toBe("FORBIDDEN");
      expect((await s.ok({ type: "ListGoals" })).items.map((g: any) => g.id)).toEqual([goal.id]);
    }
    t.close();
  });

  it("lists page, stale versions conflict, replays change nothing", async () => {
    const t = await table();
    const names = ["A", "B", "C", "D", "E"];
    for (const name of names) await t.dm.ok({ type: "CreateGoal", data: { name } });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await t.player.ok({ type: "ListGoals", limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((g: any) => g.name));
      cursor = page.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    expect(seen).toEqual(names);
    expect(pages).toBe(3);

    const [first] = (await t.dm.ok({ type: "ListGoals", limit: 1 })).items;
    await t.dm.ok({ type: "UpdateGoal", goal_id: first.id, data: { name: "A2" } });
    const stale = await t.dm.request({ type: "UpdateGoal", goal_id: first.id, data: { name: "A3" }, expected_version: 1 });
    expect(stale.code).toBe("CONFLICT");
    expect(stale.details.current).toMatchObject({ name: "A2", version: 2 });

    const again = { type: "CreateGoal", data: { name: "Once" } };
    const r1 = await t.dm.request(again, "same-id");
    const r2 = await t.dm.request(again, "same-id");
    expect(r2.replayed).toBe(true);
    expect(r2.data.id).toBe(r1.data.id);
    await settle();
    expect(t.player.events("GoalCreated").filter((e) => e.event.goal.name === "Once")).toHaveLength(1);

    expect((await t.dm.request({ type: "CreateGoal", data: { name: "" } })).code).toBe("VALIDATION_ERROR");
    expect((await t.dm.request({ type: "UpdateGoal", goal_id: "nope", data: { name: "x" } })).code).toBe("NOT_FOUND");
    t.close();
  });
});
