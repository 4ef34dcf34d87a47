/**
 * `npm run bench [-- --quick] [-- --only round-trips,fanout,throughput,versus]`: starts the engine on
 * 127.0.0.1 (fresh state, rate limit lifted) and, beside it, the raw Durable Object floor, the floor +
 * D1 control and the Agents SDK peer, runs the workloads, stops them all, prints the tables (the
 * engine's figures as ratios to the peers') and writes bench/results/<timestamp>.json.
 * Exits non-zero if any fan-out socket missed, duplicated or reordered an event, or if the
 * sockets did not survive the idle wait.
 */
import { cpus, loadavg } from "node:os";
import { bundleSizeLine } from "../scripts/bundle-size";
import { sourceRoot } from "./lib/code-snapshot";
import { FULL, QUICK, type BenchConfig } from "./lib/bench-config";
import { renderTable, writeResults, type BenchResults } from "./lib/bench-report";
import { openBenchSession } from "./lib/fixture";
import { BENCH_VARS, withEngine, type LocalEngine } from "./lib/local-engine";
import { findUserWorkerd, readMemory } from "./lib/process-memory";
import { measureFanout, openListeners } from "./lib/workloads/fanout";
import { idleMemory } from "./lib/workloads/idle-memory";
import { roundTrips } from "./lib/workloads/round-trips";
import { throughput } from "./lib/workloads/throughput";
import { AGENTS_PEER_SOURCE, agentsPeerSkipReason, startAgentsPeer } from "./lib/agents-peer";
import { floorSource, startFloor } from "./lib/floor";
import { FLOOR_D1_SOURCE, floorD1SkipReason, startFloorD1 } from "./lib/floor-d1";
import type { Peer } from "./lib/peer";
import { engineTarget, peerTarget, versusFloor, type PeerName, type Target } from "./lib/workloads/versus-floor";

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function fanoutAndMemory(engine: LocalEngine, cfg: BenchConfig, results: BenchResults): Promise<void> {
  const largest = Math.max(...cfg.fanout.sizes);
  for (const n of cfg.fanout.sizes) {
    log(`fan-out: ${n} sockets`);
    const session = await openBenchSession(engine.url, `fan-out ${n}`);
    const pid = n === largest ? findUserWorkerd(engine.port) : null;
    const before = pid ? readMemory(pid) : null;
    const { listeners, connectMs } = await openListeners(session, engine.url, n);
    try {
      const f = await measureFanout(session, listeners, connectMs, cfg.fanout);
      results.fanout.push(f);
      if (f.sockets_violating > 0) results.violations.push(`fan-out N=${n}: ${f.sockets_violating} sockets did not get every event exactly once in order`);
      if (n !== largest) continue;
      if (!pid) {
        log("memory: skipped, the user workerd process was not found (Linux /proc only)");
        continue;
      }
      log(`memory: ${n} idle sockets, waiting ${cfg.memory.hibernateWaitMs / 1000} s for hibernation`);
      const m = await idleMemory(pid, before, session.dm, listeners, cfg.memory);
      results.memory = m;
      if (m.sockets_open_after_wait !== n) results.violations.push(`memory: only ${m.sockets_open_after_wait}/${n} sockets survived the idle wait`);
    } finally {
      await Promise.all([...listeners, session.dm].map((c) => c.close()));
    }
  }
}

/** Starts an optional peer; a failure becomes a note and the bench goes on without it. */
async function tryPeer(what: string, start: () => Promise<Peer>): Promise<Peer | string> {
  try {
    log(`starting ${what}`);
    return await start();
  } catch (err) {
    return `${what} did not start (${String(err).split("\n")[0]})`;
  }
}

/**
 * The engine beside the raw Durable Object floor, the floor + D1 control and the Agents SDK, same
 * workloads and client code, in this run. Without a peer the others are still measured, with a note
 * instead of its ratios.
 */
async function versus(engine: LocalEngine, cfg: BenchConfig, results: BenchResults): Promise<void> {
  const peers: Peer[] = [];
  const targets: Target[] = [];
  /** A started peer joins the targets; else the reason it did not becomes its note. */
  const enlist = (name: PeerName, started: Peer | string, label: string): string | undefined => {
    if (typeof started === "string") return `note: ${started}: no engine/${label} ratios`;
    peers.push(started);
    targets.push(peerTarget(name, started));
    return undefined;
  };
  const source = floorSource();
  const floor = source
    ? await tryPeer("the floor", () => startFloor(source))
    : "no floor found (../shared/bench-floor next to the checkout, or WRLDBLDR_BENCH_FLOOR)";
  results.floor_note = enlist("floor", floor, "floor");
  const skipD1 = floorD1SkipReason(process.env, FLOOR_D1_SOURCE);
  const floorD1 = skipD1 ? `the floor + D1 control ${skipD1}` : await tryPeer("the floor + D1 control", () => startFloorD1());
  results.floor_d1_note = enlist("floor_d1", floorD1, "floor+D1");
  const skip = agentsPeerSkipReason(process.env, AGENTS_PEER_SOURCE);
  const agents = skip ? `the Agents SDK peer ${skip}` : await tryPeer("the Agents SDK peer", () => startAgentsPeer(log));
  results.agents_note = enlist("agents", agents, "agents");
  for (const note of [results.floor_note, results.floor_d1_note, results.agents_note]) if (note) log(note);
  targets.push(engineTarget(engine.url));
  try {
    results.versus = await versusFloor(targets, cfg.versus, log);
    results.violations.push(...results.versus.violations);
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
  }
}

const WORKLOADS = ["round-trips", "fanout", "throughput", "versus"] as const;
type Workload = (typeof WORKLOADS)[number];

/** `--only a,b`: a subset of the workloads (fanout includes the memory figures). */
function selectedWorkloads(): Set<Workload> {
  const i = process.argv.indexOf("--only");
  if (i < 0) return new Set(WORKLOADS);
  const names = (process.argv[i + 1] ?? "").split(",");
  const unknown = names.filter((n) => !(WORKLOADS as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`--only: unknown workload(s) ${unknown.join(", ")}; choose from ${WORKLOADS.join(", ")}`);
  return new Set(names as Workload[]);
}

async function main(): Promise<number> {
  const cfg = process.argv.includes("--quick") ? QUICK : FULL;
  const only = selectedWorkloads();
  const results: BenchResults = {
    started_at: new Date().toISOString(),
    config: cfg,
    machine: { node: process.version, cpus: cpus().length, loadavg_at_start: loadavg().map((x) => Math.round(x * 100) / 100) },
    vars: BENCH_VARS,
    source: sourceRoot(),
    fanout: [],
    throughput: [],
    violations: [],
  };
  log(`${cfg.mode} run; starting the engine`);
  await withEngine(async (engine) => {
    if (only.has("round-trips")) {
      log("round trips");
      results.round_trips = await roundTrips(engine.url, cfg.roundTrips);
    }
    if (only.has("fanout")) await fanoutAndMemory(engine, cfg, results);
    for (const kind of only.has("throughput") ? (["read", "write"] as const) : []) {
      log(`throughput: ${kind}`);
      results.throughput.push(await throughput(engine.url, { kind, ...cfg.throughput }));
    }
    if (only.has("versus")) await versus(engine, cfg, results);
  });
  const file = writeResults(results);
  console.log(renderTable(results));
  console.log(`\n${bundleSizeLine()}`);
  console.log(`results: ${file}`);
  return results.violations.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
