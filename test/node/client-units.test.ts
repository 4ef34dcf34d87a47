/**
 * Client SDK pieces without a server: backoff, token expiry, the outbox's sending rules and chunk
 * assembly, the heartbeat.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoffDelay, connect, MemoryOutboxStore, tokenExpiry, WrldbldrError } from "../../src/client";
import { ScriptedSocket } from "./scripted-socket";
import { startHeartbeat } from "../../src/client/heartbeat";
import { Outbox, type Link, type RequestResult } from "../../src/client/outbox";

describe("backoffDelay (full jitter)", () => {
  const opts = { baseDelayMs: 100, maxDelayMs: 1000 };

  it("stays within [0, min(max, base·2^attempt))", () => {
    expect(backoffDelay(0, opts, () => 0)).toBe(0);
    expect(backoffDelay(0, opts, () => 0.999)).toBe(99);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(400);
    expect(backoffDelay(4, opts, () => 0.999)).toBe(999);
    expect(backoffDelay(50, opts, () => 0.999)).toBe(999);
  });
});

describe("tokenExpiry", () => {
  it("reads exp from the claims of a token, in ms", () => {
    const claims = Buffer.from(JSON.stringify({ sid: "s", pid: "p", role: "dm", iat: 1, exp: 1_700_000_000 })).toString("base64url");
    expect(tokenExpiry(`${claims}.signature`)).toBe(1_700_000_000_000);
  });

  it("returns undefined for what is not a token", () => {
    expect(tokenExpiry("not-a-token")).toBeUndefined();
    expect(tokenExpiry("")).toBeUndefined();
  });
});

describe("Outbox", () => {
  let sent: string[];
  let link: Link | undefined;
  let restored: { id: string; result: RequestResult }[];
  let store: MemoryOutboxStore;
  let outbox: Outbox;

  const requestIds = () => sent.map((f) => (JSON.parse(f) as { request_id: string }).request_id);
  const connectLink = (generation: number) => (link = { generation, send: (text) => sent.push(text) });

  beforeEach(() => {
    sent = [];
    link = undefined;
    restored = [];
    store = new MemoryOutboxStore();
    outbox = new Outbox({
      store,
      link: () => link,
      onRestored: (entry, result) => restored.push({ id: entry.request_id, result }),
      report: (err) => {
        throw err;
      },
    });
  });

  afterEach(() => vi.useRealTimers());

  function add(id: string, timeoutMs = 0) {
    const outcome: { value?: unknown; error?: WrldbldrError } = {};
    outbox.add(
      id,
      { type: "CreateCharacter", data: { kind: "npc", name: id } },
      {
        persist: true,
        timeoutMs,
        caller: { resolve: (r) => (outcome.value = r), reject: (e) => (outcome.error = e) },
      },
    );
    return outcome;
  }

  it("sends once per socket, in order, and again with the same ids on a new socket", () => {
    add("a");
    add("b");
    expect(sent).toEqual([]);
    connectLink(1);
    outbox.flush();
    outbox.flush();
    expect(requestIds()).toEqual(["a", "b"]);
    add("c");
    expect(requestIds()).toEqual(["a", "b", "c"]);
    outbox.disconnected();
    connectLink(2);
    outbox.flush();
    expect(requestIds()).toEqual(["a", "b", "c", "a", "b", "c"]);
  });

  it("answers the caller once and forgets the request and its stored copy", async () => {
    connectLink(1);
    const outcome = add("a");
    expect(await store.load()).toHaveLength(1);
    outbox.onResponse({ type: "Response", request_id: "a", result: { status: "success", data: { ok: 1 }, replayed: true } });
    outbox.onResponse({ type: "Response", request_id: "a", result: { status: "error", code: "INTERNAL", message: "late duplicate", retryable: true } });
    expect(outcome).toEqual({ value: { ok: true, data: { ok: 1 }, replayed: true } });
    expect(outbox.ids()).toEqual([]);
    await vi.waitFor(async () => expect(await store.load()).toEqual([]));
  });

  it("joins chunks, and fails the request when one is missing", () => {
    connectLink(1);
    const whole = add("whole");
    const broken = add("broken");
    const json = JSON.stringify({ status: "success", data: { text: "abcdef" } });
    outbox.onChunk("whole", 1, json.slice(10));
    outbox.onChunk("whole", 0, json.slice(0, 10));
    outbox.onResponse({ type: "Response", request_id: "whole", chunks: 2 });
    expect(whole.value).toEqual({ ok: true, data: { text: "abcdef" }, replayed: false });

    outbox.onChunk("broken", 1, json.slice(10));
    outbox.onResponse({ type: "Response", request_id: "broken", chunks: 2 });
    expect(broken.error?.code).toBe("INTERNAL");
    expect(broken.error?.local).toBe(true);
  });

  it("re-sends a RATE_LIMITED request after retry_after_ms instead of failing it", () => {
    vi.useFakeTimers();
    connectLink(1);
    const outcome = add("a");
    outbox.onResponse({
      type: "Response",
      request_id: "a",
      result: { status: "error", code: "RATE_LIMITED", message: "slow down", retryable: true, details: { retry_after_ms: 300 } },
    });
    expect(outcome).toEqual({});
    vi.advanceTimersByTime(299);
    expect(requestIds()).toEqual(["a"]);
    vi.advanceTimersByTime(1);
    expect(requestIds()).toEqual(["a", "a"]);
  });

  it("fails a RATE_LIMITED request at once when its wait outlasts the request's timeout (a dialogue budget: up to a minute)", () => {
    vi.useFakeTimers();
    connectLink(1);
    const outcome = add("a", 15_000);
    outbox.onResponse({
      type: "Response",
      request_id: "a",
      result: {
        status: "error",
        code: "RATE_LIMITED",
        message: "too many NPC answers",
        retryable: true,
        details: { reason: "dialogue_budget", retry_after_ms: 40_000 },
      },
    });
    expect(outcome.error?.code).toBe("RATE_LIMITED");
    expect(outcome.error?.details).toMatchObject({ reason: "dialogue_budget", retry_after_ms: 40_000 });
    vi.advanceTimersByTime(60_000);
    expect(requestIds()).toEqual(["a"]); // not sent again
    expect(outbox.ids()).toEqual([]);
  });

  it("times out with outcome not_sent or unknown, and forgets the request", () => {
    vi.useFakeTimers();
    const never = add("never", 100);
    vi.advanceTimersByTime(100);
    expect(never.error?.code).toBe("TIMEOUT");
    expect(never.error?.details.outcome).toBe("not_sent");

    connectLink(1);
    const lost = add("lost", 100);
    vi.advanceTimersByTime(100);
    expect(lost.error?.details.outcome).toBe("unknown");
    expect(outbox.ids()).toEqual([]);
  });

  it("restores stored requests ahead of new ones and reports their answers", async () => {
    await store.put({ request_id: "old-2", payload: { type: "Ping" }, created_at: 2, order: 0 });
    await store.put({ request_id: "old-1", payload: { type: "Ping" }, created_at: 1, order: 0 });
    add("new");
    await outbox.restore();
    expect(outbox.ids()).toEqual(["old-1", "old-2", "new"]);
    connectLink(1);
    outbox.flush();
    outbox.onResponse({ type: "Response", request_id: "old-1", result: { status: "success", data: 1, replayed: true } });
    expect(restored).toEqual([{ id: "old-1", result: { ok: true, data: 1, replayed: true } }]);
  });

  it("failAll rejects everything; keepStored leaves the store alone", async () => {
    const a = add("a");
    outbox.failAll(WrldbldrError.local("UNAVAILABLE", "closed"), true);
    expect(a.error?.code).toBe("UNAVAILABLE");
    expect((await store.load()).map((e) => e.request_id)).toEqual(["a"]);
  });
});

describe("heartbeat", () => {
  afterEach(() => vi.useRealTimers());

  it("pings after silence and declares the link dead after more silence, unless frames arrive", () => {
    vi.useFakeTimers();
    let pings = 0;
    let dead = 0;
    const hb = startHeartbeat(
      { intervalMs: 1000, timeoutMs: 500 },
      () => pings++,
      () => dead++,
    );
    vi.advanceTimersByTime(1000);
    expect(pings).toBe(1);
    hb.alive(); // the pong
    vi.advanceTimersByTime(1000);
    expect(pings).toBe(2);
    expect(dead).toBe(0);
    vi.advanceTimersByTime(500);
    expect(dead).toBe(1);
    vi.advanceTimersByTime(5000);
    expect(dead).toBe(1);
    hb.stop();
  });
});

const participant = { id: "p", version: 1, created_at: 0, updated_at: 0, name: "P", role: "dm", online: true, kicked: false } as const;
const joined = (seq: number, resume: "replayed" | "snapshot") => ({
  type: "SessionJoined",
  session_id: "s",
  world_id: "w",
  participant,
  participants: [participant],
  seq,
  resume,
  replayed_events: 0,
});
const event = (seq: number, id: string) => ({
  type: "Event",
  seq,
  event: { type: "CharacterDeleted", character_id: id },
  cause: { request_id: null, participant_id: null },
});

describe("client against a scripted server", () => {
  beforeEach(() => {
    ScriptedSocket.sockets = [];
  });

  const newest = () => ScriptedSocket.sockets.at(-1)!;

  it("sends the token as a subprotocol, never delivers a seq twice or out of order, and resumes from the last seq", async () => {
    const client = connect({ url: "ws://engine/sessions/s/ws", token: "tok", WebSocket: ScriptedSocket, reconnect: { baseDelayMs: 1, maxDelayMs: 1 } });
    const seen: number[] = [];
    client.onAnyEvent((_e, seq) => seen.push(seq));
    await vi.waitFor(() => expect(ScriptedSocket.sockets).toHaveLength(1));
    expect(newest().protocols).toEqual(["wrldbldr.v1", "bearer.tok"]);
    newest().open();
    expect(newest().joinFrames()).toEqual([{ type: "JoinSession" }]);
    newest().receive(joined(4, "snapshot"));
    for (const seq of [5, 6, 6, 4, 7]) newest().receive(event(seq, `c${seq}`));
    expect(seen).toEqual([5, 6, 7]);

    newest().serverClose(1006);
    await vi.waitFor(() => expect(ScriptedSocket.sockets).toHaveLength(2));
    newest().open();
    expect(newest().joinFrames()).toEqual([{ type: "JoinSession", last_seq: 7 }]);
    newest().receive(event(7, "again"));
    newest().receive(event(8, "c8"));
    newest().receive(joined(8, "replayed"));
    expect(seen).toEqual([5, 6, 7, 8]);
    expect(client.state).toBe("open");
    client.close();
  });

  it("passes Stream frames to onStream", async () => {
    const client = connect({ url: "ws://engine/sessions/s/ws", token: "tok", WebSocket: ScriptedSocket });
    const deltas: string[] = [];
    client.onStream((f) => deltas.push(`${f.stream_id}#${f.index}:${f.delta}${f.done ? "." : ""}`));
    await vi.waitFor(() => expect(ScriptedSocket.sockets).toHaveLength(1));
    newest().open();
    newest().receive({ type: "Stream", stream_id: "npc-1", index: 0, delta: "Hel", done: false });
    newest().receive({ type: "Stream", stream_id: "npc-1", index: 1, delta: "lo", done: true });
    expect(deltas).toEqual(["npc-1#0:Hel", "npc-1#1:lo."]);
    client.close();
  });

  it("closes for good on 4003 and does not dial again", async () => {
    const client = connect({ url: "ws://engine/sessions/s/ws", token: "tok", WebSocket: ScriptedSocket, reconnect: { baseDelayMs: 1, maxDelayMs: 1 } });
    await vi.waitFor(() => expect(ScriptedSocket.sockets).toHaveLength(1));
    newest().open();
    newest().receive(joined(0, "snapshot"));
    newest().serverClose(4003, "kicked by the DM");
    expect(client.state).toBe("closed");
    expect(client.stateInfo.reason).toBe("kicked");
    await new Promise((r) => setTimeout(r, 50));
    expect(ScriptedSocket.sockets).toHaveLength(1);
  });
});
