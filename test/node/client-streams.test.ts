/** The SDK's stream iterator: `client.stream(id)` against a scripted server, and its rules on a bare source. */
import { describe, expect, it, vi } from "vitest";
import { connect, streamDeltas, WrldbldrError, type StreamSource } from "../../src/client";
import { ScriptedSocket } from "./scripted-socket";
import type { StateChange, StreamFrame } from "../../src/client/types";

/** A source the test drives directly. */
function scriptedSource() {
  const frames = new Set<(f: StreamFrame) => void>();
  const states = new Set<(s: StateChange) => void>();
  const source: StreamSource = {
    onStream: (h) => (frames.add(h), () => frames.delete(h)),
    onStateChange: (h) => (states.add(h), () => states.delete(h)),
  };
  return {
    source,
    frame: (stream_id: string, index: number, delta: string, done = false) => frames.forEach((h) => h({ type: "Stream", stream_id, index, delta, done })),
    state: (state: StateChange["state"], reason = "socket_closed") => states.forEach((h) => h({ state, reason, attempt: 1 })),
    listeners: () => frames.size + states.size,
  };
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const d of it) out.push(d);
  return out;
}

describe("streamDeltas", () => {
  it("yields one stream's deltas in index order, once each, and ends after done", async () => {
    const s = scriptedSource();
    const reading = collect(streamDeltas(s.source, "a"));
    s.frame("a", 1, "lo");
    s.frame("b", 0, "other stream");
    s.frame("a", 0, "Hel");
    s.frame("a", 0, "Hel"); // duplicate
    s.frame("a", 3, "!", true);
    s.frame("a", 2, "");
    s.frame("a", 4, "after done");
    expect(await reading).toEqual(["Hel", "lo", "!"]);
    expect(s.listeners()).toBe(0); // unsubscribed at the end
  });

  it("throws UNAVAILABLE stream_interrupted when the connection drops before done, after what had arrived", async () => {
    const s = scriptedSource();
    const it = streamDeltas(s.source, "a");
    s.frame("a", 0, "partial");
    s.state("connecting");
    expect(await it.next()).toEqual({ value: "partial", done: false });
    const err = await it.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrldbldrError);
    expect(err).toMatchObject({ code: "UNAVAILABLE", retryable: true, details: { reason: "stream_interrupted", stream_id: "a", received: 1 } });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(s.listeners()).toBe(0);
  });

  it("ends quietly when the reader stops (break, or its AbortSignal)", async () => {
    const s = scriptedSource();
    const first: string[] = [];
    const reading = (async () => {
      for await (const d of streamDeltas(s.source, "a")) {
        first.push(d);
        break;
      }
    })();
    s.frame("a", 0, "one");
    await reading;
    expect(first).toEqual(["one"]);
    const ctl = new AbortController();
    const aborted = collect(streamDeltas(s.source, "b", { signal: ctl.signal }));
    s.frame("b", 0, "x");
    ctl.abort();
    expect(await aborted).toEqual(["x"]);
    expect(s.listeners()).toBe(0);
  });
});

describe("client.stream", () => {
  it("reads a stream from the client's socket", async () => {
    ScriptedSocket.sockets = [];
    const client = connect({ url: "ws://engine/sessions/s/ws", token: "tok", WebSocket: ScriptedSocket, heartbeat: false });
    await vi.waitFor(() => expect(ScriptedSocket.sockets.length).toBeGreaterThan(0));
    const ws = ScriptedSocket.sockets.at(-1)!;
    ws.open();
    const participant = { id: "p", version: 1, created_at: 0, updated_at: 0, name: "P", role: "dm", online: true, kicked: false };
    ws.receive({
      type: "SessionJoined",
      session_id: "s",
      world_id: "w",
      participant,
      participants: [participant],
      seq: 0,
      resume: "snapshot",
      replayed_events: 0,
    });
    const reading = collect(client.stream("job-1"));
    ws.receive({ type: "Stream", stream_id: "job-1", index: 0, delta: "Well met", done: false });
    ws.receive({ type: "Stream", stream_id: "job-1", index: 1, delta: ", traveller.", done: true });
    expect(await reading).toEqual(["Well met", ", traveller."]);
    client.close();
  });
});
