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

/** The image providers use the providers' one retry policy (src/providers/resilience.ts). */
export { sleep, withRetry, withTimeout } from "../resilience";
