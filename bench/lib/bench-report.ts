/** The bench's results: the JSON written under bench/results/ and the table printed. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchConfig } from "./bench-config";
import type { Summary } from "./stats";
import { formatTable, ms } from "./table";
import type { FanoutResult } from "./workloads/fanout";
import type { IdleMemoryResult } from "./workloads/idle-memory";
import type { RoundTripResults } from "./workloads/round-trips";
import type { ThroughputResult } from "./workloads/throughput";
import type { VersusFigures, VersusResults } from "./workloads/versus-floor";

export interface BenchResults {
  started_at: string;
  config: BenchConfig;
  machine: { node: string; cpus: number; loadavg_at_start: number[] };
  vars: Record<string, string>;
  /** The repository whose engine was measured (WRLDBLDR_BENCH_SOURCE, or this checkout). */
  source: string;
  round_trips?: RoundTripResults;
  fanout: FanoutResult[];
  throughput: ThroughputResult[];
  memory?: IdleMemoryResult;
  /** The engine beside the raw Durable Object floor, the floor + D1 and the Agents SDK; a note says why a peer is missing. */
  versus?: VersusResults;
  floor_note?: string;
  floor_d1_note?: string;
  agents_note?: string;
  violations: string[];
}

const RESULTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "results");

export function writeResults(r: BenchResults): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${r.started_at.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}

const latencyRow = (name: string, s: Summary, note = ""): string[] => [name, String(s.n), ms(s.p50), ms(s.p99), ms(s.mean), note];

export function renderTable(r: BenchResults): string {
  const rows: string[][] = [];
  const rt = r.round_trips;
  if (rt) {
    rows.push(latencyRow("WS Ping", rt.ws_ping, "router only, no storage"));
    rows.push(latencyRow("WS GetCharacter", rt.ws_get_character, "served from the object's read cache"));
    rows.push(latencyRow("HTTP GET /health keep-alive", rt.http_health_keepalive, "1 D1 read (SELECT 1)"));
    rows.push(latencyRow("HTTP GET /health new conn", rt.http_health_new_connection, "TCP connect + 1 D1 read"));
    rows.push(latencyRow("WS UpdateCharacter", rt.ws_update_character, "cached read + 1 D1 batch"));
  }
  for (const f of r.fanout) {
    const d = f.delivery;
    rows.push(
      latencyRow(
        `fan-out N=${f.sockets}`,
        f.latency,
        `send→last socket; ${d.received}/${d.expected} events, ${d.missing} missing, ${d.duplicates} dup, ${d.out_of_order} out of order`,
      ),
    );
  }
  for (const t of r.throughput) {
    const errs =
      Object.entries(t.errors_by_code)
        .map(([k, v]) => `${k}:${v}`)
        .join(" ") || "none";
    rows.push(latencyRow(`throughput ${t.kind} ${t.clients}x${t.in_flight_per_client}`, t.latency, `${t.req_per_s} req/s, ${t.requests} req, errors ${errs}`));
  }
  const out = rows.length ? [formatTable(["workload", "n", "p50 ms", "p99 ms", "mean ms", "note"], rows)] : [];
  const m = r.memory;
  if (m) {
    const rss = (s: { rss_mib: number } | null) => (s ? `${s.rss_mib} MiB` : "n/a");
    out.push(
      "",
      formatTable(
        [`memory (user workerd RSS, pid ${m.workerd_pid})`, "value"],
        [
          ["before the sockets connect", rss(m.before_connect)],
          [`with ${m.idle_sockets} idle sockets`, rss(m.with_idle_sockets)],
          [`after ${m.hibernation_wait_ms / 1000} s idle (hibernation)`, rss(m.after_hibernation_wait)],
          ["sockets still open after the wait", `${m.sockets_open_after_wait}/${m.idle_sockets}`],
          ["first Ping after the wait (wake-up)", `${ms(m.wake_ping_ms)} ms`],
          ["Pings right after (p50)", `${ms(m.warm_ping.p50)} ms`],
        ],
      ),
    );
  }
  if (r.versus) out.push(...(out.length ? [""] : []), renderVersus(r.versus, [r.floor_note, r.floor_d1_note, r.agents_note]));
  if (r.violations.length) out.push("", "VIOLATIONS:", ...r.violations.map((v) => `  - ${v}`));
  return out.join("\n");
}

