/**
 * Client SDK outbox stores: the IndexedDB store (on fake-indexeddb) keeps requests across a
 * "page reload" (a new client on the same store), which re-sends them with their ids; the server
 * applies each once, even when one had already been applied before the reload.
 */
import { IDBFactory } from "fake-indexeddb";
import { describe, expect, it } from "vitest";
import { IndexedDBOutboxStore, MemoryOutboxStore, type OutboxEntry, type OutboxStore, type RestoredOutcome } from "../../src/client";
import { createSession, failure, useTestEngine, testClient, waitFor } from "./client-helpers";

const { t, track } = useTestEngine();

const entry = (request_id: string, created_at: number, order: number, name = request_id): OutboxEntry => ({
  request_id,
  payload: { type: "CreateCharacter", data: { kind: "npc", name } },
  created_at,
  order,
});

describe.each([
  ["memory", () => new MemoryOutboxStore()],
  ["IndexedDB", () => new IndexedDBOutboxStore({ indexedDB: new IDBFactory() })],
] as const)("%s store", (_name, makeStore: () => OutboxStore) => {
  it("puts, loads and deletes entries", async () => {
    const store = makeStore();
    await store.put(entry("a-1", 10, 0));
    await store.put(entry("a-2", 10, 1));
    await store.put(entry("a-2", 10, 1, "overwritten"));
    await store.delete("a-1");
    const loaded = await store.load();
    expect(loaded).toHaveLength(1);
    expect(loaded[0]!.payload).toEqual({ type: "CreateCharacter", data: { kind: "npc", name: "overwritten" } });
  });
});

describe("outbox across a reload", () => {
  it("re-sends stored writes with their ids after a reload, and each is applied once", async () => {
    const grant = await createSession(t, "Reload world");
    const indexedDB = new IDBFactory();
    const dbName = `outbox-${grant.participant_id}`;

    // First life: offline, three writes are made and stored, then the page goes away.
    t.proxy.setBlocked(true);
    const first = track(testClient(t, grant, { store: new IndexedDBOutboxStore({ indexedDB, dbName }) }));
    const names = ["Stored 1", "Stored 2", "Stored 3"];
    const lost = names.map((name) => failure(first.request({ type: "CreateCharacter", data: { kind: "npc", name } }, { timeout: 0 })));
    // Reads are not kept: they mean nothing to the next life.
    const lostRead = failure(first.request({ type: "ListCharacters" }, { timeout: 0 }));
    const firstStore = new IndexedDBOutboxStore({ indexedDB, dbName });
    await waitFor("the writes to be stored", () => first.pendingRequestIds.length === 4);
    await expect.poll(async () => (await firstStore.load()).length).toBe(3);
    const storedIds = first.pendingRequestIds.slice(0, 3);
    first.close({ keepOutbox: true });
    expect((await Promise.all(lost)).map((e) => e.code)).toEqual(["UNAVAILABLE", "UNAVAILABLE", "UNAVAILABLE"]);
    expect((await lostRead).code).toBe("UNAVAILABLE");
    t.proxy.setBlocked(false);

    // One of them had in fact reached the server before the reload (its answer was lost).
    const helper = track(testClient(t, grant));
    const early = await helper.requestWithMeta(
      { type: "CreateCharacter", data: { kind: "npc", name: "Stored 2" } },
      { requestId: storedIds[1]!, persist: false },
    );
    expect(early.replayed).toBe(false);

    // Second life: a new client on the same database re-sends the three with their ids.
    const outcomes = new Map<string, RestoredOutcome>();
    const second = track(testClient(t, grant, { store: new IndexedDBOutboxStore({ indexedDB, dbName }) }));
    second.onRestoredResult((requestId, _payload, outcome) => outcomes.set(requestId, outcome));
    await waitFor("the restored requests to be answered", () => outcomes.size === 3);
    expect([...outcomes.keys()].sort()).toEqual([...storedIds].sort());
    for (const id of storedIds) expect(outcomes.get(id)?.ok).toBe(true);
    const replayed = storedIds.map((id) => (outcomes.get(id) as { replayed: boolean }).replayed);
    expect(replayed).toEqual([false, true, false]);

    const list = await second.request({ type: "ListCharacters", limit: 200 });
    expect(list.items.map((c) => c.name).sort()).toEqual(names);
    await expect.poll(async () => (await firstStore.load()).length).toBe(0);
  });

  it("drops stored requests when the client is closed without keepOutbox", async () => {
    const grant = await createSession(t, "Closed world");
    const store = new MemoryOutboxStore();
    t.proxy.setBlocked(true);
    const client = track(testClient(t, grant, { store }));
    const lost = failure(client.request({ type: "CreateCharacter", data: { kind: "npc", name: "Never" } }, { timeout: 0 }));
    await expect.poll(async () => (await store.load()).length).toBe(1);
    client.close();
    expect((await lost).code).toBe("UNAVAILABLE");
    t.proxy.setBlocked(false);
    await expect.poll(async () => (await store.load()).length).toBe(0);
  });
});
