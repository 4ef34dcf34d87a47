/**
 * Memory of the engine as the OS sees it. `wrangler dev` runs two workerd processes below this one:
 * a proxy worker bound to the engine's port, and the user worker (our Worker + its Durable Objects)
 * on an internal port. We read the RSS of the latter from /proc (Linux only).
 */
import { readFileSync } from "node:fs";
import { descendants } from "./processes";

/** The pid of the workerd process that runs the user Worker of the engine listening on `port`. */
export function findUserWorkerd(port: number, rootPid = process.pid): number | null {
  const workerds = descendants(rootPid).filter((p) => /\bworkerd serve\b/.test(p.cmdline));
  const boundToPort = new RegExp(`entry=127\\.0\\.0\\.1:${port}(?!\\d)`);
  const user = workerds.filter((p) => !boundToPort.test(p.cmdline));
  return user.length === 1 ? user[0]!.pid : null;
}

export interface MemorySample {
  /** Resident set size now, MiB. */
  rss_mib: number;
  /** Peak resident set size so far, MiB. */
  peak_rss_mib: number;
}

export function readMemory(pid: number): MemorySample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    const mib = (k: number) => Math.round((k / 1024) * 10) / 10;
    return { rss_mib: mib(kib("VmRSS")), peak_rss_mib: mib(kib("VmHWM")) };
  } catch {
    return null;
  }
}
