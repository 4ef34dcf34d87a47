import { describe, expect, it } from "vitest";
import { summarizeProfile, type CpuProfile } from "../../bench/lib/inspector";

const frame = (functionName: string, url = "", lineNumber = 0) => ({ functionName, url, lineNumber });

describe("bench:profile summary", () => {
  it("sums self time per function, heaviest first, and counts everything but (idle) as busy", () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame("(idle)") },
        { id: 2, callFrame: frame("broadcast", "file:///x/index.js", 41) },
        { id: 3, callFrame: frame("", "file:///x/index.js", 9) },
      ],
      samples: [1, 2, 2, 3, 1, 2],
      timeDeltas: [4000, 1000, 2000, 500, 4000, 1000],
    };
    const s = summarizeProfile(profile);
    expect(s.totalMs).toBe(12.5);
    expect(s.busyMs).toBe(4.5);
    expect(s.functions.map((f) => [f.name, f.ms])).toEqual([
      ["(idle)", 8],
      ["broadcast index.js:42", 4],
      ["(anonymous) index.js:10", 0.5],
    ]);
    expect(s.functions[1]!.share).toBeCloseTo(4 / 12.5);
  });
});
