/**
 * Memory of the engine as the OS sees it. `wrangler dev` runs two workerd processes below this one:
 * a proxy worker bound to the engine's port, and the user worker (our Worker + its Durable Objects)
 * on an internal port. We read the RSS of the latter from /proc (Linux only).
 */
import { readFileSync, readdirSync } from "node:fs";

interface Proc {
  pid: number;
  ppid: number;
  cmdline: string;
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 4 is the parent pid; the command (field 2) may contain spaces, so split after ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
    return { pid, ppid, cmdline };
  } catch {
    return null; // gone meanwhile, or not ours to read
  }
}

function descendants(rootPid: number): Proc[] {
  const all = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map((d) => readProc(Number(d))).filter((p): p is Proc => p !== null);
  const found: Proc[] = [];
  const parents = new Set([rootPid]);
  // Bounded: a process tree is at most as deep as the number of processes.
  for (let depth = 0; depth < all.length; depth++) {
    const next = all.filter((p) => parents.has(p.ppid) && !found.includes(p));
    if (next.length === 0) break;
    for (const p of next) (found.push(p), parents.add(p.pid));
  }
  return found;
}

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
