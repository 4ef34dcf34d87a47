/**
 * Sequential round trips, one client: WebSocket Ping / GetCharacter / UpdateCharacter and HTTP
 * GET /health (keep-alive and new connection). The workloads take turns in rounds so that machine
 * noise (other processes on shared cores) hits all of them alike.
 */
import { timeSequential } from "../bounded";
import { openBenchSession } from "../fixture";
import { httpGet, keepAliveAgent } from "../http-get";
import { summarize, type Summary } from "../stats";
import type { Payload, WireClient } from "../wire-client";

export interface RoundTripConfig {
  /** Measured round trips per workload. */
  count: number;
  /** Time bound per workload. */
  maxMs: number;
  rounds: number;
}

export type RoundTripResults = Record<"ws_ping" | "ws_get_character" | "ws_update_character" | "http_health_keepalive" | "http_health_new_connection", Summary>;

async function expectSuccess(client: WireClient, payload: Payload): Promise<void> {
  const r = await client.request(payload);
  if (r.status !== "success") throw new Error(`${payload.type} failed: ${r.code} ${r.message}`);
}

async function expectOk(status: Promise<number>): Promise<void> {
  const s = await status;
  if (s !== 200) throw new Error(`GET /health: HTTP ${s}`);
}

export async function roundTrips(baseUrl: string, cfg: RoundTripConfig): Promise<RoundTripResults> {
  const { dm, characterId } = await openBenchSession(baseUrl, "round trips");
  const agent = keepAliveAgent();
  const health = `${baseUrl}/health`;
  let hp = 0;
  const workloads: Record<keyof RoundTripResults, () => Promise<void>> = {
    ws_ping: () => expectSuccess(dm, { type: "Ping" }),
    ws_get_character: () => expectSuccess(dm, { type: "GetCharacter", character_id: characterId }),
    ws_update_character: () => expectSuccess(dm, { type: "UpdateCharacter", character_id: characterId, data: { stats: { hp: ++hp } } }),
    http_health_keepalive: () => expectOk(httpGet(health, agent)),
    http_health_new_connection: () => expectOk(httpGet(health, false)),
  };
  const samples = Object.fromEntries(Object.keys(workloads).map((k) => [k, [] as number[]])) as Record<keyof RoundTripResults, number[]>;
  try {
    const perRound = { count: Math.ceil(cfg.count / cfg.rounds), maxMs: Math.ceil(cfg.maxMs / cfg.rounds) };
    for (let round = 0; round < cfg.rounds; round++) {
      for (const [name, run] of Object.entries(workloads) as [keyof RoundTripResults, () => Promise<void>][]) {
        samples[name].push(...(await timeSequential(perRound, run, round === 0 ? 10 : 0)));
      }
    }
  } finally {
    agent.destroy();
    await dm.close();
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)])) as RoundTripResults;
}
