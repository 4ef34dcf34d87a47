/**
 * Fuzzing the wire protocol: ≥ 10,000 mutated frames from a DM, a player and a spectator against a
 * real engine (`wrangler dev`). Seeded (FUZZ_SEED), bounded in count and time. Every Request with a
 * usable request_id must get exactly one Response with a catalogue code; nothing closes a socket;
 * /health stays 200; nothing hidden reaches a non-DM; normal requests work afterwards.
 */
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CATALOGUE } from "../../src/protocol/errors";
import { startEngine, type Engine } from "../../scripts/engine";
import { WireClient, postJson } from "./wire";

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const FRAMES = 10_200;
const WAVE = 24; // frames per socket between waits: stays under the in-progress cap of 32
const DEADLINE_MS = 200_000;
/** Strings that only DMs may ever receive. */
const SECRET = "SECRET-7f3a";

let engine: Engine;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "wrldbldr-fuzz-"));
  // The fuzz measures correctness, not metering: lift the rate limits (the in-progress cap stays).
  engine = await startEngine({ persistDir: dir, vars: { RATE_LIMIT_PER_SECOND: "1000000", RATE_LIMIT_BURST: "1000000" } });
});

afterAll(async () => {
  await engine?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Payload = Record<string, unknown> & { type: string };

interface Fixture {
  pc: string;
  item: string;
  npc: string;
  hiddenNpc: string;
  location: string;
  regions: [string, string, string];
  scene: string;
  goal: string;
  story: string;
  hiddenStory: string;
}

async function ok(c: WireClient, payload: Payload): Promise<any> {
  const r = await c.request(payload);
  if (r.status !== "success") throw new Error(`${payload.type}: ${JSON.stringify(r)}`);
  return r.data;
}

async function setUp(dm: WireClient, player: WireClient): Promise<Fixture> {
  const location = (await ok(dm, { type: "CreateLocation", data: { name: "Harbour" } })).id;
  const regions = await Promise.all(
    ["Docks", "Market", "Vault"].map(async (name) => (await ok(dm, { type: "CreateRegion", location_id: location, data: { name } })).id),
  );
  await ok(dm, { type: "CreateRegionConnection", data: { from_region_id: regions[0], to_region_id: regions[1] } });
  await ok(dm, { type: "CreateRegionConnection", data: { from_region_id: regions[1], to_region_id: regions[2], is_locked: true } });
  const npc = (await ok(dm, { type: "CreateCharacter", data: { kind: "npc", name: "Mira", dm_notes: `${SECRET} notes`, region_id: regions[0] } })).id;
  const hiddenNpc = (await ok(dm, { type: "CreateCharacter", data: { kind: "npc", name: `${SECRET} spy`, hidden: true, region_id: regions[0] } })).id;
  const pc = (await ok(player, { type: "CreateCharacter", data: { kind: "pc", name: "Ash" } })).id;
  await ok(player, { type: "MoveToRegion", character_id: pc, region_id: regions[0] });
  const item = (await ok(player, { type: "AddInventoryItem", character_id: pc, data: { name: "Gold", quantity: 10 } })).id;
  const scene = (
    await ok(dm, { type: "CreateScene", data: { name: "Arrival", featured_character_ids: [npc, hiddenNpc], directorial_notes: `${SECRET} plan` } })
  ).id;
  const goal = (await ok(dm, { type: "CreateGoal", data: { name: "Find the vault" } })).id;
  const story = (await ok(dm, { type: "CreateStoryEvent", data: { summary: "They arrived", character_ids: [npc, hiddenNpc] } })).id;
  const hiddenStory = (await ok(dm, { type: "CreateStoryEvent", data: { summary: `${SECRET} ambush`, hidden: true } })).id;
  return { pc, item, npc, hiddenNpc, location, regions: regions as Fixture["regions"], scene, goal, story, hiddenStory };
}

/** Valid payloads to start mutating from. The DM's never name the hidden entities (so it cannot reveal them). */
function templates(f: Fixture, role: "dm" | "player" | "spectator"): Payload[] {
  const reads: Payload[] = [
    { type: "Ping" },
    { type: "GetSessionSnapshot" },
    { type: "ListParticipants", limit: 5 },
    { type: "ListCharacters" },
    { type: "GetCharacter", character_id: f.npc },
    { type: "ListInventory", character_id: f.pc },
    { type: "GetWorld" },
    { type: "ListLocations" },
    { type: "GetRegion", region_id: f.regions[1] },
    { type: "ListRegions", location_id: f.location },
    { type: "ListRegionConnections", location_id: f.location },
    { type: "ListScenes" },
    { type: "GetScene", scene_id: f.scene },
    { type: "GetActiveScene" },
    { type: "ListGoals" },
    { type: "GetGoal", goal_id: f.goal },
    { type: "ListStoryEvents" },
    { type: "GetStoryEvent", story_event_id: f.story },
    { type: "ListPromptTemplates" },
  ];
  const probes: Payload[] = [
    { type: "GetCharacter", character_id: f.hiddenNpc },
    { type: "GetStoryEvent", story_event_id: f.hiddenStory },
    { type: "ListStoryEvents", character_id: f.hiddenNpc },
    { type: "ListInventory", character_id: f.hiddenNpc },
    { type: "UpdateCharacter", character_id: f.hiddenNpc, data: { name: "x" } },
  ];
  const play: Payload[] = [
    { type: "UpdateCharacter", character_id: f.pc, data: { description: "tall" } },
    { type: "SetCharacterStat", character_id: f.pc, stat: "str", value: 12 },
    { type: "AddInventoryItem", character_id: f.pc, data: { name: "Rope", properties: { length: 10 } } },
    { type: "UpdateInventoryItem", item_id: f.item, data: { equipped: true } },
    { type: "GiveItem", item_id: f.item, to_character_id: f.npc, quantity: 1 },
    { type: "MoveToRegion", character_id: f.pc, region_id: f.regions[1] },
    { type: "MoveToRegion", character_id: f.pc, region_id: f.regions[0] },
  ];
  const dm: Payload[] = [
    { type: "CreateGoal", data: { name: "Another goal", description: "d" } },
    { type: "UpdateGoal", goal_id: f.goal, data: { description: "new" } },
    { type: "CreateCharacter", data: { kind: "npc", name: "Extra" } },
    { type: "UpdateCharacter", character_id: f.npc, data: { description: "old", dm_notes: `${SECRET} more` } },
    { type: "CreateStoryEvent", data: { summary: "Something happened", details: { a: 1 } } },
    { type: "UpdateScene", scene_id: f.scene, data: { description: "dusk" } },
    { type: "SetActiveScene", scene_id: f.scene },
    { type: "CreateRegion", location_id: f.location, data: { name: "Alley" } },
    { type: "UpdateWorld", data: { description: "A port town" } },
    { type: "SetPromptTemplate", key: "dialogue.system", value: "You are {npc_name}." },
    { type: "UpdateSessionSettings", data: { dialogue_approval: true } },
  ];
  if (role === "dm") return [...reads, ...play, ...dm];
  if (role === "player") return [...reads, ...probes, ...play, ...dm];
  return [...reads, ...probes, ...play.slice(0, 3), ...dm.slice(0, 3)];
}

const deep = (depth: number) => JSON.parse("[".repeat(depth) + "]".repeat(depth));

/** One mutated payload: a template with a field replaced, dropped, added, retyped, deepened or inflated. */
function payloadArb(base: Payload[], allTypes: string[]): fc.Arbitrary<unknown> {
  const template = fc.constantFrom(...base);
  const json = fc.jsonValue({ maxDepth: 3 });
  const mutated = fc
    .tuple(template, fc.nat(), json, fc.integer({ min: 9, max: 1000 }), fc.constantFrom(...allTypes), fc.nat(9))
    .map(([t, n, value, depth, otherType, how]) => {
      const p: Record<string, unknown> = structuredClone(t);
      const keys = Object.keys(p).filter((k) => k !== "type");
      const key = keys.length ? keys[n % keys.length]! : "extra";
      const dataKeys = p.data && typeof p.data === "object" ? Object.keys(p.data) : [];
      switch (how) {
        case 0:
          p[key] = value;
          break; // a wrong value
        case 1:
          delete p[key];
          break; // a missing field
        case 2:
          p[`x_${n % 7}`] = value;
          break; // an unknown field
        case 3:
          p.type = otherType;
          break; // another operation's name with these fields
        case 4:
          p[key] = deep(depth);
          break; // deep nesting
        case 5:
          p[key] = "é".repeat(34_000);
          break; // oversize (> 64 KiB in UTF-8)
        case 6:
          if (dataKeys.length) (p.data as Record<string, unknown>)[dataKeys[n % dataKeys.length]!] = value;
          break;
        case 7:
          p.data = { ...(p.data as object), properties: { nest: deep(depth) }, details: { nest: deep(depth) } };
          break;
        case 8:
          p[key] = `no-such-${n}`;
          break; // unknown ids
        default:
          break; // the template as it is: real writes happen too
      }
      return p;
    });
  const batch = fc
    .tuple(fc.array(mutated, { minLength: 1, maxLength: 6 }), fc.boolean())
    .map(([operations, atomic]) => ({ type: "Batch", operations, atomic }));
  return fc.oneof({ weight: 8, arbitrary: mutated }, { weight: 2, arbitrary: batch }, { weight: 1, arbitrary: json });
}

/** A whole frame: mostly Requests with fresh ids, sometimes garbage or other frame types. */
function frameArb(base: Payload[], allTypes: string[], prefix: string): fc.Arbitrary<{ text: string; id: string | null }> {
  let n = 0;
  const request = payloadArb(base, allTypes).map((payload) => {
    const id = `${prefix}-${n++}`;
    return { text: JSON.stringify({ type: "Request", request_id: id, payload }), id };
  });
  const odd = fc.oneof(
    fc.string({ maxLength: 40 }).map((s) => ({ text: s === "ping" ? "ping!" : s, id: null })),
    fc.jsonValue({ maxDepth: 2 }).map((v) => ({ text: JSON.stringify({ type: "Request", request_id: v, payload: { type: "Ping" } }), id: null })),
    fc.nat().map((seq) => ({ text: JSON.stringify({ type: "Ack", seq }), id: null })),
    fc.constant({ text: JSON.stringify({ type: "JoinSession", last_seq: 0 }), id: null }),
    fc.constant({ text: `{"type":"Request","request_id":"${prefix}-big","payload":${"[".repeat(20_000)}${"]".repeat(20_000)}}`, id: null }),
  );
  return fc.oneof({ weight: 9, arbitrary: request }, { weight: 1, arbitrary: odd });
}

describe("protocol fuzz", () => {
  it(`≥ ${FRAMES} mutated frames: one Response per Request, catalogue codes, no close, nothing hidden leaks`, async () => {
    const created = await postJson(`${engine.url}/auth/sessions`, { world_name: "Fuzz", dm_name: "DM" });
    expect(created.status).toBe(201);
    const g = created.body;
    const p = (await postJson(`${engine.url}/auth/join`, { invite_code: g.invite_code, name: "Player" })).body;
    const s = (await postJson(`${engine.url}/auth/join`, { invite_code: g.invite_code, name: "Watcher", role: "spectator" })).body;
    const wsUrl = `${engine.wsBase}/sessions/${g.session_id}/ws`;
    const [dm, player, spectator] = await Promise.all([g, p, s].map((x) => WireClient.open(wsUrl, x.token)));
    for (const c of [dm!, player!, spectator!]) await c.join();
    const fixture = await setUp(dm!, player!);

    const { OPERATION_TYPES } = await import("../../src/protocol/operations");
    const clients = [
      { name: "dm", c: dm!, frames: frameArb(templates(fixture, "dm"), OPERATION_TYPES, "dm") },
      { name: "player", c: player!, frames: frameArb(templates(fixture, "player"), OPERATION_TYPES, "pl") },
      { name: "spectator", c: spectator!, frames: frameArb(templates(fixture, "spectator"), OPERATION_TYPES, "sp") },
    ];
    const perClient = Math.ceil(FRAMES / clients.length);
    const plans = clients.map((x, i) => fc.sample(x.frames, { seed: SEED + i, numRuns: perClient }));
    const started = Date.now();
    let sent = 0;
    const expected = new Map<string, string>(); // request id → client name
    const sentText = new Map<string, string>(); // request id → the frame sent
    for (let at = 0; at < perClient && Date.now() - started < DEADLINE_MS; at += WAVE) {
      await Promise.all(
        clients.map(async (x, i) => {
          const wave = plans[i]!.slice(at, at + WAVE);
          const ids: string[] = [];
          for (const f of wave) {
            x.c.send(f.text);
            sent++;
            if (f.id) {
              ids.push(f.id);
              expected.set(f.id, x.name);
              sentText.set(f.id, f.text);
            }
          }
          const last = ids[ids.length - 1];
          if (last) await x.c.waitFor((fr) => fr.type === "Response" && fr.request_id === last, 30_000);
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(sent).toBeGreaterThanOrEqual(FRAMES);

    // Exactly one Response per Request, every code from the catalogue.
    const counts: Record<string, number> = {};
    const perId = new Map<string, number>();
    for (const x of clients) {
      for (const f of x.c.frames) {
        if (f.type !== "Response" || !expected.has(f.request_id)) continue;
        perId.set(f.request_id, (perId.get(f.request_id) ?? 0) + 1);
        const code = f.result.status === "success" ? "OK" : f.result.code;
        counts[code] = (counts[code] ?? 0) + 1;
        if (code !== "OK") expect(Object.keys(ERROR_CATALOGUE)).toContain(code);
      }
    }
    const missing = [...expected.keys()].filter((id) => !perId.has(id));
    const doubled = [...perId].filter(([, n]) => n !== 1);
    expect(missing).toEqual([]);
    expect(doubled).toEqual([]);

    // No socket was closed; the engine is healthy.
    for (const x of clients) expect(x.c.closedWith, x.name).toBeNull();
    expect((await fetch(`${engine.url}/health`)).status).toBe(200);

    // Nothing hidden reached the player or the spectator.
    // (An answer may repeat what its own request said, e.g. "character '<id>' not found".)
    for (const x of clients.slice(1)) {
      for (const f of x.c.frames) {
        const text = JSON.stringify(f);
        const asked = f.type === "Response" ? (sentText.get(f.request_id) ?? "") : "";
        for (const secret of [SECRET, fixture.hiddenNpc, fixture.hiddenStory]) {
          if (text.includes(secret) && !asked.includes(secret))
            expect.fail(`${x.name} received '${secret}' in ${text.slice(0, 300)} (asked: ${asked.slice(0, 300)})`);
        }
      }
    }

    // Normal requests still work.
    for (const x of clients) expect((await x.c.request({ type: "Ping" })).status).toBe("success");
    expect((await dm!.request({ type: "GetSessionSnapshot" })).status).toBe("success");

    const errorFrames = clients.reduce((n, x) => n + x.c.frames.filter((f) => f.type === "Error").length, 0);
    console.log(
      `fuzz (seed ${SEED}): ${sent} frames in ${((Date.now() - started) / 1000).toFixed(1)} s, ${expected.size} requests, ` +
        `${errorFrames} Error frames; responses by code: ${JSON.stringify(counts)}`,
    );
    for (const x of clients) x.c.close();
  }, 300_000);
});
