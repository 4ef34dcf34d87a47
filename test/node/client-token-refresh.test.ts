/**
 * Client SDK and token expiry, with tokens that live 5 seconds: refreshed when the server closes
 * with 4001, refreshed before dialing when already expired, and a clean stop without a callback.
 */
import { describe, expect, it } from "vitest";
import { refreshViaHttp, tokenExpiry, type AuthGrant, type RefreshContext, type StateChange } from "../../src/client";
import { createSession, failure, sleep, useTestEngine, testClient } from "./client-helpers";

const { t, track } = useTestEngine({ TOKEN_TTL_SECONDS: "5" });

/** Waits until the token's expiry has passed (bounded by its 5 s lifetime). */
async function untilExpired(token: string): Promise<void> {
  const exp = tokenExpiry(token);
  expect(exp).toBeDefined();
  await sleep(Math.max(0, exp! - Date.now()) + 100);
}

function refresher(grant: AuthGrant) {
  const asked: RefreshContext[] = [];
  const refresh = refreshViaHttp({ url: grant.ws_url });
  return { asked, refreshToken: (ctx: RefreshContext) => (asked.push(ctx), refresh(ctx)) };
}

describe("token expiry", () => {
  it("refreshes the token when the server closes with 4001, reconnects and re-sends the request", async () => {
    const grant = await createSession(t);
    const { asked, refreshToken } = refresher(grant);
    const client = track(testClient(t, grant, { refreshToken }));
    const states: StateChange[] = [];
    client.onStateChange((s) => states.push(s));
    await client.whenOpen();
    await untilExpired(grant.token);

    // The server checks expiry on every message: this request meets a 4001 close.
    const created = await client.request({ type: "CreateCharacter", data: { kind: "npc", name: "Late" } }, { timeout: 20_000 });
    expect(created.name).toBe("Late");
    expect(asked.map((a) => a.reason)).toEqual(["unauthenticated"]);
    expect(states.some((s) => s.reason === "refreshing_token" && s.closeCode === 4001)).toBe(true);
    expect(client.currentToken).not.toBe(grant.token);
    expect(tokenExpiry(client.currentToken)!).toBeGreaterThan(Date.now());
    const list = await client.request({ type: "ListCharacters" });
    expect(list.items.filter((c) => c.name === "Late")).toHaveLength(1);
  });

  it("refreshes an already expired token before dialing", async () => {
    const grant = await createSession(t);
    await untilExpired(grant.token);
    const { asked, refreshToken } = refresher(grant);
    const acceptedBefore = t.proxy.acceptedConnections;
    const client = track(testClient(t, grant, { refreshToken }));
    await client.whenOpen();
    expect(asked.map((a) => a.reason)).toEqual(["expired"]);
    // One dial, with the new token: the expired one was never sent.
    expect(t.proxy.acceptedConnections - acceptedBefore).toBe(1);
  });

  it("without refreshToken, stops as unauthenticated once the token has expired", async () => {
    const grant = await createSession(t);
    const client = track(testClient(t, grant));
    await client.whenOpen();
    await untilExpired(grant.token);
    const err = await failure(client.request({ type: "Ping" }));
    expect(err.code).toBe("UNAUTHENTICATED");
    expect(client.state).toBe("closed");
    expect(client.stateInfo.reason).toBe("unauthenticated");
  });
});
