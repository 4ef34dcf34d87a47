/** Bindings and vars of the Worker and the GameSession object (wrangler.toml). */
export interface Env {
  DB: D1Database;
  IMAGES: R2Bucket;
  /** Typed where it is used (src/worker/auth.ts), so this file stays a leaf of the import graph. */
  GAME_SESSION: DurableObjectNamespace;
  AUTH_SECRET?: string;
  METRICS_TOKEN?: string;
  SESSION_CREATE_SECRET?: string;
  TOKEN_TTL_SECONDS?: string;
  TOKEN_REFRESH_GRACE_SECONDS?: string;
  MAX_FRAME_BYTES?: string;
  MAX_BATCH_FRAME_BYTES?: string;
  MAX_OUTBOUND_FRAME_BYTES?: string;
  RATE_LIMIT_PER_SECOND?: string;
  RATE_LIMIT_BURST?: string;
  MAX_SOCKETS_PER_SESSION?: string;
  HANDLER_TIMEOUT_MS?: string;
  EVENT_LOG_MIN_EVENTS?: string;
  EVENT_LOG_MIN_AGE_SECONDS?: string;
  REQUEST_LOG_TTL_SECONDS?: string;
  JOIN_TIMEOUT_MS?: string;
  OUTBOUND_BURST_BYTES?: string;
  OUTBOUND_BYTES_PER_SECOND?: string;
  JOB_TIMEOUT_MS?: string;
  JOB_MAX_ATTEMPTS?: string;
  DUTY_MAX_ATTEMPTS?: string;
}

/** Numeric settings with their DESIGN.md §6 defaults; vars override them per deployment. */
export function limits(env: Env) {
  const n = (v: string | undefined, d: number) => {
    const x = Number(v);
    return v !== undefined && v !== "" && Number.isFinite(x) && x >= 0 ? x : d;
  };
  return {
    tokenTtlSeconds: n(env.TOKEN_TTL_SECONDS, 3600),
    refreshGraceSeconds: n(env.TOKEN_REFRESH_GRACE_SECONDS, 7 * 86400),
    maxFrameBytes: n(env.MAX_FRAME_BYTES, 64 * 1024),
    maxBatchFrameBytes: n(env.MAX_BATCH_FRAME_BYTES, 1024 * 1024),
    maxOutboundFrameBytes: n(env.MAX_OUTBOUND_FRAME_BYTES, 1024 * 1024),
    ratePerSecond: n(env.RATE_LIMIT_PER_SECOND, 50),
    rateBurst: n(env.RATE_LIMIT_BURST, 100),
    maxSockets: n(env.MAX_SOCKETS_PER_SESSION, 1000),
    handlerTimeoutMs: n(env.HANDLER_TIMEOUT_MS, 10_000),
    eventLogMinEvents: n(env.EVENT_LOG_MIN_EVENTS, 10_000),
    eventLogMinAgeMs: n(env.EVENT_LOG_MIN_AGE_SECONDS, 7 * 86400) * 1000,
    requestLogTtlMs: n(env.REQUEST_LOG_TTL_SECONDS, 86400) * 1000,
    /** A socket that has not sent JoinSession by then is closed (4008). */
    joinTimeoutMs: n(env.JOIN_TIMEOUT_MS, 10_000),
    /** Outbound budget per socket (token bucket of bytes): a socket over it is closed (4009). */
    outboundBurstBytes: n(env.OUTBOUND_BURST_BYTES, 16 * 1024 * 1024),
    outboundBytesPerSecond: n(env.OUTBOUND_BYTES_PER_SECOND, 1024 * 1024),
    /** A job still running after this long is aborted and failed (TIMEOUT). */
    jobTimeoutMs: n(env.JOB_TIMEOUT_MS, 5 * 60_000),
    /** Runs of one job (first run + resumes after restarts) before it is failed. */
    jobMaxAttempts: n(env.JOB_MAX_ATTEMPTS, 3),
    /** Tries of a failing scheduled duty (with exponential backoff) before it is dropped and logged. */
    dutyMaxAttempts: n(env.DUTY_MAX_ATTEMPTS, 5),
  };
}
export type Limits = ReturnType<typeof limits>;
