import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sessionStub } from "../../src/worker/auth";
import { TestSocket, createSession, joinSession, settle, table } from "./helpers";

const countRows = async (sql: string, ...params: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;

/** Seqs strictly increasing, no duplicates. */
function assertOrdered(seqs: number[]) {
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
}

describe("hidden things stay hidden", () => {
  it("dm_notes never reach a player or spectator: responses, live events, replay, conflict details", async () => {
    const t = await table();
    const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Mira", dm_notes: "secret plan" } });
    expect(npc.dm_notes).toBe("secret plan");
    await t.player.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated");
    await t.spectator.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated");
    const seen = await t.player.ok({ type: "GetCharacter", character_id: npc.id });
    expect(seen.name).toBe("Mira");
    expect("dm_notes" in seen).toBe(false);
    const snapshot = await t.player.request({ type: "GetSessionSnapshot" });
    expect(JSON.stringify(snapshot)).not.toContain("secret plan");
    // A CONFLICT carries the current entity: redacted too.
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Mine" } });
    await t.dm.ok({ type: "UpdateCharacter", character_id: pc.id, data: { dm_notes: "cursed bloodline" } });
    const conflict = await t.player.request({ type: "UpdateCharacter", character_id: pc.id, data: { name: "X" }, expected_version: 1 });
    expect(conflict).toMatchObject({ code: "CONFLICT", details: { current: { version: 2, name: "Mine" } } });
    expect(JSON.stringify(t.player.frames)).not.toContain("cursed bloodline");
    // Live, for both non-DM roles; the DM does see it.
    for (const s of [t.player, t.spectator]) expect(JSON.stringify(s.frames)).not.toContain("secret plan");
    expect(JSON.stringify(t.dm.events("CharacterCreated"))).toContain("secret plan");
    // On replay.
    const again = await TestSocket.open(t.playerGrant);
    await again.join(0);
    expect(again.events("CharacterCreated").map((e) => e.event.character.name)).toEqual(["Mira", "Mine"]);
    expect(JSON.stringify(again.frames)).not.toContain("secret plan");
    again.close();
    t.close();
  });

  it("hidden NPCs do not exist for players; revealing or hiding one is a creation or deletion for them", async () => {
    const t = await table();
    const hooded = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Hooded Stranger", hidden: true } });
    await t.dm.ok({ type: "AddInventoryItem", character_id: hooded.id, data: { name: "Dagger" } });
    await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Barkeep" } });
    await t.player.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated" && f.event.character.name === "Barkeep");
    await settle();
    expect(JSON.stringify(t.player.frames)).not.toContain("Hooded Stranger");
    expect(t.player.events("InventoryItemAdded")).toHaveLength(0);
    expect((await t.player.request({ type: "GetCharacter", character_id: hooded.id })).code).toBe("NOT_FOUND");
    expect((await t.player.request({ type: "ListInventory", character_id: hooded.id })).code).toBe("NOT_FOUND");
    const list = await t.player.ok({ type: "ListCharacters" });
    expect(list.items.map((c: any) => c.name)).toEqual(["Barkeep"]);
    expect((await t.dm.ok({ type: "ListCharacters" })).items).toHaveLength(2);

    await t.dm.ok({ type: "UpdateCharacter", character_id: hooded.id, data: { hidden: false } });
    const created = await t.player.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated" && f.event.character.id === hooded.id);
    expect(created.event.character.hidden).toBe(false);
    const dmSaw = await t.dm.waitFor((f) => f.type === "Event" && f.event.type === "CharacterUpdated" && f.event.character.id === hooded.id);
    expect(dmSaw.event.character.hidden).toBe(false);
    expect(t.dm.events("CharacterCreated").filter((e) => e.event.character.id === hooded.id)).toHaveLength(1); // only the original

    await t.dm.ok({ type: "UpdateCharacter", character_id: hooded.id, data: { hidden: true } });
    await t.player.waitFor((f) => f.type === "Event" && f.event.type === "CharacterDeleted" && f.event.character_id === hooded.id);
    await t.dm.waitFor((f) => f.type === "Event" && f.event.type === "CharacterUpdated" && f.event.character.hidden === true);
    await settle();
    expect(t.dm.events("CharacterDeleted")).toHaveLength(0);
    t.close();
  });
});

describe("broadcast", () => {
  it("reaches every joined socket of the session, the sender's other sockets included, and none of another session", async () => {
    const t = await table();
    const dm2 = await TestSocket.open(t.dmGrant);
    await dm2.join();
    const other = await createSession("Elsewhere");
    const stranger = await TestSocket.open(other);
    await stranger.join();
    const notJoined = await TestSocket.open(t.playerGrant);
    const c = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Herald" } }, "herald-1");
    for (const s of [t.dm, dm2, t.player, t.spectator]) {
      const e = await s.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated");
      expect(e.event.character.id).toBe(c.id);
      expect(e.cause).toEqual({ request_id: "herald-1", participant_id: t.dmGrant.participant_id });
    }
    await settle();
    expect(stranger.events("CharacterCreated")).toHaveLength(0);
    expect(notJoined.events()).toHaveLength(0); // events flow only after JoinSession
    // A response precedes the events it caused on the sender's socket.
    const respIdx = t.dm.frames.findIndex((f) => f.type === "Response" && f.request_id === "herald-1");
    const evIdx = t.dm.frames.findIndex((f) => f.type === "Event" && f.event.type === "CharacterCreated");
    expect(respIdx).toBeLessThan(evIdx);
    [dm2, stranger, notJoined].forEach((s) => s.close());
    t.close();
  });

  it("announces participants joining and leaving", async () => {
    const t = await table();
    const before = t.dm.events("ParticipantLeft").length;
    t.spectator.close();
    const left = await t.dm.waitFor((f) => f.type === "Event" && f.event.type === "ParticipantLeft");
    expect(left.event.participant_id).toBe(t.spectatorGrant.participant_id);
    expect(t.dm.events("ParticipantLeft").length).toBe(before + 1);
    const roster = await t.dm.ok({ type: "ListParticipants" });
    const online = Object.fromEntries(roster.items.map((p: any) => [p.role, p.online]));
    expect(online).toEqual({ dm: true, player: true, spectator: false });
    t.close();
  });
});

describe("exactly once", () => {
  it("a repeated request_id returns the recorded response with replayed:true and changes nothing", async () => {
    const t = await table();
    const first = await t.dm.request({ type: "CreateCharacter", data: { kind: "npc", name: "Once" } }, "dup-1");
    const again = await t.dm.request({ type: "CreateCharacter", data: { kind: "npc", name: "Once" } }, "dup-1");
    expect(first.replayed).toBeUndefined();
    expect(again).toEqual({ ...first, replayed: true });
    // Also from another socket of the same participant (a reconnect), and even with another payload.
    const dm2 = await TestSocket.open(t.dmGrant);
    const third = await dm2.request({ type: "CreateCharacter", data: { kind: "npc", name: "Different" } }, "dup-1");
    expect(third.data.id).toBe(first.data.id);
    await settle();
    expect(await countRows("SELECT COUNT(*) AS n FROM characters WHERE session_id = ?", t.dmGrant.session_id)).toBe(1);
    expect(t.player.events("CharacterCreated")).toHaveLength(1);
    // Request ids are per participant: the player's "dup-1" is its own.
    const mine = await t.player.request({ type: "CreateCharacter", data: { kind: "pc", name: "Mine" } }, "dup-1");
    expect(mine.status).toBe("success");
    expect(mine.replayed).toBeUndefined();
    dm2.close();
    t.close();
  });

  it("copies of one request sent at once are applied once", async () => {
    const t = await table();
    const from = t.dm.frames.length;
    for (let i = 0; i < 5; i++)
      t.dm.send({ type: "Request", request_id: "burst-dup", payload: { type: "CreateCharacter", data: { kind: "npc", name: "Burst" } } });
    await t.dm.waitFor(() => t.dm.frames.slice(from).filter((f) => f.type === "Response").length === 5, 5000, from);
    const responses = t.dm.frames.slice(from).filter((f) => f.type === "Response");
    expect(new Set(responses.map((r) => r.result.data.id)).size).toBe(1);
    expect(responses.filter((r) => r.result.replayed).length).toBe(4);
    expect(await countRows("SELECT COUNT(*) AS n FROM characters WHERE session_id = ?", t.dmGrant.session_id)).toBe(1);
    t.close();
  });
});

describe("exactly once when the handler itself would now refuse", () => {
  it("a re-sent write whose re-run fails on its own earlier change still gets the recorded answer", async () => {
    const t = await table();
    const pc = await t.player.request({ type: "CreateCharacter", data: { kind: "pc", name: "Only One" } }, "pc-1");
    // Run again, CreateCharacter would be CONFLICT (one PC per player); the recorded answer wins.
    const again = await t.player.request({ type: "CreateCharacter", data: { kind: "pc", name: "Only One" } }, "pc-1");
    expect(again).toEqual({ ...pc, replayed: true });
    const up = await t.player.request({ type: "UpdateCharacter", character_id: pc.data.id, data: { name: "Renamed" }, expected_version: 1 }, "up-1");
    // Run again, expected_version 1 would be CONFLICT (the character is at 2 now).
    const upAgain = await t.player.request({ type: "UpdateCharacter", character_id: pc.data.id, data: { name: "Renamed" }, expected_version: 1 }, "up-1");
    expect(upAgain).toEqual({ ...up, replayed: true });
    expect((await t.player.ok({ type: "GetCharacter", character_id: pc.data.id })).version).toBe(2);
    await settle();
    expect(t.dm.events("CharacterUpdated")).toHaveLength(1);
    t.close();
  });
});

describe("reads served from the object's memory", () => {
  it("never serve a stale or leaked entity: every commit clears them", async () => {
    const t = await table();
    const c = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Cached", dm_notes: "dm only" } });
    for (let i = 0; i < 3; i++) expect((await t.player.ok({ type: "GetCharacter", character_id: c.id })).version).toBe(1);
    await t.dm.ok({ type: "SetCharacterStat", character_id: c.id, stat: "hp", value: 3 });
    const seen = await t.player.ok({ type: "GetCharacter", character_id: c.id });
    expect(seen).toMatchObject({ version: 2, stats: { hp: 3 } });
    expect("dm_notes" in seen).toBe(false);
    expect((await t.dm.ok({ type: "GetCharacter", character_id: c.id })).dm_notes).toBe("dm only");
    await t.dm.ok({ type: "UpdateCharacter", character_id: c.id, data: { hidden: true } });
    expect((await t.player.request({ type: "GetCharacter", character_id: c.id })).code).toBe("NOT_FOUND");
    // A failed write changes nothing and the next read still sees the committed state.
    expect((await t.dm.request({ type: "UpdateCharacter", character_id: c.id, data: { name: "X" }, expected_version: 1 })).code).toBe("CONFLICT");
    expect((await t.dm.ok({ type: "GetCharacter", character_id: c.id })).version).toBe(3);
    // Handlers get copies: a cached entity cannot be changed by what a handler does with it.
    await t.dm.ok({ type: "SetCharacterStat", character_id: c.id, stat: "hp", value: 4 });
    await t.dm.ok({ type: "GetCharacter", character_id: c.id });
    await t.dm.ok({ type: "SetCharacterStat", character_id: c.id, stat: "mp", value: 1 });
    expect((await t.dm.ok({ type: "GetCharacter", character_id: c.id })).stats).toEqual({ hp: 4, mp: 1 });
    t.close();
  });
});

describe("resume", () => {
  it("after a drop, JoinSession{last_seq} replays exactly the missed events in order, then live", async () => {
    const t = await table();
    await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Before" } });
    await t.player.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated");
    const lastSeen = t.player.lastSeq();
    t.player.close(); // the drop
    for (let i = 0; i < 5; i++) await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: `Missed ${i}` } });
    const back = await TestSocket.open(t.playerGrant);
    const joined = await back.join(lastSeen);
    expect(joined.resume).toBe("replayed");
    const replayed = back.events();
    expect(joined.replayed_events).toBe(replayed.length);
    const names = replayed.filter((e) => e.event.type === "CharacterCreated").map((e) => e.event.character.name);
    expect(names).toEqual(["Missed 0", "Missed 1", "Missed 2", "Missed 3", "Missed 4"]);
    const seqs = replayed.map((e) => e.seq);
    assertOrdered(seqs);
    expect(seqs[0]).toBeGreaterThan(lastSeen);
    expect(joined.seq).toBe(seqs[seqs.length - 1]);
    // The DM saw every seq; the player's replay is that list after lastSeen (all were public).
    const dmSeqs = t.dm
      .events()
      .map((e) => e.seq)
      .filter((s) => s > lastSeen && s <= joined.seq);
    expect(seqs).toEqual(dmSeqs);
    // Then live, continuing without a gap.
    await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Live" } });
    const live = await back.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated" && f.event.character.name === "Live");
    expect(live.seq).toBeGreaterThan(joined.seq);
    assertOrdered(back.events().map((e) => e.seq));
    back.close();
    t.close();
  });

  it("replay skips what the participant may not see", async () => {
    const t = await table();
    const start = t.player.lastSeq();
    t.player.close();
    await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Secret", hidden: true } });
    await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Public" } });
    const back = await TestSocket.open(t.playerGrant);
    await back.join(start);
    const created = back.events("CharacterCreated").map((e) => e.event.character.name);
    expect(created).toEqual(["Public"]);
    back.close();
    t.close();
  });

  it("falls back to snapshot when last_seq is older than the retained log, or ahead of it", async () => {
    const t = await table();
    for (let i = 0; i < 6; i++) await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: `N${i}` } });
    const seq = (await t.dm.ok({ type: "GetSessionSnapshot" })).session.seq;
    const stub = sessionStub(env, t.dmGrant.session_id);
    const trimmed = await stub.trimEventLog({ session_id: t.dmGrant.session_id, min_events: 2, min_age_ms: 0 });
    expect(trimmed).toEqual({ ok: true, value: { oldest_seq: seq - 1 } });
    const s1 = await TestSocket.open(t.playerGrant);
    expect((await s1.join(seq - 3)).resume).toBe("snapshot");
    expect(s1.events()).toHaveLength(0);
    const s2 = await TestSocket.open(t.playerGrant);
    const ok = await s2.join(seq - 2);
    expect(ok.resume).toBe("replayed");
    expect(s2.events().map((e) => e.seq)).toEqual([seq - 1, seq]);
    const s3 = await TestSocket.open(t.playerGrant);
    expect((await s3.join(seq + 1000)).resume).toBe("snapshot");
    [s1, s2, s3].forEach((s) => s.close());
    t.close();
  });

  it("state, seq and the request log survive eviction of the session object", async () => {
    const t = await table();
    const c = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Survivor", stats: { hp: 7 } } }, "evict-1");
    await t.player.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated");
    const lastSeen = t.player.lastSeq();
    await t.evict();
    const dm = await TestSocket.open(t.dmGrant);
    const player = await TestSocket.open(t.playerGrant);
    const joined = await player.join(lastSeen);
    expect(joined.resume).toBe("replayed");
    await dm.join(lastSeen);
    expect((await dm.ok({ type: "GetCharacter", character_id: c.id })).stats).toEqual({ hp: 7 });
    expect((await dm.request({ type: "CreateCharacter", data: { kind: "npc", name: "Survivor" } }, "evict-1")).replayed).toBe(true);
    await dm.ok({ type: "UpdateCharacter", character_id: c.id, data: { name: "Survivor II" } });
    const ev = await player.waitFor((f) => f.type === "Event" && f.event.type === "CharacterUpdated");
    const seqs = player.events().map((e) => e.seq);
    assertOrdered(seqs);
    expect(ev.seq).toBeGreaterThan(lastSeen);
    expect(await countRows("SELECT COUNT(DISTINCT seq) AS n FROM events WHERE session_id = ?", t.dmGrant.session_id)).toBe(
      await countRows("SELECT MAX(seq) AS n FROM events WHERE session_id = ?", t.dmGrant.session_id),
    );
    dm.close();
    player.close();
    await Promise.all([dm.waitClosed(), player.waitClosed()]);
    await settle(300);
  });
});

