import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/engine";
import { isAuthGrant, isErrorBody, isResult, parseServerFrame } from "../../src/client/frames";
import { ServerFrameSchema } from "../../src/protocol/envelope";

/** The SDK's hand-written frame checks agree with the protocol's zod schemas on typical frames. */
const participant = { id: "p", version: 1, created_at: 1, updated_at: 1, name: "A", role: "dm", online: true, kicked: false };
const valid = [
  { type: "Response", request_id: "r1", result: { status: "success", data: { x: 1 } } },
  { type: "Response", request_id: "r1", result: { status: "success", data: null, replayed: true } },
  { type: "Response", request_id: "r1", result: { status: "error", code: "NOT_FOUND", message: "no", retryable: false } },
  { type: "Response", request_id: "r1", chunks: 2 },
  { type: "ResponseChunk", request_id: "r1", index: 0, total: 2, data: "{" },
  { type: "Event", seq: 3, event: { type: "CharacterDeleted", character_id: "c" }, cause: { request_id: null, participant_id: null } },
  { type: "SessionJoined", session_id: "s", world_id: "w", participant, participants: [participant], seq: 0, resume: "snapshot", replayed_events: 0 },
  { type: "Stream", stream_id: "s", index: 0, delta: "a", done: false },
  { type: "Error", code: "RATE_LIMITED", message: "slow down", retryable: true, details: { retry_after_ms: 5 } },
];
const invalid = [
  null,
  [],
  { type: "Nope" },
  { type: "Response", request_id: "r1", result: { status: "error", code: "NOT_A_CODE", message: "x", retryable: false } },
  { type: "Event", seq: "3", event: { type: "X" }, cause: {} },
  { type: "Event", seq: 3, event: {}, cause: {} },
  { type: "Error", code: "FORBIDDEN" },
  { type: "Stream", stream_id: "s", index: 0, delta: "a" },
];

describe("client frame checks", () => {
  it.each(valid)("accepts what the zod schema accepts: %j", (frame) => {
    expect(ServerFrameSchema.safeParse(frame).success).toBe(true);
    expect(parseServerFrame(frame)).toBe(frame);
  });

  it.each(invalid)("refuses with a reason what the zod schema refuses: %j", (frame) => {
    expect(ServerFrameSchema.safeParse(frame).success).toBe(false);
    expect(typeof parseServerFrame(frame)).toBe("string");
  });

  it("checks results, error bodies and grants", () => {
    expect(isResult({ status: "success" })).toBe(false);
    expect(isResult({ status: "success", data: 1 })).toBe(true);
    expect(isErrorBody({ code: "CONFLICT", message: "m", retryable: false })).toBe(true);
    expect(isErrorBody({ code: "CONFLICT", message: "m" })).toBe(false);
    const grant = { session_id: "s", world_id: "w", participant_id: "p", role: "player", token: "t", expires_at: 5, ws_url: "ws://x" };
    expect(isAuthGrant(grant)).toBe(true);
    expect(isAuthGrant({ ...grant, role: "king" })).toBe(false);
  });
});

describe("client runtime imports", () => {
  /** Protocol modules without imports of their own: constants and the generated operation kinds. */
  const ZOD_FREE = ["protocol/constants", "protocol/generated/operation-kinds"];

  it("take nothing from src/protocol but its zod-free modules (zod stays out of browser bundles)", () => {
    const dir = join(ROOT, "src", "client");
    const offenders: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(join(dir, file), "utf8");
      // Runtime imports: `import {` / `import x` / `export … from`, but not `import type` / `export type`.
      for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gms)) {
        const spec = m[1]!;
        if (spec === "zod" || (spec.includes("protocol") && !ZOD_FREE.some((m) => spec.endsWith(m)))) offenders.push(`${file}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
