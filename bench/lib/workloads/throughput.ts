/**
 * Throughput: several clients (each its own joined socket, all DM of one session), each with several
 * requests in flight, for a fixed time. Reads are GetCharacter; writes are UpdateCharacter (each
 * write is also broadcast to every client). Reported: completed requests per second, errors by
 * code, and the round trip under that load.
 */
import type { Payload } from "../wire-client";
import { WireClient } from "../wire-client";
import { mapLimit } from "../bounded";
import { openBenchSession } from "../fixture";
import { now, summarize, type Summary } from "../stats";

export interface ThroughputConfig {
  kind: "read" | "write";
  clients: number;
  inFlight: number;
  durationMs: number;
  /** Count bound on top of the time bound. */
  maxRequests: number;
}

export interface ThroughputResult {
  kind: "read" | "write";
  clients: number;
  in_flight_per_client: number;
  duration_ms: number;
  requests: number;
  errors: number;
  errors_by_code: Record<string, number>;
  req_per_s: number;
  latency: Summary;
}

export async function throughput(baseUrl: string, cfg: ThroughputConfig): Promise<ThroughputResult> {
  const session = await openBenchSession(baseUrl, `throughput ${cfg.kind}`);
  const { grant, characterId } = session;
  const clients = await mapLimit(Array.from({ length: cfg.clients }), 10, async (_, i) => {
    const c = await WireClient.open(grant.ws_url, grant.token, `t${i}`);
    await c.join();
    return c;
  });
  const payload = (n: number): Payload =>
    cfg.kind === "read" ? { type: "GetCharacter", character_id: characterId } : { type: "UpdateCharacter", character_id: characterId, data: { stats: { n } } };
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let started = 0;
  const t0 = now();
  const deadline = t0 + cfg.durationMs;
  const slot = async (client: WireClient) => {
    while (now() < deadline && started < cfg.maxRequests) {
      const n = started++;
      const s = now();
      try {
        const r = await client.request(payload(n));
        if (r.status === "success") latencies.push(now() - s);
        else errors[r.code] = (errors[r.code] ?? 0) + 1;
      } catch (err) {
        errors.CLIENT = (errors.CLIENT ?? 0) + 1;
        if (!client.isOpen) throw err;
      }
    }
  };
  try {
    await Promise.all(clients.flatMap((c) => Array.from({ length: cfg.inFlight }, () => slot(c))));
  } finally {
    await Promise.all([...clients, session.dm].map((c) => c.close()));
  }
  const elapsed = now() - t0;
  const errorCount = Object.values(errors).reduce((a, b) => a + b, 0);
  return {
    kind: cfg.kind,
    clients: cfg.clients,
    in_flight_per_client: cfg.inFlight,
    duration_ms: Math.round(elapsed),
    requests: latencies.length + errorCount,
    errors: errorCount,
    errors_by_code: errors,
    req_per_s: Math.round((latencies.length / elapsed) * 1000),
    latency: summarize(latencies),
  };
}
