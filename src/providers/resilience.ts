import { AppError } from "../protocol";

/**
 * The one retry and circuit-breaker policy of outside providers (LLM now, images next): retries
 * with exponential backoff and jitter only while nothing was delivered, a first-result timeout, a
 * total timeout, and a breaker that answers at once while a provider keeps failing.
 */
export interface ResiliencePolicy {
  /** Nothing delivered this long after a try started: the try failed (and may be retried). */
  firstTokenTimeoutMs: number;
  /** The whole call, retries included. */
  totalTimeoutMs: number;
  /** Tries after the first, only before anything was delivered. */
  maxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Consecutive failed calls that open the breaker. */
  breakerFailures: number;
  /** How long an open breaker refuses calls before it lets one probe through (half-open). */
  breakerCooldownMs: number;
}

/** A failure of a provider, as the provider module saw it. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly opts: { status?: number; retryable: boolean; retryAfterMs?: number } = { retryable: true },
  ) {
    super(message);
    this.name = "ProviderError";
  }
}

/** HTTP statuses worth another try: rate limits, timeouts and server errors (not 400/401/403/404). */
export const retryableStatus = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500;

/** `Retry-After` in ms (seconds or an HTTP date), if the answer had one. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const v = headers.get("retry-after");
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

type BreakerState = "closed" | "open" | "half_open";

/**
 * Closed: calls pass; `failures` consecutive failed calls open it. Open: calls are refused at once
 * (UNAVAILABLE, retryable, with retry_after_ms) until the cool-down has passed; then one call
 * probes (half-open): its success closes the breaker, its failure opens it again.
 */
export class CircuitBreaker {
  private state: BreakerState = "closed";
  private consecutive = 0;
  private openedAt = 0;
  private probing = false;

  constructor(
    readonly name: string,
    private readonly opts: { failures: number; cooldownMs: number },
  ) {}

  get status(): BreakerState {
    return this.state;
  }

  /** Throws UNAVAILABLE when a call may not go out now; else it may (and then must report back). */
  check(now = Date.now()): void {
    if (this.state === "closed") return;
    const wait = this.openedAt + this.opts.cooldownMs - now;
    if (this.state === "open" && wait <= 0) {
      this.state = "half_open";
      this.probing = false;
    }
    if (this.state === "half_open" && !this.probing) return;
    throw new AppError("UNAVAILABLE", `${this.name} is failing; not calling it for a while`, {
      reason: "circuit_open",
      provider: this.name,
      retry_after_ms: Math.max(wait, 1000),
    });
  }

  /** Like check, and marks the probe as taken when half-open (only one call probes). */
  enter(now = Date.now()): void {
    this.check(now);
    if (this.state === "half_open") this.probing = true;
  }

  success(): void {
    this.state = "closed";
    this.consecutive = 0;
    this.probing = false;
  }

  failure(now = Date.now()): void {
    this.consecutive++;
    this.probing = false;
    if (this.state === "half_open" || this.consecutive >= this.opts.failures) {
      this.state = "open";
      this.openedAt = now;
    }
  }

  /** A call that was abandoned by its caller (cancelled): neither a success nor a failure. */
  release(): void {
    this.probing = false;
  }
}

const BREAKERS = new Map<string, CircuitBreaker>();
const MAX_BREAKERS = 1000;

/**
 * The breaker of one key (e.g. a session and its provider), kept in the isolate's memory. Bounded:
 * the least recently used goes first (an evicted key starts closed again).
 */
export function breakerFor(key: string, name: string, policy: Pick<ResiliencePolicy, "breakerFailures" | "breakerCooldownMs">): CircuitBreaker {
  let b = BREAKERS.get(key);
  if (b) BREAKERS.delete(key);
  else b = new CircuitBreaker(name, { failures: Math.max(1, policy.breakerFailures), cooldownMs: policy.breakerCooldownMs });
  BREAKERS.set(key, b);
  if (BREAKERS.size > MAX_BREAKERS) BREAKERS.delete(BREAKERS.keys().next().value!);
  return b;
}

/** Exponential backoff with ±20 % jitter, capped; a server's Retry-After wins when longer (capped too). */
export function backoffMs(attempt: number, policy: Pick<ResiliencePolicy, "retryBaseMs" | "retryMaxMs">, serverAfterMs?: number): number {
  const exp = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** attempt);
  const jittered = exp * (0.8 + Math.random() * 0.4);
  return Math.min(policy.retryMaxMs, Math.max(jittered, serverAfterMs ?? 0));
}

/** Waits, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => (signal.removeEventListener("abort", onAbort), resolve()), ms);
    const onAbort = () => (clearTimeout(t), reject(signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * `fn` with a signal that aborts when `signal` does or after `ms` (with a TIMEOUT AppError,
 * `details.reason: "request_timeout"`). Unlike `AbortSignal.timeout`, whose timer lives on until
 * it fires, the timer is cleared as soon as `fn` settles: many short requests leave no timers
 * behind (an object may hold at most 10,000).
 */