describe("atomic batches and optimistic concurrency", () => {
  it("an atomic batch commits all or nothing and names the failing index", async () => {
    const t = await table();
    const before = await countRows("SELECT COUNT(*) AS n FROM events WHERE session_id = ?", t.dmGrant.session_id);
    const r = await t.dm.request({
      type: "Batch",
      operations: [
        { type: "CreateCharacter", data: { kind: "npc", name: "A" } },
        { type: "CreateCharacter", data: { kind: "npc", name: "B" } },
        { type: "GetCharacter", character_id: "does-not-exist" },
      ],
    });
    expect(r).toMatchObject({ status: "error", code: "NOT_FOUND", details: { index: 2, error: { code: "NOT_FOUND" } } });
    expect(r.message).toContain("operation 2");
    await settle();
    expect(await countRows("SELECT COUNT(*) AS n FROM characters WHERE session_id = ?", t.dmGrant.session_id)).toBe(0);
    expect(await countRows("SELECT COUNT(*) AS n FROM events WHERE session_id = ?", t.dmGrant.session_id)).toBe(before);
    expect(t.player.events("CharacterCreated")).toHaveLength(0);
    const bad = await t.dm.request({ type: "Batch", operations: [{ type: "Ping" }, { type: "CreateCharacter", data: { kind: "dragon", name: "C" } }] });
    expect(bad.details.index).toBe(1);
    expect(bad.details.error.details.issues[0].path).toMatch(/^payload\.operations\.1\.data\.kind/);

    const ok = await t.dm.ok({
      type: "Batch",
      operations: [
        { type: "CreateCharacter", data: { kind: "npc", name: "A" } },
        { type: "CreateCharacter", data: { kind: "npc", name: "B" } },
      ],
    });
    expect(ok.results.map((c: any) => c.name)).toEqual(["A", "B"]);
    const evs = [
      await t.player.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated" && f.event.character.name === "A"),
      await t.player.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated" && f.event.character.name === "B"),
    ];
    expect(evs[1]!.seq).toBe(evs[0]!.seq + 1);
    expect(evs[0]!.cause.request_id).toBe(evs[1]!.cause.request_id);
    t.close();
  });

  it("a non-atomic batch commits what succeeded and reports each failure", async () => {
    const t = await table();
    const r = await t.dm.ok({
      type: "Batch",
      atomic: false,
      operations: [
        { type: "CreateCharacter", data: { kind: "npc", name: "Kept" } },
        { type: "DeleteCharacter", character_id: "missing" },
      ],
    });
    expect(r.results[0]).toMatchObject({ status: "success", data: { name: "Kept" } });
    expect(r.results[1]).toMatchObject({ status: "error", code: "NOT_FOUND" });
    expect(await countRows("SELECT COUNT(*) AS n FROM characters WHERE session_id = ?", t.dmGrant.session_id)).toBe(1);
    t.close();
  });

  it("a stale expected_version is CONFLICT with the current entity; concurrent updates cannot both win", async () => {
    const t = await table();
    const c = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "V", dm_notes: "dm eyes only" } });
    const v2 = await t.dm.ok({ type: "UpdateCharacter", character_id: c.id, data: { name: "V2" }, expected_version: 1 });
    expect(v2.version).toBe(2);
    const stale = await t.dm.request({ type: "UpdateCharacter", character_id: c.id, data: { name: "V3" }, expected_version: 1 });
    expect(stale).toMatchObject({ status: "error", code: "CONFLICT", details: { current: { version: 2, name: "V2" } } });
    const from = t.dm.frames.length;
    for (let i = 0; i < 10; i++) {
      t.dm.send({
        type: "Request",
        request_id: `race-${i}`,
        payload: { type: "UpdateCharacter", character_id: c.id, data: { name: `R${i}` }, expected_version: 2 },
      });
    }
    await t.dm.waitFor(() => t.dm.frames.slice(from).filter((f) => f.type === "Response").length === 10, 5000, from);
    const results = t.dm.frames
      .slice(from)
      .filter((f) => f.type === "Response")
      .map((f) => f.result.status);
    expect(results.filter((s) => s === "success")).toHaveLength(1);
    expect(results.filter((s) => s === "error")).toHaveLength(9);
    expect((await t.dm.ok({ type: "GetCharacter", character_id: c.id })).version).toBe(3);
    t.close();
  });
});

describe("limits", () => {
  it("refuses connections beyond the per-session cap with 503 UNAVAILABLE, keeping the last place for DMs", async () => {
    const g = await createSession();
    const p1 = await joinSession(g.invite_code, "P1");
    const p2 = await joinSession(g.invite_code, "P2", "spectator");
    const sockets: TestSocket[] = [];
    // The test cap is 12 with 1 place kept for DMs: 11 for everyone else (at most 8 per participant).
    for (let i = 0; i < 6; i++) sockets.push(await TestSocket.open(p1));
    for (let i = 0; i < 5; i++) sockets.push(await TestSocket.open(p2));
    const refused = await TestSocket.upgrade(g.session_id, p1.token);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: "UNAVAILABLE", retryable: true, details: { reason: "session_full", limit: 11 } });
    sockets.push(await TestSocket.open(g)); // the DM still gets in
    const full = await TestSocket.upgrade(g.session_id, g.token);
    expect(full.status).toBe(503);
    expect(await full.json()).toMatchObject({ code: "UNAVAILABLE", details: { reason: "session_full", limit: 12 } });
    sockets.forEach((s) => s.close());
  });
});
