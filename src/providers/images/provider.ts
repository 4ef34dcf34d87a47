import { AppError } from "../../protocol";

/** One image to make (a batch of N is N of these, each under its own prompt id). */
export interface ImageJob {
  prompt: string;
  negative_prompt: string;
  width: number;
  height: number;
  seed: number;
}

export type PollResult = { state: "pending" } | { state: "unknown" } | { state: "done"; bytes: Uint8Array };

/**
 * An image generator driven by prompt ids the engine mints and stores before submitting, so a
 * resumed batch can ask whether an id was already queued instead of queueing it twice.
 */
export interface ImageProvider {
  readonly name: string;
  /** Queues one image under `promptId`. */
  submit(promptId: string, job: ImageJob, signal: AbortSignal): Promise<void>;
  /** "unknown": the provider never saw this id (submit it); "pending": queued or running; "done": its bytes. Throws when it failed. */
  poll(promptId: string, job: ImageJob, signal: AbortSignal): Promise<PollResult>;
  /** Best effort: drop these ids from the provider's queue and stop the one running. */
  cancel(promptIds: string[]): Promise<void>;
}

/**
 * The one retry policy of the image providers: transient failures (UNAVAILABLE, TIMEOUT) are
 * tried again with exponential backoff; anything else, or an aborted signal, ends at once.
 */
export async function withRetry<T>(fn: () => Promise<T>, signal: AbortSignal, attempts = 3, baseMs = 250): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const transient = err instanceof AppError && (err.code === "UNAVAILABLE" || err.code === "TIMEOUT");
      if (!transient || i >= attempts || signal.aborted) throw err;
      await sleep(baseMs * 2 ** (i - 1), signal);
    }
  }
}

/** Waits, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => (clearTimeout(timer), reject(signal.reason));
    const timer = setTimeout(() => (signal.removeEventListener("abort", onAbort), resolve()), ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
