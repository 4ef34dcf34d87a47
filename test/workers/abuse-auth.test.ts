import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../../src/worker/index";
import { clientKey } from "../../src/worker/rate-limit";
import { BASE, TestSocket, createSession, joinSession, post, settle, table } from "./helpers";

const ev =
  (type: string, pred: (e: any) => boolean = () => true) =>
  (f: any) =>
    f.type === "Event" && f.event.type === type && pred(f.event);

/** A POST to the Worker with this env (limits on) from this client address. */
function postAs(e: Record<string, unknown>, ip: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const req = new Request(`${BASE}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": ip, ...headers },
    body: JSON.stringify(body),
  });
  return app.fetch(req, e);
}
let ipCounter = 0;
const freshIp = () => `198.51.100.${++ipCounter}`;
/** The test suite runs with the limits off (one shared address); these tests turn them on. */
const limited = (vars: Record<string, string> = {}) => ({ ...env, AUTH_RATE_LIMITS: "on", ...vars });

describe("abuse: a player cannot teleport", () => {
  async function map() {
    const t = await table();
    const location = await t.dm.ok({ type: "CreateLocation", data: { name: "Keep" } });
    const region = (name: string) => t.dm.ok({ type: "CreateRegion", location_id: location.id, data: { name } });
    const [gate, hall, vault, far] = [await region("Gate"), await region("Hall"), await region("Vault"), await region("Far")];
    await t.dm.ok({ type: "CreateRegionConnection", data: { from_region_id: gate.id, to_region_id: hall.id } });
    await t.dm.ok({ type: "CreateRegionConnection", data: { from_region_id: hall.id, to_region_id: vault.id, is_locked: true } });
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Ada" } });
    await t.player.ok({ type: "MoveToRegion", character_id: pc.id, region_id: gate.id });
    return { t, pc, gate, hall, vault, far };
  }

  it("UpdateCharacter{region_id} is refused for players, whatever the region", async () => {
    const { t, pc, gate, hall, vault, far } = await map();
    for (const region_id of [vault.id, far.id, hall.id, "no-such-region", null]) {
      const r = await t.player.request({ type: "UpdateCharacter", character_id: pc.id, data: { region_id } });
      expect(r).toMatchObject({ status: "error", code: "FORBIDDEN", details: { field: "region_id" } });
    }
    expect(await t.player.ok({ type: "GetCharacter", character_id: pc.id })).toMatchObject({ region_id: gate.id, version: 2 });
    // Walking still works, and still obeys its rules.
    expect((await t.player.request({ type: "MoveToRegion", character_id: pc.id, region_id: far.id })).code).toBe("VALIDATION_ERROR");
    await t.player.ok({ type: "MoveToRegion", character_id: pc.id, region_id: hall.id });
    expect((await t.player.request({ type: "MoveToRegion", character_id: pc.id, region_id: vault.id })).code).toBe("CONFLICT");
    t.close();
  });

  it("a player cannot place its new PC with CreateCharacter{region_id} either", async () => {
    const { t, far } = await map();
    const other = await joinSession(t.dmGrant.invite_code, "Bea");
    const bea = await TestSocket.open(other);
    await bea.join();
    const r = await bea.request({ type: "CreateCharacter", data: { kind: "pc", name: "Bea", region_id: far.id } });
    expect(r).toMatchObject({ code: "FORBIDDEN", details: { field: "region_id" } });
    expect((await t.dm.ok({ type: "ListCharacters", kind: "pc" })).items).toHaveLength(1);
    bea.close();
    t.close();
  });

  it("every region_id a DM gives names a region of this world (NOT_FOUND naming the field)", async () => {
    const { t, pc, far } = await map();
    const unknown = await t.dm.request({ type: "UpdateCharacter", character_id: pc.id, data: { region_id: "no-such-region" } });
    expect(unknown).toMatchObject({ code: "NOT_FOUND", details: { id: "no-such-region", field: "data.region_id" } });
    const created = await t.dm.request({ type: "CreateCharacter", data: { kind: "npc", name: "Ghost", region_id: "no-such-region" } });
    expect(created).toMatchObject({ code: "NOT_FOUND", details: { field: "data.region_id" } });
    // Another session's region does not exist here either.
    const other = await createSession("Elsewhere");
    const od = await TestSocket.open(other);
    await od.join();
    const ol = await od.ok({ type: "CreateLocation", data: { name: "Other" } });
    const foreign = await od.ok({ type: "CreateRegion", location_id: ol.id, data: { name: "Foreign" } });
    expect((await t.dm.request({ type: "UpdateCharacter", character_id: pc.id, data: { region_id: foreign.id } })).code).toBe("NOT_FOUND");
    // A DM may place characters anywhere real.
    expect(await t.dm.ok({ type: "UpdateCharacter", character_id: pc.id, data: { region_id: far.id } })).toMatchObject({ region_id: far.id });
    od.close();
    t.close();
  });

  it("ImportWorld refuses a character whose region_id is not a region of the document", async () => {
    const { t } = await map();
    const doc = await t.dm.ok({ type: "ExportWorld" });
    const npc = { ...doc.characters[0], id: "npc-x", kind: "npc", owner_participant_id: null, name: "Lost", region_id: "no-such-region" };
    const bad = await t.dm.request({ type: "ImportWorld", document: { ...doc, characters: [...doc.characters, npc] }, mode: "replace" });
    expect(bad.code).toBe("VALIDATION_ERROR");
    expect(bad.message).toContain("characters.1.region_id");
    // A location id is not a region id.
    const asLocation = { ...npc, region_id: doc.locations[0].id };
    expect((await t.dm.request({ type: "ImportWorld", document: { ...doc, characters: [...doc.characters, asLocation] }, mode: "replace" })).code).toBe(
      "VALIDATION_ERROR",
    );
    // Story events are history: a region that is gone (or never was a region) becomes null.
    const entry = { ...doc.story_events[0], id: "story-x", region_id: doc.locations[0].id };
    await t.dm.ok({ type: "ImportWorld", document: { ...doc, story_events: [...doc.story_events, entry] }, mode: "replace" });
    const imported = (await t.dm.ok({ type: "ListStoryEvents" })).items.filter((e: any) => e.summary === entry.summary);
    const regionIds = (await t.dm.ok({ type: "ListRegions" })).items.map((r: any) => r.id);
    expect(imported).toHaveLength(2);
    expect(imported.filter((e: any) => e.region_id === null)).toHaveLength(1);
    expect(imported.filter((e: any) => regionIds.includes(e.region_id))).toHaveLength(1);
    t.close();
  });
});

describe("abuse: a kick is a ban; invite codes rotate", () => {
  it("RotateInviteCode: the old code stops working at once, DMs alone learn the new one", async () => {
    const t = await table();
    const old = t.dmGrant.invite_code;
    expect((await t.player.request({ type: "RotateInviteCode" })).code).toBe("FORBIDDEN");
    const { invite_code } = await t.dm.ok({ type: "RotateInviteCode" });
    expect(invite_code).toMatch(/^[A-Z2-9]{10}$/);
    expect(invite_code).not.toBe(old);
    expect((await t.dm.waitFor(ev("InviteCodeRotated"))).event).toEqual({ type: "InviteCodeRotated", invite_code, reason: "rotated" });
    const refused = await post("/auth/join", { invite_code: old, name: "Late" });
    expect(refused.status).toBe(404);
    expect((await post("/auth/join", { invite_code, name: "Welcome" })).status).toBe(201);
    await settle();
    for (const s of [t.player, t.spectator]) expect(s.events("InviteCodeRotated")).toEqual([]);
    t.close();
  });

  it("a kicked participant cannot come back through the code it knew", async () => {
    const t = await table();
    const kicked = await t.dm.ok({ type: "KickParticipant", participant_id: t.playerGrant.participant_id });
    expect(kicked).toMatchObject({ participant_id: t.playerGrant.participant_id, kicked: true, invite_code: expect.any(String) });
    expect(kicked.invite_code).not.toBe(t.dmGrant.invite_code);
    expect((await t.dm.waitFor(ev("InviteCodeRotated"))).event).toMatchObject({ invite_code: kicked.invite_code, reason: "kick" });
    const back = await post("/auth/join", { invite_code: t.dmGrant.invite_code, name: "Player One" });
    expect(back.status).toBe(404);
    expect(await back.json()).toMatchObject({ code: "NOT_FOUND" });
    // The others keep playing, and newcomers use the new code.
    expect((await t.spectator.request({ type: "Ping" })).status).toBe("success");
    expect((await post("/auth/join", { invite_code: kicked.invite_code, name: "Newcomer" })).status).toBe(201);
    await settle();
    expect(t.spectator.events("InviteCodeRotated")).toEqual([]);
    t.close();
  });
});

describe("abuse: /auth routes are metered per client address", () => {
  it("invite-code guessing meets 429 RATE_LIMITED with Retry-After after the default 30 a minute", async () => {
    const e = limited();
    const ip = freshIp();
    const codes: number[] = [];
    let first429: Response | undefined;
    const started = Date.now();
    for (let i = 0; i < 40; i++) {
      const res = await postAs(e, ip, "/auth/join", { invite_code: `GUESS${String(i).padStart(5, "0")}`, name: "x" });
      codes.push(res.status);
      if (res.status === 429 && !first429) first429 = res;
    }
    // 30 at once, then one every 2 s: a slow machine may earn a token or two back meanwhile.
    const refilled = Math.floor((Date.now() - started) / 2000);
    expect(codes.slice(0, 30).every((c) => c === 404)).toBe(true);
    const admitted = codes.filter((c) => c === 404).length;
    expect(admitted).toBeLessThanOrEqual(30 + refilled);
    expect(codes.filter((c) => c === 429)).toHaveLength(40 - admitted);
    const body = await first429!.json<any>();
    expect(body).toMatchObject({ code: "RATE_LIMITED", retryable: true, details: { retry_after_ms: expect.any(Number) } });
    expect(body.details.retry_after_ms).toBeGreaterThan(0);
    expect(body.details.retry_after_ms).toBeLessThanOrEqual(2000);
    expect(Number(first429!.headers.get("retry-after"))).toBe(Math.ceil(body.details.retry_after_ms / 1000));
    // Another address is not affected; the limit is per address.
    expect((await postAs(e, freshIp(), "/auth/join", { invite_code: "GUESS00000", name: "x" })).status).toBe(404);
  });

  it("session creation and refresh have their own limits, set by vars", async () => {
    const e = limited({ AUTH_SESSIONS_PER_MINUTE: "3", AUTH_REFRESHES_PER_MINUTE: "2" });
    const ip = freshIp();
    const made = [];
    for (let i = 0; i < 4; i++) made.push(await postAs(e, ip, "/auth/sessions", { world_name: "W", dm_name: "D" }));
    expect(made.map((r) => r.status)).toEqual([201, 201, 201, 429]);
    const grant = await made[0]!.json<any>();
    const refreshed = [];
    for (let i = 0; i < 3; i++) refreshed.push((await postAs(e, ip, "/auth/refresh", {}, { authorization: `Bearer ${grant.token}` })).status);
    expect(refreshed).toEqual([200, 200, 429]);
    // Joining is a separate bucket: still open for this address.
    expect((await postAs(e, ip, "/auth/join", { invite_code: grant.invite_code, name: "P" })).status).toBe(201);
    // 0 lifts a limit.
    const unlimited = limited({ AUTH_SESSIONS_PER_MINUTE: "0" });
    expect((await postAs(unlimited, ip, "/auth/sessions", { world_name: "W", dm_name: "D" })).status).toBe(201);
  });

  it("buckets refill over time", async () => {
    // 60 a minute = one a second.
    const e = limited({ AUTH_JOINS_PER_MINUTE: "60" });
    const ip = freshIp();
    let last = 0;
    for (let i = 0; i < 200 && last !== 429; i++) last = (await postAs(e, ip, "/auth/join", { invite_code: "NOPE-NOPE", name: "x" })).status;
    expect(last).toBe(429);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await postAs(e, ip, "/auth/join", { invite_code: "NOPE-NOPE", name: "x" })).status).toBe(404);
  });

  it("keys: CF-Connecting-IP, an IPv6 client by its /64, one shared key without the header", () => {
    const key = (ip?: string) => clientKey(new Request(BASE, { headers: ip ? { "cf-connecting-ip": ip } : {} }));
    expect(key("203.0.113.9")).toBe("203.0.113.9");
    expect(key("2001:db8:0:1:aaaa::1")).toBe("2001:db8:0:1::/64");
    expect(key("2001:db8:0:1:bbbb:cccc:dddd:eeee")).toBe("2001:db8:0:1::/64");
    expect(key("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(key()).toBe("local");
  });
});

describe("abuse: session creation is guarded by default", () => {
  const create = (e: Record<string, unknown>, headers: Record<string, string> = {}) =>
    postAs(e, freshIp(), "/auth/sessions", { world_name: "W", dm_name: "D" }, headers);

  it("without SESSION_CREATE_SECRET nobody may create sessions, unless SESSION_CREATION=open", async () => {
    const deployed = { ...env, SESSION_CREATION: undefined, SESSION_CREATE_SECRET: undefined };
    const refused = await create(deployed);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: "FORBIDDEN", details: { reason: "session_creation_closed" } });
    expect((await create({ ...deployed, SESSION_CREATION: "open" })).status).toBe(201);
  });

  it("with the secret configured, only its holders create sessions, whatever SESSION_CREATION says", async () => {
    const guarded = { ...env, SESSION_CREATION: "open", SESSION_CREATE_SECRET: "let-me-in-0123456789" };
    expect((await create(guarded)).status).toBe(401);
    expect((await create(guarded, { authorization: "Bearer wrong" })).status).toBe(403);
    expect((await create(guarded, { authorization: "Bearer let-me-in-0123456789" })).status).toBe(201);
  });
});