const errorList = (e: Record<string, number>) =>
  Object.entries(e)
    .map(([k, v]) => `${k}:${v}`)
    .join(" ") || "none";

/** engine / peer, e.g. "4.3×"; for throughput (higher is better) the same quotient, read as a share. */
const ratio = (engine: number, peer: number | undefined): string =>
  peer === undefined || !Number.isFinite(engine / peer) ? "n/a" : `${(engine / peer).toFixed(2)}×`;

/** The peers in column order, each with the label its columns carry. */
const PEERS = [
  ["floor", "floor"],
  ["floor_d1", "floor+D1"],
  ["agents", "agents"],
] as const;

/**
 * The engine beside its peers (the raw DO floor, the floor + D1 control, the Agents SDK): each figure
 * of each target, and each engine figure's ratio to each peer's, all measured in the same run. A
 * missing peer's columns say n/a, and its note (why it is missing) follows the table.
 */
export function renderVersus(v: VersusResults, notes: (string | undefined)[] = []): string {
  const e = v.engine;
  if (!e) return "";
  const peers = PEERS.map(([name]) => v[name]);
  const rows: string[][] = [];
  const lat = (name: string, pick: (f: VersusFigures) => Summary | undefined, note = "") => {
    const es = pick(e)!;
    const ps = peers.map((p) => (p ? pick(p) : undefined));
    const figure = (s: Summary | undefined, k: "p50" | "p99") => (s ? ms(s[k]) : "n/a");
    rows.push([
      name,
      ...ps.map((s) => figure(s, "p50")),
      ms(es.p50),
      ...ps.map((s) => ratio(es.p50, s?.p50)),
      ...ps.map((s) => figure(s, "p99")),
      ms(es.p99),
      note,
    ]);
  };
  lat("ping round trip", (f) => f.ping);
  lat("write round trip, one client", (f) => f.write, "a ~100-byte row + its event");
  const et = e.throughput;
  const pt = peers.map((p) => p?.throughput);
  // Named per target only when there are any: four "none"s would set the note column's width.
  const measured = [...PEERS.map(([, label], i) => [label, pt[i]] as const), ["engine", et] as const].flatMap(([name, t]) => (t ? [[name, t] as const] : []));
  const errors = measured.every(([, t]) => Object.keys(t.errors).length === 0)
    ? "none"
    : measured.map(([name, t]) => `${name} ${errorList(t.errors)}`).join(", ");
  rows.push([
    `write throughput ${et.clients}x${et.in_flight_per_client} (writes/s)`,
    ...pt.map((t) => (t ? String(t.writes_per_s) : "n/a")),
    String(et.writes_per_s),
    ...pt.map((t) => ratio(et.writes_per_s, t?.writes_per_s)),
    ...pt.map(() => ""),
    "",
    `errors: ${errors}`,
  ]);
  lat(`  its write latency`, (f) => f.throughput.latency, "under that load");
  for (const fo of e.fanout) {
    const size = (f: VersusFigures) => f.fanout.find((x) => x.sockets === fo.sockets);
    const frames = [...peers, e].map((f) => (f ? String(size(f)?.event_frame_chars ?? "?") : "-")).join("/");
    lat(`fan-out N=${fo.sockets}`, (f) => size(f)?.latency, `send → last socket; frame ${frames} chars`);
    lat(`fan-out N=${fo.sockets}, broadcast only`, (f) => size(f)?.broadcast, "writer's Response → last socket");
  }
  const labels = PEERS.map(([, label]) => label);
  const head = [
    "engine vs its peers",
    ...labels.map((p) => `${p} p50`),
    "engine p50",
    ...labels.map((p) => `engine/${p}`),
    ...labels.map((p) => `${p} p99`),
    "engine p99",
    "note",
  ];
  return [formatTable(head, rows), ...notes.filter((n): n is string => !!n)].join("\n");
}
