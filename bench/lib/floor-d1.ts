/**
 * The floor + D1 control (bench/peers/floor-d1/): the raw floor's Durable Object that, like the engine,
 * commits each write to D1 (its row, its event, the request's recorded response and the room's seq, in
 * one batch) before it answers and broadcasts. Under `wrangler dev` D1 runs in the peer's own workerd
 * process, as the engine's does in the engine's, so this peer's fan-out is the floor's plus D1's share:
 * what the engine adds beyond it is the engine's own. Plain JavaScript needing only wrangler, so this
 * repository's node_modules is linked in. WRLDBLDR_BENCH_FLOOR_D1=off leaves the bench without it.
 */
import { join } from "node:path";
import { ROOT } from "../../scripts/engine";
import { peerSkipReason, startPeer, type Peer } from "./peer";

export const FLOOR_D1_SOURCE = join(ROOT, "bench", "peers", "floor-d1");

/** Why the floor + D1 control is not run, or null when it is. */
export function floorD1SkipReason(env: NodeJS.ProcessEnv, source: string): string | null {
  return peerSkipReason(env, "WRLDBLDR_BENCH_FLOOR_D1", source, ["wrangler.toml", "src"]);
}

export function startFloorD1(source = FLOOR_D1_SOURCE): Promise<Peer> {
  return startPeer({ name: "floor-d1", source });
}
