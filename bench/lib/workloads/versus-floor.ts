/**
 * The engine beside its peers (bench/lib/peer.ts: the raw floor, the floor + D1 control, the Agents
 * SDK), same workloads, same client code (WireClient): round trips of a Ping and of a write (a ~100-byte row and its event), write
 * throughput with many writes in flight, and fan-out of a write's event to N sockets. All speak the
 * same frames; only the room differs (the engine: a session, a joined DM writing, spectator sockets
 * listening; a peer: a room of plain sockets) and the write (the engine: CreateStoryEvent; a peer:
 * Write). Every socket must get every write's event exactly once and in order: anything else is a
 * violation.
 */
import { mapLimit, timeSequential, waitUntil } from "../bounded";
import { openBenchSession } from "../fixture";
import type { Peer } from "../peer";
import { now, summarize, type Summary } from "../stats";
import { WireClient, type Payload } from "../wire-client";
import { openListeners } from "./fanout";

export type TargetName = "floor" | "floor_d1" | "agents" | "engine";
export type PeerName = Exclude<TargetName, "engine">;

export interface Target {
  name: TargetName;
  /** n sockets of one fresh room, each receiving its events; the first one writes, or all of them. */
  room(label: string, n: number, writers: "first" | "all"): Promise<WireClient[]>;
  write(body: string): Payload;
  /** The event type each write broadcasts. */
  writeEvent: string;
}

/** A peer (the floor, the floor + D1, the Agents SDK): rooms of plain sockets, every one of them may write. */
export function peerTarget(name: PeerName, peer: Peer): Target {
  let rooms = 0;
  return {
    name,
    room: (label, n) => {
      const url = peer.wsUrl(`${label.replace(/[^A-Za-z0-9]/g, "-")}-${++rooms}`);
      return mapLimit(Array.from({ length: n }), 50, (_, i) => WireClient.open(url, null, `f${i}`));
    },
    write: (body) => ({ type: "Write", body }),
    writeEvent: "Written",
  };
}

export function engineTarget(baseUrl: string): Target {
  return {
    name: "engine",
    room: async (label, n, writers) => {
      const session = await openBenchSession(baseUrl, label);
      if (n === 1) return [session.dm];
      if (writers === "first") return [session.dm, ...(await openListeners(session, baseUrl, n - 1)).listeners];
      // More sockets of the DM (writes are for DMs), like the engine's own throughput workload.
      const more = await mapLimit(Array.from({ length: n - 1 }), 10, async (_, i) => {
        const c = await WireClient.open(session.grant.ws_url, session.grant.token, `w${i}`);
        await c.join();
        return c;
      });
      return [session.dm, ...more];
    },
    write: (body) => ({ type: "CreateStoryEvent", data: { summary: body } }),
    writeEvent: "StoryEventCreated",
  };
}

export interface VersusConfig {
  roundTrips: { count: number; maxMs: number; rounds: number };
  throughput: { clients: number; inFlight: number; durationMs: number; maxRequests: number };
  fanout: { sizes: number[]; writes: number; writeTimeoutMs: number };
}

export interface VersusFigures {
  ping: Summary;
  write: Summary;
  throughput: { clients: number; in_flight_per_client: number; writes_per_s: number; requests: number; errors: Record<string, number>; latency: Summary };
  /**
   * Per size: `latency` from the write's send until the last socket has its event (the write's commit
   * included); `broadcast` from the writer's Response until then (every target sends the Response
   * before the broadcast), which leaves the per-event broadcast alone. `event_frame_chars`: the mean
   * size of one event frame (each listener parses every one of them, on the bench's cores).
   */
  fanout: { sockets: number; latency: Summary; broadcast: Summary; event_frame_chars: number }[];
}

export type VersusResults = Partial<Record<TargetName, VersusFigures>> & { violations: string[] };

/** A ~100-byte row body. */
const body = (i: number) => `bench row ${i} `.padEnd(100, "·").slice(0, 100);

async function succeed(client: WireClient, payload: Payload): Promise<void> {
  const r = await client.request(payload);
  if (r.status !== "success") throw new Error(`${payload.type} failed: ${r.code} ${r.message}`);
}

/** Each socket's events of the write type: exactly `expected` of them, seqs strictly increasing. */
function checkDelivery(t: Target, clients: WireClient[], expected: number, what: string, violations: string[]): void {
  const bad = clients.filter((c) => {
    const seqs = c.events.filter((e) => e.type === t.writeEvent).map((e) => e.seq);
    return seqs.length !== expected || seqs.some((s, i) => i > 0 && s <= seqs[i - 1]!);
  }).length;
  if (bad > 0) violations.push(`${t.name} ${what}: ${bad}/${clients.length} sockets did not get each of the ${expected} writes' events exactly once in order`);
}