export async function withTimeout<T>(ms: number, signal: AbortSignal, fn: (signal: AbortSignal) => Promise<T>, what = "the request"): Promise<T> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new AppError("TIMEOUT", `${what} got no answer within ${ms} ms`, { reason: "request_timeout", timeout_ms: ms })),
    ms,
  );
  try {
    return await fn(controller.signal);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * A plain (non-streaming) call with the same backoff: transient failures (UNAVAILABLE, TIMEOUT)
 * are tried again up to `attempts` times in all; anything else, or an aborted signal, ends at once.
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  signal: AbortSignal,
  policy: { attempts: number } & Pick<ResiliencePolicy, "retryBaseMs" | "retryMaxMs"> = { attempts: 3, retryBaseMs: 250, retryMaxMs: 5_000 },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const transient = err instanceof AppError && (err.code === "UNAVAILABLE" || err.code === "TIMEOUT");
      if (!transient || attempt + 1 >= policy.attempts || signal.aborted) throw err;
      await sleep(backoffMs(attempt, policy), signal);
    }
  }
}

/** What a streaming call delivered before it ended or failed. */
export interface StreamResult {
  text: string;
  attempts: number;
}

/**
 * Runs a token stream under the policy: `open(signal)` starts one try; each delta goes to
 * `onDelta` as it comes. Tries are retried with backoff only until the first delta (after that a
 * retry would repeat text already shown); a failure after it ends the call. `signal` is the
 * caller's (a cancelled job): its abort is rethrown as is and does not count against the provider.
 * Failures become AppErrors: TIMEOUT (first token, total), UNAVAILABLE (provider, interrupted
 * stream, breaker open), VALIDATION_ERROR-free: a provider refusing the request is UNAVAILABLE
 * with `details.status`.
 */
export async function resilientStream(
  open: (signal: AbortSignal) => AsyncIterable<string>,
  onDelta: (delta: string) => void,
  policy: ResiliencePolicy,
  breaker: CircuitBreaker,
  signal: AbortSignal,
): Promise<StreamResult> {
  breaker.enter();
  const total = new AbortController();
  const onOuterAbort = () => total.abort(signal.reason);
  if (signal.aborted) onOuterAbort();
  signal.addEventListener("abort", onOuterAbort, { once: true });
  const totalTimer = setTimeout(
    () =>
      total.abort(
        new AppError("TIMEOUT", `${breaker.name} did not finish within ${policy.totalTimeoutMs} ms`, { reason: "total_timeout", provider: breaker.name }),
      ),
    policy.totalTimeoutMs,
  );
  let text = "";
  let attempt = 0;
  try {
    for (;;) {
      const tryController = new AbortController();
      const onTotal = () => tryController.abort(total.signal.reason);
      total.signal.addEventListener("abort", onTotal, { once: true });
      const firstTimer = setTimeout(
        () =>
          tryController.abort(
            new AppError("TIMEOUT", `${breaker.name} sent nothing within ${policy.firstTokenTimeoutMs} ms`, {
              reason: "first_token_timeout",
              provider: breaker.name,
            }),
          ),
        policy.firstTokenTimeoutMs,
      );
      let delivered = false;
      try {
        for await (const delta of raceAbort(open(tryController.signal), tryController.signal)) {
          if (delta === "") continue;
          if (!delivered) clearTimeout(firstTimer);
          delivered = true;
          text += delta;
          onDelta(delta);
        }
        if (!delivered) throw new ProviderError(`${breaker.name} answered with no text`, { retryable: true });
        breaker.success();
        return { text, attempts: attempt + 1 };
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        const reason = tryController.signal.aborted ? tryController.signal.reason : err;
        const retryable = !delivered && !total.signal.aborted && attempt < policy.maxRetries && isRetryable(reason);
        if (!retryable) throw toAppError(reason, breaker.name, delivered, attempt + 1);
        await sleep(backoffMs(attempt, policy, reason instanceof ProviderError ? reason.opts.retryAfterMs : undefined), total.signal).catch(() => {
          throw toAppError(total.signal.reason ?? reason, breaker.name, false, attempt + 1);
        });
        attempt++;
      } finally {
        clearTimeout(firstTimer);
        total.signal.removeEventListener("abort", onTotal);
      }
    }
  } catch (err) {
    if (signal.aborted) {
      breaker.release();
      throw signal.reason;
    }
    breaker.failure();
    throw err;
  } finally {
    clearTimeout(totalTimer);
    signal.removeEventListener("abort", onOuterAbort);
  }
}

function isRetryable(reason: unknown): boolean {
  if (reason instanceof ProviderError) return reason.opts.retryable;
  if (reason instanceof AppError) return reason.retryable;
  return true; // network failures (fetch TypeError) are worth another try
}

function toAppError(reason: unknown, provider: string, delivered: boolean, attempts: number): AppError {
  if (reason instanceof AppError) {
    return delivered && reason.code === "TIMEOUT" ? reason : new AppError(reason.code, reason.message, { ...reason.details, attempts });
  }
  const message = reason instanceof Error ? reason.message : String(reason);
  if (delivered) {
    return new AppError("UNAVAILABLE", `${provider} stopped mid-answer: ${message}`, { reason: "stream_interrupted", provider, attempts });
  }
  const status = reason instanceof ProviderError ? reason.opts.status : undefined;
  return new AppError("UNAVAILABLE", `${provider} failed: ${message}`, { reason: "provider_error", provider, attempts, ...(status ? { status } : {}) });
}

/**
 * The iterable's values until the signal aborts; then it rejects at once, even if the source is
 * stuck awaiting a read that never settles (a server that never answers).
 */
async function* raceAbort<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
  const it = source[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const r = await Promise.race([it.next(), aborted]);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
    void it.return?.()?.catch?.(() => undefined);
  }
}
