/**
 * Client SDK and auth: refused tokens stop reconnecting with a clear state, kicks are final, and
 * a browser (which cannot see the upgrade's HTTP status) still stops once a refresh is refused.
 */
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { refreshViaHttp, type RefreshContext, type StateChange, type WrldbldrClient } from "../../src/client";
import { createSession, failure, joinSession, sleep, useTestEngine, testClient, waitFor } from "./client-helpers";

const { t, track } = useTestEngine();

function states(client: WrldbldrClient): StateChange[] {
  const seen: StateChange[] = [];
  client.onStateChange((s) => seen.push(s));
  return seen;
}

/** After `closed`, no more dials reach the proxy. */
async function expectNoMoreDials(): Promise<void> {
  const before = t.proxy.acceptedConnections;
  await sleep(600); // several backoff periods of the test clients (≤ 400 ms)
  expect(t.proxy.acceptedConnections).toBe(before);
}

/** Like a browser's WebSocket: a refused upgrade is only a close 1006, without its HTTP status. */
class BrowserLikeWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    // Error events are swallowed: browsers expose no reason for a failed upgrade.
    this.on("error", () => undefined);
    Object.defineProperty(this, "onerror", { get: () => null, set: () => undefined });
  }
}

describe("refused tokens", () => {
  it("stops at once on a token the server refuses (HTTP 401), without a refresh callback", async () => {
    const grant = await createSession(t);
    const client = track(testClient(t, { ...grant, token: "not-a-valid-token" }));
    const seen = states(client);
    const pending = client.request({ type: "Ping" });
    const err = await failure(pending);
    expect(err.code).toBe("UNAUTHENTICATED");
    expect(client.state).toBe("closed");
    expect(client.stateInfo.reason).toBe("unauthenticated");
    expect(seen.filter((s) => s.state === "closed")).toHaveLength(1);
    await expectNoMoreDials();
    // Later requests fail at once with the same reason.
    expect((await failure(client.request({ type: "Ping" }))).code).toBe("UNAUTHENTICATED");
  });

  it("asks refreshToken once, and stops when the refresh is refused", async () => {
    const grant = await createSession(t);
    const asked: RefreshContext[] = [];
    const refresh = refreshViaHttp({ url: grant.ws_url });
    const client = track(testClient(t, { ...grant, token: "not-a-valid-token" }, { refreshToken: (ctx) => (asked.push(ctx), refresh(ctx)) }));
    await waitFor("the client to close", () => client.state === "closed");
    expect(client.stateInfo.reason).toBe("unauthenticated");
    expect(asked.map((a) => a.reason)).toEqual(["unauthenticated"]);
    await expectNoMoreDials();
  });

  it("stops with reason forbidden on a token of another session (HTTP 403)", async () => {
    const mine = await createSession(t, "Mine");
    const theirs = await createSession(t, "Theirs");
    const client = track(testClient(t, { ...mine, token: theirs.token }));
    await waitFor("the client to close", () => client.state === "closed");
    expect(client.stateInfo.reason).toBe("forbidden");
    expect(client.stateInfo.error?.code).toBe("FORBIDDEN");
    await expectNoMoreDials();
  });
});

describe("kicked", () => {
  it("closes for good with reason kicked (close 4003), rejecting what was pending", async () => {
    const dmGrant = await createSession(t);
    const playerGrant = await joinSession(t, dmGrant.invite_code, "Troublemaker");
    const dm = track(testClient(t, dmGrant));
    const player = track(testClient(t, playerGrant, { refreshToken: refreshViaHttp({ url: playerGrant.ws_url }) }));
    const seen = states(player);
    await Promise.all([dm.whenOpen(), player.whenOpen()]);

    const inFlight = failure(player.request({ type: "Ping", delay_ms: 5_000 }));
    await dm.request({ type: "KickParticipant", participant_id: playerGrant.participant_id });
    await waitFor("the player to be closed", () => player.state === "closed");
    expect(player.stateInfo.reason).toBe("kicked");
    expect((await inFlight).details.reason).toBe("kicked");
    expect(player.pendingRequestIds).toEqual([]);
    expect(player.stateInfo.error?.details.reason).toBe("kicked");
    // Straight from open to closed: no reconnect attempt in between.
    expect(seen.map((s) => s.state)).toEqual(["open", "closed"]);
    expect((await failure(player.request({ type: "Ping" }))).code).toBe("FORBIDDEN");
    await expectNoMoreDials();
  });

  it("in a browser, where a refused upgrade looks like a network failure, stops once the refresh is refused", async () => {
    const dmGrant = await createSession(t);
    const playerGrant = await joinSession(t, dmGrant.invite_code, "Banned");
    const dm = track(testClient(t, dmGrant));
    await dm.request({ type: "KickParticipant", participant_id: playerGrant.participant_id });

    const asked: RefreshContext[] = [];
    const refresh = refreshViaHttp({ url: playerGrant.ws_url });
    const player = track(
      testClient(t, playerGrant, {
        WebSocket: BrowserLikeWebSocket,
        refreshAfterFailedDials: 3,
        refreshToken: (ctx) => (asked.push(ctx), refresh(ctx)),
      }),
    );
    await waitFor("the player to be closed", () => player.state === "closed");
    expect(player.stateInfo.reason).toBe("unauthenticated");
    expect(asked.map((a) => a.reason)).toEqual(["open_failures"]);
    await expectNoMoreDials();
  });
});
