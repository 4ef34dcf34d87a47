import { ERROR_CATALOGUE } from "../protocol/constants";
import type { ErrorBody } from "../protocol/errors";
import type { Result, ServerFrame } from "../protocol/envelope";
import type { AuthGrant } from "../protocol/http";

/**
 * Light, hand-written checks of what the server sends. The types still come from the zod schemas
 * of src/protocol (`import type`), but zod itself stays out of the SDK's runtime: a browser bundle
 * would otherwise carry ~90 kB gzipped of it. The checks cover what the SDK relies on (the frame
 * kind and the fields it reads); payloads inside events and results are the server's contract.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === "string";
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isOptional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v);

export function isErrorCode(v: unknown): v is ErrorBody["code"] {
  return isString(v) && Object.hasOwn(ERROR_CATALOGUE, v);
}

export function isErrorBody(v: unknown): v is ErrorBody {
  return isObject(v) && isErrorCode(v.code) && isString(v.message) && typeof v.retryable === "boolean" && isOptional(v.details, isObject);
}

export function isResult(v: unknown): v is Result {
  if (!isObject(v)) return false;
  if (v.status === "success") return "data" in v && isOptional(v.replayed, (r) => r === true);
  return v.status === "error" && isErrorBody(v);
}

export function isAuthGrant(v: unknown): v is AuthGrant {
  return (
    isObject(v) &&
    isString(v.session_id) &&
    isString(v.world_id) &&
    isString(v.participant_id) &&
    isString(v.token) &&
    isString(v.ws_url) &&
    (v.role === "dm" || v.role === "player" || v.role === "spectator") &&
    isInt(v.expires_at)
  );
}

/** Each server frame kind, with the fields the SDK reads. */
const FRAME_CHECKS: Record<ServerFrame["type"], (f: Json) => boolean> = {
  Response: (f) => isString(f.request_id) && (f.result === undefined ? isInt(f.chunks) : isResult(f.result)),
  ResponseChunk: (f) => isString(f.request_id) && isInt(f.index) && isInt(f.total) && isString(f.data),
  Event: (f) => isInt(f.seq) && isObject(f.event) && isString(f.event.type) && isObject(f.cause),
  SessionJoined: (f) =>
    isString(f.session_id) && isObject(f.participant) && Array.isArray(f.participants) && isInt(f.seq) && (f.resume === "replayed" || f.resume === "snapshot"),
  Stream: (f) => isString(f.stream_id) && isInt(f.index) && isString(f.delta) && typeof f.done === "boolean",
  Error: (f) => isErrorCode(f.code) && isString(f.message) && isOptional(f.retryable, (r) => typeof r === "boolean") && isOptional(f.details, isObject),
};

/** The frame, or a sentence saying why it is not one the SDK understands. */
export function parseServerFrame(v: unknown): ServerFrame | string {
  if (!isObject(v) || !isString(v.type)) return "not a frame object with a type";
  const check = FRAME_CHECKS[v.type as ServerFrame["type"]];
  if (!check) return `unknown frame type '${v.type}'`;
  return check(v) ? (v as ServerFrame) : `malformed ${v.type} frame`;
}
