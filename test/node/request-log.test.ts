import { describe, expect, it } from "vitest";
import { SLOW_REQUEST_MS, requestLogPolicy } from "../../src/session/request-log";

describe("LOG_REQUESTS", () => {
  it("all, off, and errors (the default, also for values not understood): errors and slow requests", () => {
    expect(requestLogPolicy("all")("OK", 1)).toBe(true);
    expect(requestLogPolicy("off")("INTERNAL", 5_000)).toBe(false);
    for (const setting of [undefined, "", "errors", "sample:2", "verbose"]) {
      const policy = requestLogPolicy(setting);
      expect(policy("OK", 3)).toBe(false);
      expect(policy("CONFLICT", 3)).toBe(true);
      expect(policy("OK", SLOW_REQUEST_MS)).toBe(true);
    }
  });

  it("sample:<fraction> logs that fraction of the ordinary requests, and every error", () => {
    let r = 0;
    const random = () => (r = (r + 0.1) % 1); // 0.1, 0.2, … evenly spread
    const policy = requestLogPolicy("sample:0.25", random);
    const logged = Array.from({ length: 100 }, () => policy("OK", 2)).filter(Boolean).length;
    expect(logged).toBeGreaterThanOrEqual(20);
    expect(logged).toBeLessThanOrEqual(30);
    expect(requestLogPolicy("sample:0", () => 0.5)("OK", 2)).toBe(false);
    expect(requestLogPolicy("sample:0", () => 0.5)("RATE_LIMITED", 2)).toBe(true);
    expect(requestLogPolicy("sample:1", () => 0.99)("OK", 2)).toBe(true);
  });
});
