/**
 * LOG_REQUESTS: which requests get their structured log line (one JSON line per request, for
 * `wrangler tail` and Workers Logs). Building and writing that line costs ~0.8 ms per request under
 * `wrangler dev`, more than the rest of a ping: the policy is decided first, and a request it does
 * not want costs nothing.
 *
 * - `all`: every request (npm start sets it locally).
 * - `errors` (the default when unset or not understood): requests that ended in an error, and slow
 *   ones (at least SLOW_REQUEST_MS).
 * - `sample:<fraction>`: errors and slow requests, and that fraction of the others (0 < f ≤ 1).
 * - `off`: none. Counts and durations are kept by the metrics either way.
 */
export type RequestLogPolicy = (code: string, durationMs: number) => boolean;

/** A request at least this slow is logged whenever errors are. */
export const SLOW_REQUEST_MS = 1_000;

export function requestLogPolicy(setting: string | undefined, random: () => number = Math.random): RequestLogPolicy {
  const value = (setting ?? "").trim().toLowerCase();
  if (value === "all") return () => true;
  if (value === "off") return () => false;
  const notable = (code: string, ms: number) => code !== "OK" || ms >= SLOW_REQUEST_MS;
  const sample = /^sample:(0?\.\d+|1(\.0*)?|0)$/.exec(value);
  if (sample) {
    const fraction = Number(sample[1]);
    return (code, ms) => notable(code, ms) || random() < fraction;
  }
  return notable;
}
