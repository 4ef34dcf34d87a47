/**
 * Memory with idle sockets: the user workerd's RSS before the sockets connect (taken by the caller),
 * with them connected and idle, and after waiting long enough for the Durable Object to hibernate.
 * Then one Ping wakes the object: its round trip shows the wake-up cost, and every socket must
 * still be open (hibernation keeps connections).
 */
import { sleep, timeSequential } from "../bounded";
import { readMemory, type MemorySample } from "../process-memory";
import { summarize, type Summary } from "../stats";
import type { WireClient } from "../wire-client";

export interface IdleMemoryConfig {
  settleMs: number;
  hibernateWaitMs: number;
}

export interface IdleMemoryResult {
  workerd_pid: number;
  idle_sockets: number;
  before_connect: MemorySample | null;
  with_idle_sockets: MemorySample | null;
  after_hibernation_wait: MemorySample | null;
  hibernation_wait_ms: number;
  /** The first request after the wait (wakes the object if it hibernated). */
  wake_ping_ms: number;
  /** Pings right after, for comparison. */
  warm_ping: Summary;
  sockets_open_after_wait: number;
}

export async function idleMemory(
  pid: number,
  before: MemorySample | null,
  dm: WireClient,
  listeners: WireClient[],
  cfg: IdleMemoryConfig,
): Promise<IdleMemoryResult> {
  await sleep(cfg.settleMs);
  const withSockets = readMemory(pid);
  await sleep(cfg.hibernateWaitMs);
  const afterWait = readMemory(pid);
  const [wake] = await timeSequential({ count: 1, maxMs: 30_000 }, async () => void (await dm.call({ type: "Ping" })));
  const warm = await timeSequential({ count: 20, maxMs: 5_000 }, async () => void (await dm.call({ type: "Ping" })));
  return {
    workerd_pid: pid,
    idle_sockets: listeners.length,
    before_connect: before,
    with_idle_sockets: withSockets,
    after_hibernation_wait: afterWait,
    hibernation_wait_ms: cfg.hibernateWaitMs,
    wake_ping_ms: Math.round((wake ?? Number.NaN) * 1000) / 1000,
    warm_ping: summarize(warm),
    sockets_open_after_wait: listeners.filter((l) => l.isOpen).length,
  };
}
