/**
 * Fan-out: N joined sockets in one session, one writer (the DM) sending UpdateCharacter one at a
 * time. Latency = from the write's send until the LAST of the N sockets has its event. Afterwards
 * every socket's events are checked against the writer's: each event exactly once, in order.
 */
import { joinSession } from "../auth";
import { mapLimit, waitUntil } from "../bounded";
import type { BenchSession } from "../fixture";
import { checkSequence, isClean, sumChecks, type SequenceCheck } from "../sequence-check";
import { now, summarize, type Summary } from "../stats";
import { WireClient } from "../wire-client";

export interface FanoutConfig {
  writes: number;
  /** Per write: give up waiting for the last socket after this long. */
  writeTimeoutMs: number;
}

export interface FanoutResult {
  sockets: number;
  /** Time to open and join all sockets (50 at a time). */
  connect_ms: number;
  /** Send → last socket has the event. */
  latency: Summary;
  /** Summed over all sockets. */
  delivery: SequenceCheck;
  /** Sockets whose events were not exactly the expected ones in order. */
  sockets_violating: number;
}

/** Opens N joined sockets as one spectator (many sockets per participant, like many open tabs). */
export async function openListeners(session: BenchSession, baseUrl: string, n: number): Promise<{ listeners: WireClient[]; connectMs: number }> {
  const spectator = await joinSession(baseUrl, session.grant.invite_code, "listener", "spectator");
  const t0 = now();
  const listeners = await mapLimit(Array.from({ length: n }), 50, async (_, i) => {
    const c = await WireClient.open(spectator.ws_url, spectator.token, `l${i}`);
    await c.join();
    return c;
  });
  return { listeners, connectMs: Math.round(now() - t0) };
}

export async function measureFanout(session: BenchSession, listeners: WireClient[], connectMs: number, cfg: FanoutConfig): Promise<FanoutResult> {
  const { dm, characterId } = session;
  const latencies: number[] = [];
  const writeIds = new Set<string>();
  const arrivals = new Map<string, number>();
  for (const l of listeners) {
    l.onEvent = (e) => {
      if (e.cause_request_id) arrivals.set(e.cause_request_id, (arrivals.get(e.cause_request_id) ?? 0) + 1);
    };
  }
  for (let i = 0; i < cfg.writes; i++) {
    const id = dm.newRequestId();
    writeIds.add(id);
    const t0 = now();
    const result = dm.request({ type: "UpdateCharacter", character_id: characterId, data: { stats: { round: i } } }, id);
    const allArrived = await waitUntil(() => (arrivals.get(id) ?? 0) >= listeners.length, cfg.writeTimeoutMs, 1);
    const elapsed = now() - t0;
    const r = await result;
    if (r.status !== "success") throw new Error(`fan-out write failed: ${r.code} ${r.message}`);
    if (!allArrived) break; // counted as missing below
    latencies.push(elapsed);
  }
  // The writer's own socket is joined too: its events for these writes are the expected sequence.
  await waitUntil(() => dm.events.filter((e) => writeIds.has(e.cause_request_id ?? "")).length >= writeIds.size, 2_000);
  const expected = dm.events.filter((e) => writeIds.has(e.cause_request_id ?? "")).map((e) => e.seq);
  const first = expected[0] ?? Number.POSITIVE_INFINITY;
  const checks = listeners.map((l) =>
    checkSequence(
      expected,
      l.events.filter((e) => e.seq >= first).map((e) => e.seq),
    ),
  );
  return {
    sockets: listeners.length,
    connect_ms: connectMs,
    latency: summarize(latencies),
    delivery: sumChecks(checks),
    sockets_violating: checks.filter((c) => !isClean(c)).length + (expected.length === cfg.writes ? 0 : listeners.length),
  };
}
