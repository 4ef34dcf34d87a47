/**
 * Protocol constants that need no zod: the client SDK imports them at runtime without pulling
 * zod into a browser bundle (envelope.ts and errors.ts re-export them for everyone else).
 */

/** WebSocket subprotocol the server selects; the token travels as `bearer.<token>`. */
export const WS_SUBPROTOCOL = "wrldbldr.v1";

/** Close codes the server uses, so clients can tell "stop" from "retry". */
export const CLOSE_CODES = {
  UNAUTHENTICATED: 4001,
  KICKED: 4003,
  /** No JoinSession within JOIN_TIMEOUT_MS of the upgrade: reconnect and join at once. */
  JOIN_TIMEOUT: 4008,
  /** More was queued for this socket than its outbound budget allows: reconnect and resume. */
  OUTBOUND_BACKLOG: 4009,
  /** The participant opened a socket while at its cap: this one, silent for a minute, gave way. */
  REPLACED: 4010,
  SESSION_FULL: 4029,
} as const;

/**
 * The closed error catalogue (DESIGN.md §1). Each code has a fixed `retryable` flag and the HTTP
 * status used when the same error is returned by an HTTP route.
 */
export const ERROR_CATALOGUE = {
  BAD_FRAME: { retryable: false, status: 400 },
  VALIDATION_ERROR: { retryable: false, status: 400 },
  UNKNOWN_REQUEST: { retryable: false, status: 400 },
  UNAUTHENTICATED: { retryable: false, status: 401 },
  FORBIDDEN: { retryable: false, status: 403 },
  NOT_FOUND: { retryable: false, status: 404 },
  CONFLICT: { retryable: false, status: 409 },
  PAYLOAD_TOO_LARGE: { retryable: false, status: 413 },
  RATE_LIMITED: { retryable: true, status: 429 },
  TIMEOUT: { retryable: true, status: 504 },
  UNAVAILABLE: { retryable: true, status: 503 },
  INTERNAL: { retryable: true, status: 500 },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
