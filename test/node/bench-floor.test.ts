import { afterEach, describe, expect, it } from "vitest";
import { renderVersus } from "../../bench/lib/bench-report";
import { floorSource } from "../../bench/lib/floor";
import type { VersusFigures } from "../../bench/lib/workloads/versus-floor";

const s = (p50: number) => ({ n: 10, p50, p99: p50 * 2, mean: p50, max: p50 * 3 });
const figures = (scale: number): VersusFigures => ({
  ping: s(0.2 * scale),
  write: s(0.5 * scale),
  throughput: { clients: 8, in_flight_per_client: 16, writes_per_s: Math.round(1000 / scale), requests: 100, errors: {}, latency: s(10 * scale) },
  fanout: [10, 100, 500].map((sockets) => ({ sockets, latency: s(sockets / 10 * scale) })),
});

describe("bench: the engine beside the floor", () => {
  const saved = process.env.WRLDBLDR_BENCH_FLOOR;
  afterEach(() => {
    if (saved === undefined) delete process.env.WRLDBLDR_BENCH_FLOOR;
    else process.env.WRLDBLDR_BENCH_FLOOR = saved;
  });

  it("no floor where it is looked for: none is found, and the table says so instead of printing ratios", () => {
    process.env.WRLDBLDR_BENCH_FLOOR = "/nonexistent/bench-floor";
    expect(floorSource()).toBeNull();
    const table = renderVersus({ engine: figures(1), violations: [] }, "note: no floor found");
    expect(table).toContain("n/a");
    expect(table).not.toMatch(/\d×/);
    expect(table).toContain("note: no floor found");
  });

  it("with the floor, each engine figure is printed as its ratio to the floor's", () => {
    const table = renderVersus({ floor: figures(1), engine: figures(2), violations: [] });
    const row = (name: string) => table.split("\n").find((l) => l.startsWith(name)) ?? "";
    expect(row("ping round trip")).toContain("2.00×");
    expect(row("fan-out N=500")).toContain("2.00×");
    expect(row("write throughput")).toContain("0.50×"); // half the floor's writes per second
  });
});
