/** Loops with a count AND a time bound: every benchmark and soak loop goes through these. */
import { now } from "./stats";

export interface Bound {
  /** At most this many iterations. */
  count: number;
  /** And stop starting new iterations after this many milliseconds. */
  maxMs: number;
}

/** Runs `fn` sequentially, returning each run's duration in ms (warm-up runs are not recorded). */
export async function timeSequential(bound: Bound, fn: (i: number) => Promise<void>, warmup = 0): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const samples: number[] = [];
  const deadline = now() + bound.maxMs;
  for (let i = 0; i < bound.count && now() < deadline; i++) {
    const t0 = now();
    await fn(i);
    samples.push(now() - t0);
  }
  return samples;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it is true or `maxMs` passed; returns whether it became true. */
export async function waitUntil(check: () => boolean, maxMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  while (!check()) {
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
