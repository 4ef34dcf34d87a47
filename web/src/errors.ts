import { isWrldbldrError, type ErrorCode } from "../../src/client";

/** Each code of the closed catalogue in words a player understands; the server's message follows. */
const WORDS: Record<ErrorCode, string> = {
  BAD_FRAME: "The app sent something the engine could not read.",
  VALIDATION_ERROR: "Some input is not valid.",
  UNKNOWN_REQUEST: "The engine does not know this action.",
  UNAUTHENTICATED: "You are not signed in to this session (the link may be too old).",
  FORBIDDEN: "You are not allowed to do that.",
  NOT_FOUND: "That no longer exists.",
  CONFLICT: "Someone changed this at the same time; your change was undone.",
  PAYLOAD_TOO_LARGE: "That is too large.",
  RATE_LIMITED: "Too many actions at once; slow down a little.",
  TIMEOUT: "The engine took too long to answer.",
  UNAVAILABLE: "The engine cannot be reached right now.",
  INTERNAL: "Something went wrong in the engine.",
};

export function describeError(err: unknown): string {
  if (isWrldbldrError(err)) return `${WORDS[err.code]} (${err.message})`;
  return err instanceof Error ? err.message : String(err);
}
