import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { agentsPeerSkipReason, cachedInstall, installKey } from "../../bench/lib/agents-peer";
import { renderVersus } from "../../bench/lib/bench-report";
import { floorSource } from "../../bench/lib/floor";
import { FLOOR_D1_SOURCE, floorD1SkipReason } from "../../bench/lib/floor-d1";
import type { VersusFigures } from "../../bench/lib/workloads/versus-floor";

const s = (p50: number) => ({ n: 10, p50, p99: p50 * 2, mean: p50, max: p50 * 3 });
const figures = (scale: number): VersusFigures => ({
  ping: s(0.2 * scale),
  write: s(0.5 * scale),
  throughput: { clients: 8, in_flight_per_client: 16, writes_per_s: Math.round(1000 / scale), requests: 100, errors: {}, latency: s(10 * scale) },
  fanout: [10, 100, 500].map((sockets) => ({
    sockets,
    latency: s((sockets / 10) * scale),
    broadcast: s((sockets / 20) * scale),
    event_frame_chars: 100 * scale,
  })),
});

/** The table's cells of the row named exactly `name` (cells are separated by two or more spaces). */
const cells = (table: string, name: string): string[] =>
  table
    .split("\n")
    .map((l) => l.split(/\s{2,}/).map((c) => c.trim()))
    .find((c) => c[0] === name) ?? [];
const header = (table: string) =>
  table
    .split("\n")[0]!
    .split(/\s{2,}/)
    .map((c) => c.trim());
/** The cell of row `name` under column `column`. */
const cell = (table: string, name: string, column: string) => cells(table, name)[header(table).indexOf(column)];

