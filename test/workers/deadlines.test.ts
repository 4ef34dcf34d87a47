import { afterEach, describe, expect, it, vi } from "vitest";
import { Deadlines } from "../../src/session/deadlines";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const late = () => new Error("late");

afterEach(() => vi.restoreAllMocks());

describe("Deadlines (handler timeouts on one timer)", () => {
  it("passes the work's value or error through; fails work still running after its time with onTimeout()", async () => {
    const d = new Deadlines(10);
    await expect(d.race(1000, Promise.resolve(7), late)).resolves.toBe(7);
    await expect(d.race(1000, Promise.reject(new Error("own")), late)).rejects.toThrow("own");
    const started = Date.now();
    await expect(d.race(40, sleep(5_000), late)).rejects.toThrow("late");
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  it("among requests in progress together only the late ones fail", async () => {
    const d = new Deadlines(10);
    const results = await Promise.allSettled([
      d.race(
        60,
        sleep(5).then(() => "quick"),
        late,
      ),
      d.race(
        60,
        sleep(2_000).then(() => "slow"),
        late,
      ),
      d.race(
        2_000,
        sleep(100).then(() => "slow but allowed"),
        late,
      ),
    ]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual(["quick", "late", "slow but allowed"]);
  });

  it("arms one timer for many requests, not one each, and stops ticking when none is left (an idle object may hibernate)", async () => {
    const d = new Deadlines(20);
    const spy = vi.spyOn(globalThis, "setTimeout");
    for (let i = 0; i < 50; i++) await d.race(1000, Promise.resolve(i), late);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    await sleep(60); // the tick finds nothing open and does not arm again
    const after = vi.spyOn(globalThis, "setTimeout");
    await sleep(60);
    expect(after).toHaveBeenCalledTimes(1); // only this test's own sleep
  });
});
