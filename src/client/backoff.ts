export interface BackoffOptions {
  /** Ceiling of the first retry's delay (ms). */
  baseDelayMs: number;
  /** No delay ever exceeds this (ms). */
  maxDelayMs: number;
}

/**
 * "Full jitter" exponential backoff: a uniform delay in [0, min(max, base·2^attempt)]. Spreads a
 * crowd of clients that lost the same server, instead of having them return in waves.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
