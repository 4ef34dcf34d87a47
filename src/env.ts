/** Bindings and vars of the Worker and the GameSession object (wrangler.toml). */
export interface Env {
  DB: D1Database;
  IMAGES: R2Bucket;
  /** Typed where it is used (src/worker/auth.ts), so this file stays a leaf of the import graph. */
  GAME_SESSION: DurableObjectNamespace;
  /** Per-address token buckets of the /auth routes (src/worker/rate-limit.ts). */
  AUTH_RATE_LIMITER: DurableObjectNamespace;
  AUTH_SECRET?: string;
  METRICS_TOKEN?: string;
  SESSION_CREATE_SECRET?: string;
  /** "open": anyone may create sessions without SESSION_CREATE_SECRET (local runs, tests, bench). */
  SESSION_CREATION?: string;
  /** "off" lifts the per-address /auth limits (test harnesses driving hundreds of clients from one address). */
  AUTH_RATE_LIMITS?: string;
  AUTH_SESSIONS_PER_MINUTE?: string;
  AUTH_JOINS_PER_MINUTE?: string;
  AUTH_REFRESHES_PER_MINUTE?: string;
  TOKEN_TTL_SECONDS?: string;
  TOKEN_REFRESH_GRACE_SECONDS?: string;
  MAX_FRAME_BYTES?: string;
  MAX_BATCH_FRAME_BYTES?: string;
  MAX_OUTBOUND_FRAME_BYTES?: string;
  RATE_LIMIT_PER_SECOND?: string;
  RATE_LIMIT_BURST?: string;
  MAX_SOCKETS_PER_SESSION?: string;
  MAX_SOCKETS_PER_PARTICIPANT?: string;
  DM_RESERVED_SOCKETS?: string;
  MAX_INFLIGHT_PER_PARTICIPANT?: string;
  REPLAY_MAX_EVENTS?: string;
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
  /** Which requests are logged: all | errors | sample:<fraction> | off (src/session/request-log.ts). */
  LOG_REQUESTS?: string;
  /** LLM provider of NPC dialogue and its tunables: src/providers/llm/config.ts, docs/dialogue.md. */
  LLM_PROVIDER?: string;
  LLM_BASE_URL?: string;
  LLM_MODEL?: string;
  /** Secret (`wrangler secret put LLM_API_KEY`; locally .dev.vars or the environment of `npm start`). */
  LLM_API_KEY?: string;
  LLM_MAX_TOKENS?: string;
  LLM_TEMPERATURE?: string;
  LLM_FIRST_TOKEN_TIMEOUT_MS?: string;
  LLM_TOTAL_TIMEOUT_MS?: string;
  LLM_MAX_RETRIES?: string;
  LLM_RETRY_BASE_MS?: string;
  LLM_RETRY_MAX_MS?: string;
  LLM_BREAKER_FAILURES?: string;
  LLM_BREAKER_COOLDOWN_MS?: string;
  DIALOGUE_HISTORY_TOKENS?: string;
  /** The budget of outside work (LLM calls) of dialogue: see limits() and docs/dialogue.md. */
  DIALOGUE_CALLS_PER_MINUTE?: string;
  DIALOGUE_SESSION_CALLS_PER_MINUTE?: string;
  DIALOGUE_MAX_CONCURRENT?: string;
  DIALOGUE_SESSION_MAX_CONCURRENT?: string;
  DIALOGUE_MAX_ANSWER_CHARS?: string;
  DIALOGUE_MAX_STREAM_FRAMES?: string;
  /** Workers AI binding: only in [env.production] of wrangler.toml (it cannot run locally). */
  AI?: { run(model: string, inputs: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown> };
  /** Images (docs/images.md): "offline" (default: labelled placeholders) or "comfyui". */
  IMAGE_PROVIDER?: string;
  COMFYUI_URL?: string;
  /** The checkpoint the txt2img workflow loads (default v1-5-pruned-emaonly.safetensors). */
  COMFYUI_CHECKPOINT?: string;
  MAX_UPLOAD_BYTES?: string;
  ASSET_URL_TTL_SECONDS?: string;
  GENERATION_POLL_MS?: string;
  GENERATION_TIMEOUT_MS?: string;
  GENERATION_MAX_ACTIVE?: string;
  UPLOADS_PER_MINUTE?: string;
  UPLOAD_MAX_COUNT_PER_PARTICIPANT?: string;
  UPLOAD_MAX_BYTES_PER_PARTICIPANT?: string;
  SESSION_MAX_ASSETS?: string;
  SESSION_MAX_ASSET_BYTES?: string;
}

const n = (v: string | undefined, d: number) => {
  const x = Number(v);
  return v !== undefined && v !== "" && Number.isFinite(x) && x >= 0 ? x : d;
};

/** Requests per minute (and at once) per client address on each /auth route; 0 = unlimited. */
export function authLimits(env: Env) {
  const on = env.AUTH_RATE_LIMITS !== "off";
  return {
    sessions: on ? n(env.AUTH_SESSIONS_PER_MINUTE, 10) : 0,
    join: on ? n(env.AUTH_JOINS_PER_MINUTE, 30) : 0,
    refresh: on ? n(env.AUTH_REFRESHES_PER_MINUTE, 60) : 0,
  };
}

/** Numeric settings with their DESIGN.md §6 defaults; vars override them per deployment. */
export function limits(env: Env) {
  const maxSockets = n(env.MAX_SOCKETS_PER_SESSION, 1000);
  return {
    tokenTtlSeconds: n(env.TOKEN_TTL_SECONDS, 3600),
    refreshGraceSeconds: n(env.TOKEN_REFRESH_GRACE_SECONDS, 7 * 86400),
    maxFrameBytes: n(env.MAX_FRAME_BYTES, 64 * 1024),
    maxBatchFrameBytes: n(env.MAX_BATCH_FRAME_BYTES, 1024 * 1024),
    maxOutboundFrameBytes: n(env.MAX_OUTBOUND_FRAME_BYTES, 1024 * 1024),
    ratePerSecond: n(env.RATE_LIMIT_PER_SECOND, 50),
    rateBurst: n(env.RATE_LIMIT_BURST, 100),
    maxSockets,
    /** A participant's oldest socket is closed when it opens more than this many. */
    maxSocketsPerParticipant: n(env.MAX_SOCKETS_PER_PARTICIPANT, 8),
    /** Sockets only DMs may take, so players and spectators can never lock the DM out. */
    dmReservedSockets: n(env.DM_RESERVED_SOCKETS, Math.min(50, Math.max(1, Math.floor(maxSockets / 20)))),
    /** Requests of one participant being handled or queued at once; more are RATE_LIMITED. */
    maxInflightPerParticipant: n(env.MAX_INFLIGHT_PER_PARTICIPANT, 32),
    /** A resume further back than this many events gets "snapshot" instead of a replay. */
    replayMaxEvents: n(env.REPLAY_MAX_EVENTS, 1000),
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
    /** POST /assets: bodies larger than this are refused (413). */
    maxUploadBytes: n(env.MAX_UPLOAD_BYTES, 10 * 1024 * 1024),
    /** Signed asset URLs live at least this long (and at most twice it: expiries are rounded up so URLs stay cacheable). */
    assetUrlTtlSeconds: Math.max(60, n(env.ASSET_URL_TTL_SECONDS, 3600)),
    /** Between two looks at a generation in progress (ComfyUI's /history). */
    generationPollMs: n(env.GENERATION_POLL_MS, 1000),
    /** A generation batch still unfinished after this long fails (TIMEOUT); JOB_TIMEOUT_MS caps each run too. */
    generationTimeoutMs: n(env.GENERATION_TIMEOUT_MS, 5 * 60_000),
    /** Generation batches queued or running at once per session (each makes one provider request at a time); more are RATE_LIMITED. */
    generationMaxActive: Math.max(1, n(env.GENERATION_MAX_ACTIVE, 2)),
    /** POST /assets per participant: a token bucket of this many uploads, refilled at this many a minute (429 beyond; 0 = unlimited). */
    uploadsPerMinute: n(env.UPLOADS_PER_MINUTE, 10),
    /** Uploads one participant may have stored at once, and their bytes (413 beyond). */
    uploadMaxCountPerParticipant: n(env.UPLOAD_MAX_COUNT_PER_PARTICIPANT, 50),
    uploadMaxBytesPerParticipant: n(env.UPLOAD_MAX_BYTES_PER_PARTICIPANT, 100 * 1024 * 1024),
    /** Assets a session may hold (uploaded, generated, imported) and their stored bytes (413 beyond). */
    sessionMaxAssets: n(env.SESSION_MAX_ASSETS, 1000),
    sessionMaxAssetBytes: n(env.SESSION_MAX_ASSET_BYTES, 1024 * 1024 * 1024),
    /** LLM calls (SpeakToNpc, ApproveDialogue reject) one participant may start in any 60 s; 0 = unlimited. */
    dialogueCallsPerMinute: n(env.DIALOGUE_CALLS_PER_MINUTE, 10),
    /** The same for the whole session, all participants together; 0 = unlimited. */
    dialogueSessionCallsPerMinute: n(env.DIALOGUE_SESSION_CALLS_PER_MINUTE, 60),
    /** Answers one participant's calls may be drafting at once; 0 = unlimited. */
    dialogueMaxConcurrent: n(env.DIALOGUE_MAX_CONCURRENT, 2),
    /** Answers the whole session may be drafting at once; 0 = unlimited. */
    dialogueSessionMaxConcurrent: n(env.DIALOGUE_SESSION_MAX_CONCURRENT, 6),
    /** An answer (the NPC's words and the DM reasons) is cut here and the provider's call stopped. */
    dialogueMaxAnswerChars: Math.max(100, n(env.DIALOGUE_MAX_ANSWER_CHARS, 4000)),
    /** Stream frames of one answer; the rest of the words go in one last frame (then NpcSpeaks). */
    dialogueMaxStreamFrames: Math.max(2, n(env.DIALOGUE_MAX_STREAM_FRAMES, 200)),
  };
}
export type Limits = ReturnType<typeof limits>;
