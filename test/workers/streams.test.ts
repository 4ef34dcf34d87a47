import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ALL, DMS, only } from "../../src/engine/tx";
import type { GameSession } from "../../src/session/GameSession";
import { Outbound } from "../../src/session/outbound";
import { sessionStub } from "../../src/worker/auth";
import { TestSocket, settle, table } from "./helpers";

const streamFrames = (s: TestSocket, id: string) => s.frames.filter((f) => f.type === "Stream" && f.stream_id === id).map((f) => [f.index, f.delta, f.done]);

/** Opens a stream inside the session object, as a handler or job would, and sends what `use` says. */
function inSession(sessionId: string, use: (session: GameSession) => void) {
  return runInDurableObject(sessionStub(env, sessionId), (instance: GameSession) => use(instance));
}

describe("server streams", () => {
  it("reach exactly their audience, in index order, and always end with done", async () => {
    const t = await table();
    const notJoined = await TestSocket.open(t.playerGrant);
    await inSession(t.dmGrant.session_id, (session) => {
      const toDms = session.openStream(DMS, "dm-only");
      toDms.send("se");
      toDms.send("cret");
      toDms.end();
      toDms.send("after the end"); // ignored
      toDms.end("twice"); // ignored
      const toPlayer = session.openStream(only(t.playerGrant.participant_id), "to-player");
      toPlayer.send("");
      toPlayer.end("all at once");
      const toAll = session.openStream(ALL, "to-all");
      toAll.send("hi");
      toAll.end();
      expect(toAll.ended).toBe(true);
    });
    await t.spectator.waitFor((f) => f.type === "Stream" && f.stream_id === "to-all" && f.done);
    await t.player.waitFor((f) => f.type === "Stream" && f.stream_id === "to-all" && f.done);
    await settle();
    expect(streamFrames(t.dm, "dm-only")).toEqual([
      [0, "se", false],
      [1, "cret", false],
      [2, "", true],
    ]);
    expect(streamFrames(t.player, "dm-only")).toEqual([]);
    expect(streamFrames(t.spectator, "dm-only")).toEqual([]);
    expect(streamFrames(t.player, "to-player")).toEqual([[0, "all at once", true]]); // an empty delta sends nothing
    expect(streamFrames(t.dm, "to-player")).toEqual([[0, "all at once", true]]); // DMs see what participants get
    expect(streamFrames(t.spectator, "to-player")).toEqual([]);
    for (const s of [t.dm, t.player, t.spectator])
      expect(streamFrames(s, "to-all")).toEqual([
        [0, "hi", false],
        [1, "", true],
      ]);
    expect(notJoined.frames).toEqual([]); // only joined sockets receive streams
    // Live only: a client joining later gets none of it replayed.
    const late = await TestSocket.open(t.dmGrant);
    await late.join(0);
    expect(late.frames.filter((f) => f.type === "Stream")).toEqual([]);
    [late, notJoined].forEach((s) => s.close());
    t.close();
  });

  it("a socket over its outbound budget is closed with 4009 after an Error frame; others keep receiving", async () => {
    const t = await table();
    const big = "x".repeat(1000);
    await inSession(t.dmGrant.session_id, (session) => {
      // A small budget for this object only (the default is 16 MiB at once, 1 MiB/s after).
      Object.assign((session as unknown as { connections: { delivery: { outbound: { budget: object } } } }).connections.delivery.outbound.budget, {
        burstBytes: 5_000,
        bytesPerSecond: 0,
      });
      const s = session.openStream(only(t.playerGrant.participant_id), "flood");
      for (let i = 0; i < 10; i++) s.send(big);
      s.end();
    });
    const closed = await t.player.waitClosed();
    expect(closed.code).toBe(4009);
    expect(t.player.frames.find((f) => f.type === "Error")).toMatchObject({ code: "UNAVAILABLE", retryable: true, details: { reason: "outbound_backlog" } });
    const received = streamFrames(t.player, "flood");
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(5);
    expect(received.map(([index]) => index)).toEqual(received.map((_, i) => i)); // a prefix, nothing skipped
    // The DM (same stream through "some": DMs included) went over too; the spectator was not in it.
    expect(t.spectator.closed).toBeNull();
    expect((await t.spectator.ok({ type: "Ping" })).pong).toBe(true);
    t.close();
  });
});

describe("Outbound budget", () => {
  const fakeSocket = () => {
    const sent: string[] = [];
    return { sent, ws: { send: (text: string) => void sent.push(text) } as unknown as WebSocket };
  };

  it("lets a burst through, refills at its rate, and reports an overflow once", () => {
    const over: WebSocket[] = [];
    const out = new Outbound({ burstBytes: 100, bytesPerSecond: 1000 }, (ws) => over.push(ws));
    const a = fakeSocket();
    const b = fakeSocket();
    const sixty = "y".repeat(60);
    expect(out.send(a.ws, sixty, 0)).toBe(true);
    expect(out.send(b.ws, sixty, 0)).toBe(true);
    expect(out.send(b.ws, sixty, 50)).toBe(true); // 40 left + 50 refilled ≥ 60
    expect(out.send(a.ws, sixty, 0)).toBe(false); // 40 left < 60
    expect(out.send(a.ws, "z", 10_000)).toBe(false); // once over, nothing more
    expect(over).toEqual([a.ws]);
    expect(a.sent).toEqual([sixty]);
    expect(b.sent).toEqual([sixty, sixty]);
    out.sendFinal(a.ws, "last words");
    expect(a.sent.at(-1)).toBe("last words");
  });
});
