import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEngine, type Engine } from "../../scripts/engine";
import { WireClient, postJson } from "./wire";

/**
 * End to end from Node over real WebSockets, against the engine as `npm start` runs it
 * (wrangler dev on 127.0.0.1, local D1/R2/Durable Objects), started and stopped by this file.
 */
describe("engine end to end (Node ↔ wrangler dev)", () => {
  const persistDir = mkdtempSync(join(tmpdir(), "wrldbldr-e2e-"));
  const vars = { AUTH_SECRET: "e2e-secret-0123456789abcdef0123456789", METRICS_TOKEN: "e2e-metrics" };
  let engine: Engine;

  beforeAll(async () => {
    engine = await startEngine({ persistDir, vars });
  });
  afterAll(async () => {
    await engine?.stop();
    rmSync(persistDir, { recursive: true, force: true });
  });

  it("serves a session: auth, join, errors, broadcast, redaction, resume, restart", async () => {
    const health = await (await fetch(`${engine.url}/health`)).json();
    expect(health).toMatchObject({ status: "ok", d1: { ok: true } });

    const dm = await postJson(`${engine.url}/auth/sessions`, { world_name: "E2E", dm_name: "DM" });
    expect(dm.status).toBe(201);
    const pl = await postJson(`${engine.url}/auth/join`, { invite_code: dm.body.invite_code, name: "P" });
    expect(pl.status).toBe(201);
    // The signature's first character changed (its last one carries padding bits a decoder may ignore).
    const sig = pl.body.token.lastIndexOf(".") + 1;
    const forged = pl.body.token.slice(0, sig) + (pl.body.token[sig] === "A" ? "B" : "A") + pl.body.token.slice(sig + 1);
    await expect(WireClient.open(dm.body.ws_url, forged)).rejects.toMatchObject({ status: 401 });

    const a = await WireClient.open(dm.body.ws_url, dm.body.token);
    const b = await WireClient.open(pl.body.ws_url, pl.body.token);
    expect(a.ws.protocol).toBe("wrldbldr.v1");
    await a.join();
    await b.join();

    a.send("{oops");
    expect((await a.waitFor((f) => f.type === "Error")).code).toBe("BAD_FRAME");
    expect((await a.request({ type: "Nope" })).code).toBe("UNKNOWN_REQUEST");
    expect((await a.request({ type: "CreateCharacter", data: { kind: "npc" } })).details.issues[0].path).toBe("payload.data.name");

    const npc = await a.request({ type: "CreateCharacter", data: { kind: "npc", name: "Mira", dm_notes: "owes the guild" } });
    expect(npc.status).toBe("success");
    const ev = await b.waitFor((f) => f.type === "Event" && f.event.type === "CharacterCreated");
    expect(ev.event.character.name).toBe("Mira");
    expect(JSON.stringify(b.frames)).not.toContain("owes the guild");

    // The player drops; the DM writes meanwhile; the player resumes from the last seq it saw.
    const lastSeen = ev.seq;
    b.close();
    for (let i = 0; i < 3; i++) await a.request({ type: "SetCharacterStat", character_id: npc.data.id, stat: "mood", value: i });
    const b2 = await WireClient.open(pl.body.ws_url, pl.body.token);
    const joined = await b2.join(lastSeen);
    expect(joined.resume).toBe("replayed");
    expect(b2.events("CharacterUpdated").map((e) => e.event.character.stats.mood)).toEqual([0, 1, 2]);
    const seqs = b2.events().map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);

    // Restart the engine with the same local state: data, seq and the request log survive.
    a.close();
    b2.close();
    const lastBefore = b2.events().at(-1)!.seq;
    await engine.stop();
    engine = await startEngine({ persistDir, vars, port: engine.port });
    const a2 = await WireClient.open(dm.body.ws_url, dm.body.token);
    await a2.join(lastBefore);
    const got = await a2.request({ type: "GetCharacter", character_id: npc.data.id });
    expect(got.data).toMatchObject({ name: "Mira", stats: { mood: 2 }, dm_notes: "owes the guild" });
    const next = await a2.request({ type: "UpdateCharacter", character_id: npc.data.id, data: { name: "Mira T." } });
    expect(next.status).toBe("success");
    const after = await a2.waitFor((f) => f.type === "Event" && f.event.type === "CharacterUpdated" && f.event.character.name === "Mira T.");
    expect(after.seq).toBeGreaterThan(lastBefore);
    a2.close();

    const metrics = await fetch(`${engine.url}/metrics`, { headers: { authorization: "Bearer e2e-metrics" } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^wrldbldr_sessions 1$/m);
  });
});
