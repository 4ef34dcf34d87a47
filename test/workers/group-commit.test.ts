import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sessionStub } from "../../src/worker/auth";
import type { GameSession } from "../../src/session/GameSession";
import type { CommitPart, EventLog, StoredEvent } from "../../src/session/eventlog";
import { settle, table, type TestSocket } from "./helpers";

const count = async (sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;

/**
 * Watches the session object's group commits: records each batch's member count, can hold the
 * next commit until released (so that writes arriving meanwhile queue up for one group), and can
 * make chosen commits fail as a D1 batch would.
 */
async function watchCommits(sessionId: string, opts: { fail?: (parts: readonly CommitPart[]) => boolean } = {}) {
  const sizes: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  await runInDurableObject(sessionStub(env, sessionId), (instance: GameSession) => {
    const log = (instance as unknown as { state: { log: EventLog } }).state.log;
    const commitGroup = log.commitGroup.bind(log);
    let held = false;
    log.commitGroup = async (parts: readonly CommitPart[]): Promise<StoredEvent[][]> => {
      sizes.push(parts.length);
      if (!held) {
        held = true;
        await gate;
      }
      if (opts.fail?.(parts)) throw new Error("D1_ERROR: simulated failure of this batch");
      return commitGroup(parts);
    };
  });
  return { sizes, release };
}

const npc = (name: string) => ({ type: "CreateCharacter", data: { kind: "npc", name } });
const pc = (name: string) => ({ type: "CreateCharacter", data: { kind: "pc", name } });

/**
 * Sends requests one after the other with a pause between them (frames of different sockets may
 * otherwise arrive in any order); resolves with their answers, in that order.
 */
async function inOrder(requests: (() => Promise<any>)[]): Promise<any[]> {
  const answers: Promise<any>[] = [];
  for (const r of requests) {
    answers.push(r());
    await settle(15);
  }
  return Promise.all(answers);
}

/** Index of the Response to `id` among a socket's frames. */
const responseAt = (s: TestSocket, id: string) => s.frames.findIndex((f) => f.type === "Response" && f.request_id === id);

describe("group commit", () => {
  it("writes arriving while a commit is in flight commit together in one batch, in order, each seeing the ones before it", async () => {
    const t = await table();
    const commits = await watchCommits(t.dmGrant.session_id);
    const held = t.dm.request(npc("First"), "g-first"); // its commit is held: the next writes queue
    await settle(50);
    const answers = inOrder([
      () => t.player.request(pc("Hero"), "g-pc1"),
      () => t.dm.request(npc("Second"), "g-npc2"),
      () => t.player.request(pc("Again"), "g-pc2"), // one PC per player: sees Hero, pending in the same group
      () => t.dm.request(npc("Third"), "g-npc3"),
    ]);
    await settle(100);
    commits.release();
    const [first, [hero, second, again, third]] = await Promise.all([held, answers]);
    expect(commits.sizes).toEqual([1, 3]); // four handled in one group; the refused one commits nothing
    expect([first, hero, second, third].map((r) => r.status)).toEqual(["success", "success", "success", "success"]);
    expect(again).toMatchObject({ status: "error", code: "CONFLICT", details: { character_id: hero.data.id } });
    expect(await count("SELECT COUNT(*) AS n FROM characters WHERE session_id = ? AND kind = 'pc'", t.dmGrant.session_id)).toBe(1);

    // Events: consecutive seqs in arrival order; every socket gets them once, in that order.
    await t.spectator.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated" && f.event.character.name === "Third");
    const created = t.spectator.events("CharacterCreated");
    expect(created.map((e) => e.event.character.name)).toEqual(["First", "Hero", "Second", "Third"]);
    const seqs = created.map((e) => e.seq);
    expect(seqs).toEqual([seqs[0], seqs[0] + 1, seqs[0] + 2, seqs[0] + 3]);
    expect(created.map((e) => e.cause.request_id)).toEqual(["g-first", "g-pc1", "g-npc2", "g-npc3"]);
    // Responses in commit order, each before its own event and after the events of earlier members.
    await t.dm.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated" && f.event.character.name === "Third");
    const eventAt = (name: string) =>
      t.dm.frames.findIndex((f) => f.type === "Event" && f.event.type === "CharacterCreated" && f.event.character.name === name);
    expect(responseAt(t.dm, "g-npc2")).toBeGreaterThan(eventAt("Hero"));
    expect(responseAt(t.dm, "g-npc2")).toBeLessThan(eventAt("Second"));
    expect(responseAt(t.dm, "g-npc3")).toBeGreaterThan(eventAt("Second"));
    // The session's seq and the request log agree with what was answered.
    expect(await count("SELECT seq AS n FROM sessions WHERE id = ?", t.dmGrant.session_id)).toBe(seqs[3]);
    expect(await count("SELECT COUNT(*) AS n FROM request_log WHERE session_id = ? AND request_id LIKE 'g-%'", t.dmGrant.session_id)).toBe(4);
    t.close();
  });

  it("a re-sent request id inside a group: the batch fails, each member is retried alone, the copy gets its recorded answer", async () => {
    const t = await table();
    const original = await t.dm.ok(npc("Once"), "dup-1");
    const commits = await watchCommits(t.dmGrant.session_id);
    const held = t.dm.request(npc("Holder"), "d-hold");
    await settle(50);
    const answers = inOrder([
      () => t.player.request(pc("Hero"), "d-pc"),
      () => t.dm.request(npc("Once"), "dup-1"),
      () => t.dm.request(npc("After"), "d-after"),
    ]);
    await settle(100);
    commits.release();
    const [, [hero, copy, after]] = await Promise.all([held, answers]);
    // The group of three failed on the request log's primary key; then three batches of one.
    expect(commits.sizes).toEqual([1, 3, 1, 1, 1]);
    expect(hero.status).toBe("success");
    expect(after.status).toBe("success");
    expect(copy).toEqual({ status: "success", data: original, replayed: true });
    expect(await count("SELECT COUNT(*) AS n FROM characters WHERE session_id = ? AND name = 'Once'", t.dmGrant.session_id)).toBe(1);
    await t.spectator.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated" && f.event.character.name === "After");
    expect(t.spectator.events("CharacterCreated").map((e) => e.event.character.name)).toEqual(["Once", "Holder", "Hero", "After"]);
    const seqs = t.spectator.events().map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    t.close();
  });

  it("a member that breaks the group's batch fails alone: the others are retried and commit", async () => {
    const t = await table();
    const bad = (parts: readonly CommitPart[]) => parts.some((p) => p.record?.request_id === "b-bad");
    const commits = await watchCommits(t.dmGrant.session_id, { fail: bad });
    const held = t.dm.request(npc("Holder"), "b-hold");
    await settle(50);
    const answers = inOrder([
      () => t.dm.request(npc("Before"), "b-before"),
      () => t.dm.request(npc("Bad"), "b-bad"),
      () => t.player.request(pc("Hero"), "b-pc"),
    ]);
    await settle(100);
    commits.release();
    const [, [before, broken, hero]] = await Promise.all([held, answers]);
    expect(commits.sizes).toEqual([1, 3, 1, 1, 1]);
    expect(before.status).toBe("success");
    expect(hero.status).toBe("success");
    expect(broken).toMatchObject({ status: "error", code: "INTERNAL" });
    expect(await count("SELECT COUNT(*) AS n FROM characters WHERE session_id = ? AND name = 'Bad'", t.dmGrant.session_id)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM request_log WHERE session_id = ? AND request_id = 'b-bad'", t.dmGrant.session_id)).toBe(0);
    await t.spectator.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated" && f.event.character.name === "Hero");
    const created = t.spectator.events("CharacterCreated");
    expect(created.map((e) => e.event.character.name)).toEqual(["Holder", "Before", "Hero"]);
    expect(created[2]!.seq).toBe(created[1]!.seq + 1); // no seq was used up by the failed member
    t.close();
  });

  it("a member's redaction sees what earlier members of its group hid", async () => {
    const t = await table();
    const stranger = await t.dm.ok(npc("Stranger"));
    const commits = await watchCommits(t.dmGrant.session_id);
    const held = t.dm.request(npc("Holder"));
    await settle(50);
    const answers = inOrder([
      () => t.dm.request({ type: "UpdateCharacter", character_id: stranger.id, data: { hidden: true } }),
      () => t.dm.request({ type: "CreateStoryEvent", data: { summary: "The stranger left", character_ids: [stranger.id] } }),
    ]);
    await settle(100);
    commits.release();
    const [, [hidden, story]] = await Promise.all([held, answers]);
    expect(commits.sizes).toEqual([1, 2]);
    expect(hidden.status).toBe("success");
    expect(story.data.character_ids).toEqual([stranger.id]);
    const seen = await t.player.waitFor((f) => f.type === "Event" && f.event.type === "StoryEventCreated");
    expect(seen.event.story_event.character_ids).toEqual([]);
    const dmSaw = await t.dm.waitFor((f) => f.type === "Event" && f.event.type === "StoryEventCreated");
    expect(dmSaw.event.story_event.character_ids).toEqual([stranger.id]);
    t.close();
  });

  it("a write whose commit changes the object's memory ends its group: the next one reads the new state", async () => {
    const t = await table();
    const commits = await watchCommits(t.dmGrant.session_id);
    const held = t.dm.request(npc("Holder"));
    await settle(50);
    const settings = (data: Record<string, unknown>) => ({ type: "UpdateSessionSettings", data });
    const answers = inOrder([
      () => t.dm.request(settings({ dialogue_approval: false })),
      () => t.dm.request(settings({ staging_timeout_seconds: 45 })), // built from the settings the first one left
      () => t.dm.request(npc("After")),
    ]);
    await settle(100);
    commits.release();
    const [, [, second, after]] = await Promise.all([held, answers]);
    expect(commits.sizes).toEqual([1, 1, 1, 1]); // each settings change ends its group
    expect(second.data).toMatchObject({ dialogue_approval: false, staging_timeout_seconds: 45 });
    expect(after.status).toBe("success");
    const row = await env.DB.prepare("SELECT settings FROM sessions WHERE id = ?").bind(t.dmGrant.session_id).first<{ settings: string }>();
    expect(JSON.parse(row!.settings)).toMatchObject({ dialogue_approval: false, staging_timeout_seconds: 45 });
    t.close();
  });
});

describe("fan-out", () => {
  it("finds each socket's attachment again on the next broadcast: getWebSockets returns the same objects", async () => {
    const t = await table();
    await t.dm.ok(npc("Warm")); // one broadcast: every socket's attachment is now known
    await runInDurableObject(sessionStub(env, t.dmGrant.session_id), (_instance: GameSession, state) => {
      const first = state.getWebSockets();
      const again = state.getWebSockets();
      expect(first.length).toBe(3);
      expect(first.every((ws, i) => ws === again[i])).toBe(true);
    });
    t.close();
  });
});
