/**
 * Client SDK: typed requests and errors, timeouts and asking again by id, chunked responses,
 * automatic retry of RATE_LIMITED, optimistic mutations, snapshot notification.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
// Through the package's exports map, as an application would import it.
import { connect, WrldbldrError, type AnyEvent } from "wrldbldr-edge/client";
import { createSession, failure, joinSession, recordingWebSocket, useTestEngine, testClient, waitFor } from "./client-helpers";

// Small outbound frames, so that an ordinary list arrives in chunks; a small rate limit.
const { t, track } = useTestEngine({ MAX_OUTBOUND_FRAME_BYTES: "4096", RATE_LIMIT_PER_SECOND: "20", RATE_LIMIT_BURST: "30" });
let grant: Awaited<ReturnType<typeof createSession>>;

beforeAll(async () => {
  grant = await createSession(t);
});

describe("typed requests", () => {
  it("returns the typed result of the payload's operation", async () => {
    const client = track(connect({ url: grant.ws_url, token: grant.token, WebSocket }));
    const created = await client.request({ type: "CreateCharacter", data: { kind: "npc", name: "Mira", description: "a smith" } });
    // `created` is typed as a Character: these reads compile only because the type follows the payload.
    expect(created.name).toBe("Mira");
    expect(created.kind).toBe("npc");
    expect(created.version).toBe(1);
    const fetched = await client.request({ type: "GetCharacter", character_id: created.id });
    expect(fetched.description).toBe("a smith");
    const pong = await client.request({ type: "Ping" });
    expect(pong.pong).toBe(true);
  });

  it("throws server errors as WrldbldrError with code, message, retryable and details", async () => {
    const client = track(testClient(t, grant));
    const e = await failure(client.request({ type: "GetCharacter", character_id: "missing" }));
    expect(e).toBeInstanceOf(WrldbldrError);
    expect(e.code).toBe("NOT_FOUND");
    expect(e.retryable).toBe(false);
    expect(e.local).toBe(false);
    expect(e.details).toEqual({ id: "missing" });
    expect(e.requestId).toMatch(new RegExp(`^${client.clientId}-`));

    const invalid = await failure(client.request({ type: "CreateCharacter", data: { kind: "npc", name: "" } }));
    expect(invalid.code).toBe("VALIDATION_ERROR");
    expect(invalid.message).toContain("data.name");
  });

  it("generates request ids unique per client, prefixed with a random client id", async () => {
    const a = track(testClient(t, grant));
    const b = track(testClient(t, grant));
    expect(a.clientId).not.toBe(b.clientId);
    const ids = new Set(Array.from({ length: 100 }, () => a.nextRequestId()));
    expect(ids.size).toBe(100);
  });
});

describe("timeouts", () => {
  it("rejects with a local TIMEOUT, and the same id asked again tells the outcome without re-applying", async () => {
    const client = track(testClient(t, grant));
    const name = "Slowpoke";
    // A Batch is a write (recorded by request id); 100 writes in one commit take far longer than
    // the 2 ms the client waits (a client-chosen server delay is refused inside a Batch).
    const payload = {
      type: "Batch" as const,
      operations: [
        { type: "CreateCharacter", data: { kind: "npc", name } },
        ...Array.from({ length: 99 }, (_, i) => ({ type: "CreateGoal", data: { name: `Slow goal ${i}` } })),
      ],
    };
    await client.request({ type: "Ping" }); // connected and joined: the next request is sent at once
    const err = await failure(client.request(payload, { timeout: 2 }));
    expect(err).toBeInstanceOf(WrldbldrError);
    expect(err.code).toBe("TIMEOUT");
    expect(err.local).toBe(true);
    expect(err.retryable).toBe(true);
    expect(err.details.outcome).toBe("unknown");
    expect(client.pendingRequestIds).not.toContain(err.requestId);

    // Asked again while the first copy still runs: the answer is the first copy's result.
    const again = await client.requestWithMeta(payload, { requestId: err.requestId, timeout: 10_000 });
    expect(again.request_id).toBe(err.requestId);
    expect((again.data.results[0] as { name: string }).name).toBe(name);
    // Asked once more after it completed: the server's recorded answer.
    const third = await client.requestWithMeta(payload, { requestId: err.requestId, timeout: 10_000 });
    expect(third.replayed).toBe(true);
    expect(third.data).toEqual(again.data);
    const list = await client.request({ type: "ListCharacters", limit: 200 });
    expect(list.items.filter((c) => c.name === name)).toHaveLength(1);
  });

  it("uses the client's default timeout when none is given", async () => {
    const client = track(testClient(t, grant, { requestTimeoutMs: 150 }));
    const err = await failure(client.request({ type: "Ping", delay_ms: 1000 }));
    expect(err.code).toBe("TIMEOUT");
  });
});

describe("large and throttled responses", () => {
  it("joins ResponseChunks into the result", async () => {
    const { frames, RecordingWebSocket } = recordingWebSocket();
    const client = track(testClient(t, grant, { WebSocket: RecordingWebSocket }));
    const long = "x".repeat(1500);
    for (let i = 0; i < 6; i++) await client.request({ type: "CreateCharacter", data: { kind: "npc", name: `Chunky ${i}`, description: long } });
    const list = await client.request({ type: "ListCharacters", limit: 200 });
    expect(list.items.filter((c) => c.name.startsWith("Chunky") && c.description === long)).toHaveLength(6);
    expect(frames.some((f) => f.includes('"type":"ResponseChunk"'))).toBe(true);
  });

  it("re-sends RATE_LIMITED requests after retry_after_ms, so every request succeeds", async () => {
    const { frames, RecordingWebSocket } = recordingWebSocket();
    const client = track(testClient(t, grant, { WebSocket: RecordingWebSocket }));
    await client.whenOpen();
    const results = await Promise.all(Array.from({ length: 45 }, () => client.request({ type: "Ping" }, { timeout: 20_000 })));
    expect(results.every((r) => r.pong)).toBe(true);
    expect(frames.some((f) => f.includes("RATE_LIMITED"))).toBe(true);
  });
});

describe("optimistic mutations", () => {
  it("applies at once, confirms, and marks its own broadcast so it is not applied twice", async () => {
    const client = track(testClient(t, grant));
    const local = new Map<string, string>(); // id → name, the app's view
    const appliedFromEvents: string[] = [];
    client.on("CharacterCreated", (e) => appliedFromEvents.push(e.character.name), { skipOptimistic: true });
    const seen: { name: string; optimistic: boolean }[] = [];
    client.on("CharacterCreated", (e, _seq, _cause, meta) => seen.push({ name: e.character.name, optimistic: meta.optimistic }));
    await client.whenOpen();

    let tempId = "";
    const created = await client.mutate(
      { type: "CreateCharacter", data: { kind: "npc", name: "Optimist" } },
      {
        apply: (requestId) => {
          tempId = `temp:${requestId}`;
          local.set(tempId, "Optimist");
        },
        confirm: (character) => {
          local.delete(tempId);
          local.set(character.id, character.name);
        },
        rollback: () => local.delete(tempId),
      },
    );
    expect(local.get(created.id)).toBe("Optimist");
    expect(local.has(tempId)).toBe(false);

    // Someone else's creation is applied from the event; ours is not applied a second time.
    const other = track(testClient(t, grant));
    await other.request({ type: "CreateCharacter", data: { kind: "npc", name: "Bystander" } });
    await waitFor("both events", () => seen.length >= 2);
    expect(seen).toEqual([
      { name: "Optimist", optimistic: true },
      { name: "Bystander", optimistic: false },
    ]);
    expect(appliedFromEvents).toEqual(["Bystander"]);
  });

  it("rolls back when the server refuses the write", async () => {
    const client = track(testClient(t, grant));
    const character = await client.request({ type: "CreateCharacter", data: { kind: "npc", name: "Versioned" } });
    await client.request({ type: "UpdateCharacter", character_id: character.id, data: { description: "v2" } });

    let shownDescription = character.description;
    let rolledBackWith: WrldbldrError | undefined;
    const err = await failure(
      client.mutate(
        { type: "UpdateCharacter", character_id: character.id, data: { description: "stale edit" }, expected_version: 1 },
        {
          apply: () => (shownDescription = "stale edit"),
          rollback: (e) => {
            rolledBackWith = e;
            shownDescription = character.description;
          },
        },
      ),
    );
    expect(err.code).toBe("CONFLICT");
    expect(rolledBackWith?.code).toBe("CONFLICT");
    expect(shownDescription).toBe(character.description);
    const now = await client.request({ type: "GetCharacter", character_id: character.id });
    expect(now.description).toBe("v2");
  });
});

describe("event handlers", () => {
  it("delivers typed events with seq and cause, and off() removes a handler", async () => {
    const client = track(testClient(t, grant));
    const typed: { name: string; seq: number; requestId: string | null }[] = [];
    const removed: string[] = [];
    const anyRemoved: string[] = [];
    const handler = (e: { character: { name: string } }) => removed.push(e.character.name);
    const anyHandler = (e: AnyEvent) => anyRemoved.push(e.type);
    client.on("CharacterCreated", (e, seq, cause) => typed.push({ name: e.character.name, seq, requestId: cause.request_id }));
    client.on("CharacterCreated", handler, { skipOptimistic: true });
    client.onAnyEvent(anyHandler);
    client.off("CharacterCreated", handler);
    client.offAnyEvent(anyHandler);
    await client.whenOpen();

    const { data, request_id } = await client.requestWithMeta({ type: "CreateCharacter", data: { kind: "npc", name: "Heard" } });
    await waitFor("the event", () => typed.length === 1);
    expect(typed[0]).toEqual({ name: "Heard", seq: client.lastSeq, requestId: request_id });
    expect(data.name).toBe("Heard");
    expect(removed).toEqual([]);
    expect(anyRemoved).toEqual([]);
  });
});

describe("resume notifications", () => {
  it("tells the app to reload when the server answers a resume with a snapshot, then follows the server's seq", async () => {
    const client = track(testClient(t, grant, { lastSeq: 1_000_000 }));
    const snapshots: { seq: number; previousSeq: number | undefined }[] = [];
    client.onSnapshot((s) => snapshots.push(s));
    const events: AnyEvent[] = [];
    client.onAnyEvent((e) => events.push(e));
    await client.whenOpen();
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]!.previousSeq).toBe(1_000_000);
    expect(client.lastSeq).toBe(snapshots[0]!.seq);
    expect(snapshots[0]!.seq).toBeLessThan(1_000_000);

    // Later events are not dropped as "older than the stale seq".
    const writer = track(testClient(t, grant));
    await writer.request({ type: "CreateCharacter", data: { kind: "npc", name: "After snapshot" } });
    await waitFor("the event after the snapshot", () => events.some((e) => e.type === "CharacterCreated" && e.character.name === "After snapshot"));
  });

  it("does not report a snapshot on a first join, and reports each join", async () => {
    const player = await joinSession(t, grant.invite_code, "Pat");
    const client = track(testClient(t, player));
    let snapshots = 0;
    const joins: string[] = [];
    client.onSnapshot(() => snapshots++);
    client.onJoined((j) => joins.push(j.resume));
    await client.whenOpen();
    expect(joins).toEqual(["snapshot"]);
    expect(snapshots).toBe(0);
    t.proxy.cutAll();
    await waitFor("the rejoin", () => joins.length === 2);
    expect(joins[1]).toBe("replayed");
    expect(snapshots).toBe(0);
  });
});
