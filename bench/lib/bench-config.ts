import type { VersusConfig } from "./workloads/versus-floor";

/** Sizes of a bench run: the full one, and `--quick` (under a minute with the engine's start). */
export interface BenchConfig {
  mode: "full" | "quick";
  roundTrips: { count: number; maxMs: number; rounds: number };
  fanout: { sizes: number[]; writes: number; writeTimeoutMs: number };
  throughput: { clients: number; inFlight: number; durationMs: number; maxRequests: number };
  /** Measured on the largest fan-out's sockets, left idle after its writes. */
  memory: { settleMs: number; hibernateWaitMs: number };
  /** The engine beside the raw Durable Object floor (workloads/versus-floor.ts). */
  versus: VersusConfig;
}

export const FULL: BenchConfig = {
  mode: "full",
  roundTrips: { count: 1000, maxMs: 30_000, rounds: 5 },
  fanout: { sizes: [10, 100, 500], writes: 30, writeTimeoutMs: 15_000 },
  throughput: { clients: 8, inFlight: 8, durationMs: 10_000, maxRequests: 500_000 },
  memory: { settleMs: 2_000, hibernateWaitMs: 15_000 },
  versus: {
    roundTrips: { count: 1000, maxMs: 30_000, rounds: 5 },
    throughput: { clients: 8, inFlight: 16, durationMs: 10_000, maxRequests: 500_000 },
    // 60 writes per target and size, taking turns: a p50 that holds still on a loaded machine.
    fanout: { sizes: [10, 100, 500], writes: 60, writeTimeoutMs: 15_000 },
  },
};

export const QUICK: BenchConfig = {
  mode: "quick",
  roundTrips: { count: 150, maxMs: 3_000, rounds: 2 },
  fanout: { sizes: [10, 100, 500], writes: 6, writeTimeoutMs: 10_000 },
  throughput: { clients: 4, inFlight: 4, durationMs: 2_000, maxRequests: 100_000 },
  memory: { settleMs: 1_000, hibernateWaitMs: 12_000 },
  versus: {
    roundTrips: { count: 300, maxMs: 6_000, rounds: 3 },
    throughput: { clients: 8, inFlight: 16, durationMs: 3_000, maxRequests: 100_000 },
    fanout: { sizes: [10, 100, 500], writes: 8, writeTimeoutMs: 10_000 },
  },
};
