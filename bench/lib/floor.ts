/**
 * The floor: the raw Durable Object of `../shared/bench-floor/` (a plain Worker, hibernatable
 * WebSockets, DO SQLite, no framework), run beside the engine as a peer (bench/lib/peer.ts). Found at
 * WRLDBLDR_BENCH_FLOOR, else `../shared/bench-floor` next to the checkout; absent, the bench runs
 * without it (and says so). It needs nothing but wrangler, so this repository's node_modules is linked
 * in (the same wrangler, 4.86.0, that its README pins).
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ROOT } from "../../scripts/engine";
import { startPeer, type Peer } from "./peer";

/** Where the floor's sources are, or null when there is none. */
export function floorSource(): string | null {
  const dir = resolve(process.env.WRLDBLDR_BENCH_FLOOR || join(ROOT, "..", "shared", "bench-floor"));
  return existsSync(join(dir, "wrangler.toml")) && existsSync(join(dir, "src")) ? dir : null;
}

export function startFloor(source: string): Promise<Peer> {
  return startPeer({ name: "floor", source });
}