describe("bench: the engine beside the floor and the Agents SDK", () => {
  const saved = process.env.WRLDBLDR_BENCH_FLOOR;
  afterEach(() => {
    if (saved === undefined) delete process.env.WRLDBLDR_BENCH_FLOOR;
    else process.env.WRLDBLDR_BENCH_FLOOR = saved;
  });

  it("no floor where it is looked for: none is found, and the table says so instead of printing ratios", () => {
    process.env.WRLDBLDR_BENCH_FLOOR = "/nonexistent/bench-floor";
    expect(floorSource()).toBeNull();
    const table = renderVersus({ engine: figures(1), violations: [] }, ["note: no floor found", undefined]);
    expect(table).toContain("n/a");
    expect(table).not.toMatch(/\d×/);
    expect(table).toContain("note: no floor found");
  });

  it("with all three peers, each engine figure is printed beside theirs with its ratio to each", () => {
    const table = renderVersus({ floor: figures(1), floor_d1: figures(1.25), agents: figures(4), engine: figures(2), violations: [] });
    expect(header(table)).toEqual([
      "engine vs its peers",
      "floor p50",
      "floor+D1 p50",
      "agents p50",
      "engine p50",
      "engine/floor",
      "engine/floor+D1",
      "engine/agents",
      "floor p99",
      "floor+D1 p99",
      "agents p99",
      "engine p99",
      "note",
    ]);
    expect(cell(table, "ping round trip", "floor p50")).toBe("0.20");
    expect(cell(table, "ping round trip", "floor+D1 p50")).toBe("0.25");
    expect(cell(table, "ping round trip", "agents p50")).toBe("0.80");
    expect(cell(table, "ping round trip", "engine p50")).toBe("0.40");
    expect(cell(table, "ping round trip", "engine/floor")).toBe("2.00×");
    expect(cell(table, "ping round trip", "engine/floor+D1")).toBe("1.60×");
    expect(cell(table, "ping round trip", "engine/agents")).toBe("0.50×");
    expect(cell(table, "ping round trip", "floor+D1 p99")).toBe("0.50");
    expect(cell(table, "ping round trip", "agents p99")).toBe("1.60");
    expect(cell(table, "fan-out N=500", "engine/floor")).toBe("2.00×");
    expect(cell(table, "fan-out N=500", "engine/floor+D1")).toBe("1.60×");
    expect(cell(table, "fan-out N=500", "engine/agents")).toBe("0.50×");
    // Higher is better for throughput: the engine does half the floor's writes/s, 5/8 of floor+D1's, twice the SDK's.
    const throughput = "write throughput 8x16 (writes/s)";
    expect(cells(table, throughput).slice(1, 8)).toEqual(["1000", "800", "250", "500", "0.50×", "0.63×", "2.00×"]);
    expect(cells(table, throughput).at(-1)).toBe("errors: none");
  });

  it("names each target's errors once any target has some", () => {
    const engine = figures(2);
    engine.throughput.errors = { InternalError: 3 };
    const table = renderVersus({ floor: figures(1), floor_d1: figures(1.25), engine, violations: [] });
    expect(cells(table, "write throughput 8x16 (writes/s)").at(-1)).toBe("errors: floor none, floor+D1 none, engine InternalError:3");
  });

  it("prints a broadcast-only row per fan-out size, from the writer's Response to the last socket", () => {
    const table = renderVersus({ floor: figures(1), floor_d1: figures(1.25), agents: figures(4), engine: figures(2), violations: [] });
    for (const n of [10, 100, 500]) {
      expect(cells(table, `fan-out N=${n}`).at(-1)).toBe("send → last socket; frame 100/125/400/200 chars"); // floor/floor+D1/agents/engine
      expect(cells(table, `fan-out N=${n}, broadcast only`).at(-1)).toBe("writer's Response → last socket");
    }
    expect(cell(table, "fan-out N=500, broadcast only", "floor p50")).toBe("25.00");
    expect(cell(table, "fan-out N=500, broadcast only", "floor+D1 p50")).toBe("31.25");
    expect(cell(table, "fan-out N=500, broadcast only", "engine/floor+D1")).toBe("1.60×");
    expect(cell(table, "fan-out N=500, broadcast only", "agents p50")).toBe("100.00");
    expect(cell(table, "fan-out N=500, broadcast only", "engine p50")).toBe("50.00");
    expect(cell(table, "fan-out N=500, broadcast only", "engine/agents")).toBe("0.50×");
  });

  it("without the Agents SDK peer: its note, n/a in its columns, no engine/agents ratio, floor ratios kept", () => {
    const table = renderVersus({ floor: figures(1), floor_d1: figures(1.25), engine: figures(2), violations: [] }, [
      undefined,
      undefined,
      "note: the Agents SDK peer skipped (WRLDBLDR_BENCH_AGENTS=off): no engine/agents ratios",
    ]);
    for (const row of ["ping round trip", "write round trip, one client", "fan-out N=10", "fan-out N=500, broadcast only"]) {
      expect(cell(table, row, "agents p50")).toBe("n/a");
      expect(cell(table, row, "engine/agents")).toBe("n/a");
      expect(cell(table, row, "engine/floor")).toBe("2.00×");
      expect(cell(table, row, "engine/floor+D1")).toBe("1.60×");
    }
    expect(cells(table, "write throughput 8x16 (writes/s)").slice(1, 4)).toEqual(["1000", "800", "n/a"]);
    expect(cells(table, "fan-out N=10").at(-1)).toBe("send → last socket; frame 100/125/-/200 chars");
    expect(table.split("\n").at(-1)).toBe("note: the Agents SDK peer skipped (WRLDBLDR_BENCH_AGENTS=off): no engine/agents ratios");
  });

  it("without the floor + D1 control: its note, n/a in its columns, no engine/floor+D1 ratio, the other ratios kept", () => {
    const note = "note: the floor + D1 control did not start (Error: the floor-d1 peer did not answer): no engine/floor+D1 ratios";
    const table = renderVersus({ floor: figures(1), agents: figures(4), engine: figures(2), violations: [] }, [undefined, note, undefined]);
    expect(header(table)).toContain("engine/floor+D1"); // the column stays, so every run's table has the same shape
    for (const row of ["ping round trip", "write round trip, one client", "fan-out N=10", "fan-out N=500", "fan-out N=500, broadcast only"]) {
      expect(cell(table, row, "floor+D1 p50")).toBe("n/a");
      expect(cell(table, row, "floor+D1 p99")).toBe("n/a");
      expect(cell(table, row, "engine/floor+D1")).toBe("n/a");
      expect(cell(table, row, "engine/floor")).toBe("2.00×");
      expect(cell(table, row, "engine/agents")).toBe("0.50×");
    }
    expect(cell(table, "write throughput 8x16 (writes/s)", "engine/floor+D1")).toBe("n/a");
    expect(cells(table, "fan-out N=500").at(-1)).toBe("send → last socket; frame 100/-/400/200 chars");
    expect(table.split("\n").at(-1)).toBe(note);
  });
});

