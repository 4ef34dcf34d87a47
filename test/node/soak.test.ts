/**
 * The quick soak (issue 5): a few SDK clients for a few seconds, one cut of every connection and one
 * engine restart; then every acknowledged write is in D1 exactly once and every client saw every
 * event it may see exactly once, in order. The long one is `npm run soak`.
 */
import { describe, expect, it } from "vitest";
import { checkSequence, isClean } from "../../bench/lib/sequence-check";
import { runSoak } from "../../bench/lib/soak/run-soak";
import type { Ledger } from "../../bench/lib/soak/soak-client";
import { verifySoak, type StoredRows } from "../../bench/lib/soak/verify";

describe("quick soak: cut + restart under load", () => {
  it("loses nothing and duplicates nothing", async () => {
    const report = await runSoak({
      clients: 4,
      durationMs: 6_000,
      pauseMs: [50, 300],
      cuts: 1,
      cutFraction: 1,
      restartAt: 0.6,
      drainMs: 20_000,
      seed: 5,
    });
    expect(report.verdict.violations).toEqual([]);
    expect(report.faults).toMatchObject({ cuts: 1, restarts: 1 });
    expect(report.faults.connections_cut).toBeGreaterThanOrEqual(4);
    const c = report.verdict.checked;
    // First joins, then a resume after the cut and another after the restart, for every client.
    expect(c.joins).toBeGreaterThanOrEqual(4 * 3);
    expect(c.acknowledged_writes).toBeGreaterThan(4);
    expect(c.unanswered_writes).toBe(0);
    expect(c.events_expected).toBeGreaterThan(0);
    expect(report.verdict.delivered.received).toBe(c.events_expected);
    expect(isClean(report.verdict.wire)).toBe(true);
  });
});

describe("the soak's verifier", () => {
  const pid = "p-1";
  const rows = (): StoredRows => ({
    characters: [{ id: "c1", owner_participant_id: pid, version: 2 }],
    items: [{ id: "i1", character_id: "c1", name: "a" }],
    events: [
      { seq: 1, audience: "all", recipients: null, cause_request_id: "r1" },
      { seq: 2, audience: "all", recipients: null, cause_request_id: "r2" },
      { seq: 3, audience: "dm", recipients: null, cause_request_id: null },
      { seq: 4, audience: "all", recipients: null, cause_request_id: "r3" },
    ],
    requests: ["r1", "r2", "r3"].map((request_id) => ({ participant_id: pid, request_id })),
  });
  const ledger = (): Ledger => ({
    participant_id: pid,
    character_id: "c1",
    acked_writes: ["r1", "r2", "r3"],
    acked_items: [{ request_id: "r2", item_id: "i1", name: "a" }],
    acked_updates: 1,
    unanswered: [],
    replayed: 0,
    reads: 0,
    errors: [],
    first_join_seq: 0,
    joins: 1,
    snapshot_resumes: 0,
    delivered: [1, 2, 4],
    raw: [1, 2, 4],
    raw_socket: [1, 1, 2],
    late_frames: 0,
    heartbeat_timeouts: 0,
  });

  it("accepts a consistent run", () => {
    expect(verifySoak([ledger()], rows(), 4).violations).toEqual([]);
  });

  it("flags a duplicated or missing delivery, a DM-only event sent to a player, a write stored twice or unanswered", () => {
    const dup = { ...ledger(), delivered: [1, 2, 2, 4] };
    expect(verifySoak([dup], rows(), 4).violations.join()).toMatch(/SDK delivered/);
    const missing = { ...ledger(), raw: [1, 4], raw_socket: [1, 2] };
    expect(verifySoak([missing], rows(), 4).violations.join()).toMatch(/server sent/);
    const leaked = { ...ledger(), raw: [1, 2, 3, 4], raw_socket: [1, 1, 1, 2] };
    expect(verifySoak([leaked], rows(), 4).violations.join()).toMatch(/"unexpected":1.*socket 1: seq 1\.\.3 \(3 frames\), socket 2: seq 4\.\.4/);
    const twice = rows();
    twice.items.push({ id: "i2", character_id: "c1", name: "a" });
    expect(verifySoak([ledger()], twice, 4).violations.join()).toMatch(/stored 2×/);
    const unanswered = { ...ledger(), unanswered: [{ request_id: "r9", type: "UpdateCharacter" }] };
    expect(verifySoak([unanswered], rows(), 4).violations.join()).toMatch(/unanswered/);
    const updatedTwice = rows();
    updatedTwice.characters[0]!.version = 3;
    expect(verifySoak([ledger()], updatedTwice, 4).violations.join()).toMatch(/version 3, expected 2/);
  });

  it("checkSequence counts each kind of fault", () => {
    expect(checkSequence([1, 2, 3], [1, 3, 2, 3, 9])).toEqual({ expected: 3, received: 5, missing: 0, duplicates: 1, out_of_order: 1, unexpected: 1 });
  });
});
