import { afterEach, describe, expect, it, vi } from "vitest";
import { HANDLERS, HOOKS, JOB_KINDS, TIMER_KINDS } from "../../src/domain/registry";
import { Registry, mergeOnce } from "../../src/engine/registry";
import type { HandlerContext } from "../../src/engine/context";
import { OPERATIONS, OPERATION_TYPES } from "../../src/protocol";
import { TestSocket, createSession, joinSession, settle } from "./helpers";

async function dmSocket() {
  const s = await TestSocket.open(await createSession());
  await s.join();
  return s;
}

/** Makes CreateGoal also emit an event its declaration does not list (a programming error). */
function createGoalEmitsUndeclared() {
  const original = HANDLERS.CreateGoal.handle;
  return vi.spyOn(HANDLERS.CreateGoal, "handle").mockImplementation(async (ctx: HandlerContext, p) => {
    const goal = await original(ctx, p);
    ctx.tx.emit({ type: "StoryEventDeleted", story_event_id: "nothing" });
    return goal;
  });
}

describe("the domain registry", () => {
  it("lists the job kinds, timer kinds and region-entry hooks by name; a name given twice throws", () => {
    expect([...JOB_KINDS].map((k) => k.kind)).toEqual(expect.arrayContaining(["dialogue.reply", "images.generate"]));
    expect([...TIMER_KINDS].map((k) => k.kind)).toEqual(expect.arrayContaining(["staging.timeout"]));
    expect([...HOOKS.regionEntry].map((h) => h.name)).toEqual(expect.arrayContaining(["staging"]));
    const [first] = JOB_KINDS;
    expect(() => JOB_KINDS.add(first!)).toThrow(`duplicate job kind '${first!.kind}'`);
    expect(() => new Registry<{ name: string }>("hook", (h) => h.name, [{ name: "a" }, { name: "a" }])).toThrow("duplicate hook 'a'");
    expect(() => mergeOnce("handler", [{ CreateGoal: 1 }, { CreateGoal: 2 }])).toThrow("duplicate handler 'CreateGoal'");
  });
});

describe("operation registry", () => {
  afterEach(() => vi.restoreAllMocks());

  it("handlers carry only code: access, write and events are declared in src/protocol/ops", () => {
    expect(Object.keys(HANDLERS).sort()).toEqual(OPERATION_TYPES.filter((t) => t !== "Batch").sort());
    for (const [type, handler] of Object.entries(HANDLERS)) {
      expect(
        Object.keys(handler).filter((k) => k !== "handle"),
        type,
      ).toEqual([]);
    }
  });

  it("a read declares no events; the access names are the policy's", () => {
    for (const [type, def] of Object.entries(OPERATIONS)) {
      if (!def.write) expect(def.events, type).toEqual([]);
      expect(["read", "play", "dm", "own"], type).toContain(def.access);
    }
  });

  it("the router takes access from the registry", async () => {
    const g = await createSession();
    const player = await TestSocket.open(await joinSession(g.invite_code, "Pat"));
    await player.join();
    // ListPromptTemplates is a DM-only read, ListGoals an everyone read.
    expect((await player.request({ type: "ListPromptTemplates" })).code).toBe("FORBIDDEN");
    expect((await player.request({ type: "ListGoals" })).status).toBe("success");
    player.close();
  });

  it("an event the operation does not declare fails the request with INTERNAL, logged, and commits nothing", async () => {
    const s = await dmSocket();
    const spy = createGoalEmitsUndeclared();
    const logged = vi.spyOn(console, "error");
    const from = s.frames.length;
    const r = await s.request({ type: "CreateGoal", data: { name: "Never" } });
    expect(r).toMatchObject({ status: "error", code: "INTERNAL" });
    expect(spy).toHaveBeenCalled();
    expect(logged.mock.calls.flat().join(" ")).toMatch(/CreateGoal emitted undeclared event\(s\) StoryEventDeleted/);
    await settle();
    expect(s.frames.slice(from).filter((f) => f.type === "Event" && f.event.type !== "ParticipantJoined")).toEqual([]);
    expect((await s.ok({ type: "ListGoals" })).items).toEqual([]);
    s.close();
  });

  it("a read that emits an event fails with INTERNAL instead of losing it silently", async () => {
    const s = await dmSocket();
    vi.spyOn(HANDLERS.ListGoals, "handle").mockImplementation(async (ctx: HandlerContext) => {
      ctx.tx.emit({ type: "GoalDeleted", goal_id: "nothing" });
      return { items: [], next_cursor: null };
    });
    expect(await s.request({ type: "ListGoals" })).toMatchObject({ status: "error", code: "INTERNAL" });
    s.close();
  });

  it("in a Batch, even a non-atomic one, an undeclared event fails the whole request", async () => {
    const s = await dmSocket();
    createGoalEmitsUndeclared();
    const r = await s.request({
      type: "Batch",
      atomic: false,
      operations: [
        { type: "CreateLocation", data: { name: "Harbor" } },
        { type: "CreateGoal", data: { name: "Never" } },
      ],
    });
    expect(r).toMatchObject({ status: "error", code: "INTERNAL" });
    expect((await s.ok({ type: "ListLocations" })).items).toEqual([]);
    expect((await s.ok({ type: "ListGoals" })).items).toEqual([]);
    s.close();
  });

  it("a Batch may emit the events declared for any of its operations", async () => {
    const s = await dmSocket();
    const from = s.frames.length;
    await s.ok({
      type: "Batch",
      operations: [
        { type: "CreateLocation", data: { name: "Harbor" } },
        { type: "CreateGoal", data: { name: "Escape" } },
      ],
    });
    await s.waitFor((f) => f.type === "Event" && f.event.type === "GoalCreated", 5000, from);
    expect(s.events("LocationCreated")).toHaveLength(1);
    s.close();
  });

  it("operations declared with the batch frame cap get it; the others the default cap", async () => {
    const s = await dmSocket();
    const pad = "x".repeat(70 * 1024);
    const large = OPERATION_TYPES.filter((t) => OPERATIONS[t].frame === "batch");
    expect(large.sort()).toEqual(["Batch", "ImportWorld"]);
    // Read (then refused for the unknown key), not refused for its size.
    for (const type of large) expect((await s.request({ type, pad })).code, type).toBe("VALIDATION_ERROR");
    expect((await s.request({ type: "CreateGoal", data: { name: "x" }, pad })).code).toBe("PAYLOAD_TOO_LARGE");
    s.close();
  });
});