async function throughput(t: Target, cfg: VersusConfig["throughput"], violations: string[]): Promise<VersusFigures["throughput"]> {
  const clients = await t.room("throughput", cfg.clients, "all");
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let started = 0;
  const t0 = now();
  const deadline = t0 + cfg.durationMs;
  const slot = async (c: WireClient) => {
    while (now() < deadline && started < cfg.maxRequests) {
      const n = started++;
      const s = now();
      const r = await c.request(t.write(body(n)), undefined, 60_000);
      if (r.status === "success") latencies.push(now() - s);
      else errors[r.code] = (errors[r.code] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(clients.flatMap((c) => Array.from({ length: cfg.inFlight }, () => slot(c))));
    const elapsed = now() - t0;
    // Every write's event reaches every client: nothing lost, nothing twice.
    await waitUntil(() => clients.every((c) => c.events.filter((e) => e.type === t.writeEvent).length >= latencies.length), 10_000);
    checkDelivery(t, clients, latencies.length, "throughput", violations);
    return {
      clients: cfg.clients,
      in_flight_per_client: cfg.inFlight,
      writes_per_s: Math.round((latencies.length / elapsed) * 1000),
      requests: latencies.length + Object.values(errors).reduce((a, b) => a + b, 0),
      errors,
      latency: summarize(latencies),
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/** One target's room of a fan-out size: a writer and N listeners, each write timed to the last of them. */
class FanoutRoom {
  readonly sendToLast: number[] = [];
  readonly responseToLast: number[] = [];
  /** Set when a write's events did not all arrive in time: the room takes no more turns. */
  stalled = false;
  // Timestamps are taken where the frames are handled, not when the poll in write() notices them.
  private arrived = 0;
  private awaited = 0;
  private lastAt = 0;

  private constructor(
    readonly target: Target,
    private readonly writer: WireClient,
    private readonly listeners: WireClient[],
  ) {
    for (const l of listeners) l.onEvent = (e) => void (e.type === target.writeEvent && ++this.arrived === this.awaited && (this.lastAt = now()));
  }

  static async open(t: Target, sockets: number): Promise<FanoutRoom> {
    const [writer, ...listeners] = await t.room(`fanout ${sockets}`, sockets + 1, "first");
    return new FanoutRoom(t, writer!, listeners);
  }

  async write(i: number, timeoutMs: number): Promise<void> {
    this.awaited = (i + 1) * this.listeners.length;
    let responseAt = 0;
    const t0 = now();
    const result = this.writer.request(this.target.write(body(i))).then((r) => ((responseAt = now()), r));
    const all = await waitUntil(() => this.arrived >= this.awaited, timeoutMs, 1);
    if ((await result).status !== "success") throw new Error(`${this.target.name} fan-out write failed`);
    if (!all) {
      this.stalled = true;
      return;
    }
    this.sendToLast.push(this.lastAt - t0);
    this.responseToLast.push(this.lastAt - responseAt);
  }

  figures(writes: number, violations: string[]): VersusFigures["fanout"][number] {
    checkDelivery(this.target, this.listeners, writes, `fan-out N=${this.listeners.length}`, violations);
    const first = this.listeners[0]!;
    return {
      sockets: this.listeners.length,
      latency: summarize(this.sendToLast),
      broadcast: summarize(this.responseToLast),
      event_frame_chars: Math.round(first.eventFrameChars / Math.max(1, first.events.length)),
    };
  }

  close(): Promise<unknown> {
    return Promise.all([this.writer, ...this.listeners].map((c) => c.close()));
  }
}

/** A room per target, their writes taking turns (one write each, then again) so load shifts hit all alike. */
async function fanout(targets: Target[], sockets: number, cfg: VersusConfig["fanout"], violations: string[]): Promise<VersusFigures["fanout"][number][]> {
  const rooms: FanoutRoom[] = [];
  try {
    for (const t of targets) rooms.push(await FanoutRoom.open(t, sockets));
    for (let i = 0; i < cfg.writes; i++) for (const room of rooms) if (!room.stalled) await room.write(i, cfg.writeTimeoutMs);
    return rooms.map((room) => room.figures(cfg.writes, violations));
  } finally {
    await Promise.all(rooms.map((room) => room.close()));
  }
}

/** Runs every workload on each target; round trips and fan-out writes take turns so noise hits all alike. */
export async function versusFloor(targets: Target[], cfg: VersusConfig, log: (m: string) => void): Promise<VersusResults> {
  const results: VersusResults = { violations: [] };
  const samples = new Map(targets.map((t) => [t.name, { ping: [] as number[], write: [] as number[] }]));
  const writers = await Promise.all(targets.map(async (t) => (await t.room("round trips", 1, "first"))[0]!));
  try {
    log(`versus: round trips (${targets.map((t) => t.name).join(", ")})`);
    const perRound = { count: Math.ceil(cfg.roundTrips.count / cfg.roundTrips.rounds), maxMs: Math.ceil(cfg.roundTrips.maxMs / cfg.roundTrips.rounds) };
    let n = 0;
    for (let round = 0; round < cfg.roundTrips.rounds; round++) {
      for (const [i, t] of targets.entries()) {
        const s = samples.get(t.name)!;
        const w = writers[i]!;
        s.ping.push(...(await timeSequential(perRound, () => succeed(w, { type: "Ping" }), round === 0 ? 10 : 0)));
        s.write.push(...(await timeSequential(perRound, () => succeed(w, t.write(body(++n))), round === 0 ? 5 : 0)));
      }
    }
  } finally {
    await Promise.all(writers.map((w) => w.close()));
  }
  const partial = new Map<string, Partial<VersusFigures>>(
    targets.map((t) => [t.name, { ping: summarize(samples.get(t.name)!.ping), write: summarize(samples.get(t.name)!.write), fanout: [] }]),
  );
  for (const t of targets) {
    log(`versus: write throughput, ${t.name}`);
    partial.get(t.name)!.throughput = await throughput(t, cfg.throughput, results.violations);
  }
  for (const size of cfg.fanout.sizes) {
    log(`versus: fan-out to ${size}, writes taking turns`);
    const figures = await fanout(targets, size, cfg.fanout, results.violations);
    for (const [i, t] of targets.entries()) partial.get(t.name)!.fanout!.push(figures[i]!);
  }
  for (const t of targets) results[t.name] = partial.get(t.name) as VersusFigures;
  return results;
}
