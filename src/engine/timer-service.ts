/** Kept apart from timers.ts so that context.ts can name it without an import cycle. */

/** How a handler schedules timed work: `ctx.timers.schedule(kind, dueAt, data, id)`. */
export interface TimerService {
  /**
   * Persists a timer (in the object's storage, so it survives eviction) due at `dueAt` (ms since
   * epoch). `id` is its idempotency key within the kind: scheduling it again replaces it. Written
   * at once, not with the commit (like job leases): should the Tx fail, the timer fires, finds
   * nothing to do, and is dropped.
   */
  schedule<D>(kind: string | { readonly kind: string }, dueAt: number, data: D, id: string): void;
  /** Drops a timer once the Tx has committed. */
  cancel(kind: string | { readonly kind: string }, id: string): void;
}
