/**
 * Client SDK over a flaky network (the TCP proxy of scripts/tcp-proxy.ts between client and
 * engine): writes in flight during a cut are applied exactly once, events missed while away are
 * delivered once and in order, requests made while offline go out after the rejoin, and a
 * stalled link is detected by the heartbeat.
 */
import { describe, expect, it } from "vitest";
import type { AnyEvent, EventMeta, StateChange, WrldbldrClient } from "../../src/client";
import { createSession, joinSession, sleep, useTestEngine, testClient, waitFor } from "./client-helpers";

const { t, track } = useTestEngine();

interface Seen {
  seq: number;
  event: AnyEvent;
  meta: EventMeta;
}

function record(client: WrldbldrClient): Seen[] {
  const seen: Seen[] = [];
  client.onAnyEvent((event, seq, _cause, meta) => seen.push({ seq, event, meta }));
  return seen;
}

const createdNames = (seen: Seen[]) => seen.flatMap((s) => (s.event.type === "CharacterCreated" ? [s.event.character.name] : []));

function expectStrictlyIncreasing(seen: Seen[]): void {
  for (let i = 1; i < seen.length; i++) expect(seen[i]!.seq).toBeGreaterThan(seen[i - 1]!.seq);
}

/** A DM may see every event: its seqs have no gaps at all. */
function expectContiguous(seen: Seen[]): void {
  for (let i = 1; i < seen.length; i++) expect(seen[i]!.seq).toBe(seen[i - 1]!.seq + 1);
}

async function sessionSeq(client: WrldbldrClient): Promise<number> {
  return (await client.request({ type: "GetSessionSnapshot" })).session.seq;
}

describe("cut while 50 writes are in flight", () => {
  it("applies every write exactly once and delivers every event once, in order", async () => {
    const grant = await createSession(t, "Cut world");
    const observer = track(testClient(t, grant));
    const seen = record(observer);
    const writer = track(testClient(t, grant));
    await Promise.all([observer.whenOpen(), writer.whenOpen()]);

    const names = Array.from({ length: 50 }, (_, i) => `Hero ${i}`);
    let answered = 0;
    // Answers are held while requests still reach the server: the writes commit, then the cut
    // loses their answers, so their re-sends must get the recorded results (and apply nothing twice).
    t.proxy.pause("down");
    const replies = names.map((name) =>
      writer.requestWithMeta({ type: "CreateCharacter", data: { kind: "npc", name } }, { timeout: 60_000 }).then((r) => (answered++, r)),
    );
    await sleep(500);
    t.proxy.cutAll();
    t.proxy.resume();
    await waitFor("more answers after the first cut", () => answered >= 25);
    t.proxy.cutAll();
    const results = await Promise.all(replies);

    expect(results.map((r) => r.data.name)).toEqual(names);
    // Some writes committed while their answer was lost: the re-send got the recorded result.
    expect(results.some((r) => r.replayed)).toBe(true);
    const list = await writer.request({ type: "ListCharacters", limit: 200 });
    expect(list.items.map((c) => c.name).sort()).toEqual([...names].sort());
    expect(new Set(list.items.map((c) => c.id)).size).toBe(50);

    const finalSeq = await sessionSeq(writer);
    await waitFor("the observer to catch up", () => (observer.lastSeq ?? 0) >= finalSeq);
    expect(createdNames(seen).sort()).toEqual([...names].sort());
    expectContiguous(seen);
  });
});

describe("cut and blocked while events are broadcast", () => {
  it("replays what each observer missed, once and in order", async () => {
    const grant = await createSession(t, "Broadcast world");
    const player = await joinSession(t, grant.invite_code, "Pat");
    const dmObserver = track(testClient(t, grant));
    const playerObserver = track(testClient(t, player));
    const dmSeen = record(dmObserver);
    const playerSeen = record(playerObserver);
    await Promise.all([dmObserver.whenOpen(), playerObserver.whenOpen()]);
    // The writer does not go through the proxy: only the observers lose their connection.
    const writer = track(testClient(t, grant, { direct: true }));

    const names = Array.from({ length: 40 }, (_, i) => `Villager ${i}`);
    for (const [i, name] of names.entries()) {
      await writer.request({ type: "CreateCharacter", data: { kind: "npc", name } });
      if (i === 5) t.proxy.cutAll();
      if (i === 12) {
        // Offline for a while: reconnects fail, events keep being committed.
        t.proxy.setBlocked(true);
        t.proxy.cutAll();
      }
      if (i === 24) t.proxy.setBlocked(false);
      if (i === 32) t.proxy.cutAll();
    }

    const finalSeq = await sessionSeq(writer);
    await waitFor("the DM observer to catch up", () => (dmObserver.lastSeq ?? 0) >= finalSeq);
    await waitFor("the player observer to see every villager", () => createdNames(playerSeen).length >= names.length);

    for (const seen of [dmSeen, playerSeen]) {
      expect(createdNames(seen)).toEqual(names);
      expectStrictlyIncreasing(seen);
      expect(seen.some((s) => s.meta.replayed)).toBe(true);
    }
    expectContiguous(dmSeen);
  });
});

describe("offline requests", () => {
  it("queues requests made while disconnected and sends them, once, after the rejoin", async () => {
    const grant = await createSession(t, "Offline world");
    const client = track(testClient(t, grant));
    await client.whenOpen();
    t.proxy.setBlocked(true);
    t.proxy.cutAll();
    await waitFor("the client to notice", () => client.state === "connecting");

    const names = ["Offline 1", "Offline 2", "Offline 3", "Offline 4", "Offline 5"];
    const replies = names.map((name) => client.request({ type: "CreateCharacter", data: { kind: "npc", name } }, { timeout: 60_000 }));
    expect(client.pendingRequestIds).toHaveLength(5);
    expect(client.state).not.toBe("open");

    t.proxy.setBlocked(false);
    const created = await Promise.all(replies);
    expect(created.map((c) => c.name)).toEqual(names);
    const list = await client.request({ type: "ListCharacters", limit: 200 });
    expect(list.items.map((c) => c.name).sort()).toEqual(names);
  });
});

describe("heartbeat", () => {
  it("detects a stalled connection, reconnects, and the stalled write is applied once", async () => {
    const grant = await createSession(t, "Stalled world");
    const client = track(testClient(t, grant, { heartbeat: { intervalMs: 300, timeoutMs: 300 }, connectTimeoutMs: 1_000 }));
    const states: StateChange[] = [];
    client.onStateChange((s) => states.push(s));
    await client.whenOpen();

    t.proxy.pause();
    const reply = client.request({ type: "CreateCharacter", data: { kind: "npc", name: "Stalled" } }, { timeout: 60_000 });
    await waitFor("the heartbeat to give up", () => states.some((s) => s.reason === "heartbeat_timeout"));
    t.proxy.resume();

    const created = await reply;
    expect(created.name).toBe("Stalled");
    await client.whenOpen();
    const list = await client.request({ type: "ListCharacters", limit: 200 });
    expect(list.items.filter((c) => c.name === "Stalled")).toHaveLength(1);
  });
});