describe("bench: the floor + D1 control's skip", () => {
  it("runs from this repository's bench/peers/floor-d1 unless WRLDBLDR_BENCH_FLOOR_D1=off", () => {
    expect(floorD1SkipReason({}, FLOOR_D1_SOURCE)).toBeNull();
    expect(floorD1SkipReason({ WRLDBLDR_BENCH_FLOOR_D1: "on" }, FLOOR_D1_SOURCE)).toBeNull();
    for (const off of ["off", "OFF", "0", "false", "no"])
      expect(floorD1SkipReason({ WRLDBLDR_BENCH_FLOOR_D1: off }, FLOOR_D1_SOURCE)).toBe("skipped (WRLDBLDR_BENCH_FLOOR_D1=off)");
    expect(floorD1SkipReason({}, "/nonexistent/floor-d1")).toBe("not found at /nonexistent/floor-d1");
  });
});

describe("bench: the Agents SDK peer's install and skip", () => {
  const dir = mkdtempSync(join(tmpdir(), "wrldbldr-bench-agents-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const peer = join(dir, "peer");
  mkdirSync(peer);
  writeFileSync(join(peer, "wrangler.toml"), "");
  writeFileSync(join(peer, "package-lock.json"), "{}");

  it("is skipped by WRLDBLDR_BENCH_AGENTS=off, and when its folder is incomplete", () => {
    expect(agentsPeerSkipReason({}, peer)).toBeNull();
    expect(agentsPeerSkipReason({ WRLDBLDR_BENCH_AGENTS: "on" }, peer)).toBeNull();
    for (const off of ["off", "OFF", "0", "false"])
      expect(agentsPeerSkipReason({ WRLDBLDR_BENCH_AGENTS: off }, peer)).toBe("skipped (WRLDBLDR_BENCH_AGENTS=off)");
    expect(agentsPeerSkipReason({}, join(dir, "missing"))).toMatch(/^not found at /);
  });

  it("keys its install by the lock file's content", () => {
    const lock = JSON.stringify({ packages: { "node_modules/agents": { version: "0.32.0" } } });
    expect(installKey(lock)).toMatch(/^[0-9a-f]{16}$/);
    expect(installKey(lock)).toBe(installKey(lock));
    expect(installKey(lock.replace("0.32.0", "0.31.0"))).not.toBe(installKey(lock));
  });

  it("reuses an install only once it is complete (the package is in place)", () => {
    const cache = join(dir, "cache");
    const key = installKey("{}");
    expect(cachedInstall(cache, key)).toBeNull();
    mkdirSync(join(cache, key, "node_modules", "agents"), { recursive: true });
    expect(cachedInstall(cache, key)).toBeNull(); // an empty folder is not an install
    writeFileSync(join(cache, key, "node_modules", "agents", "package.json"), "{}");
    expect(cachedInstall(cache, key)).toBe(join(cache, key, "node_modules"));
    expect(cachedInstall(cache, installKey("{ }"))).toBeNull(); // another lock: installed anew
  });
});
