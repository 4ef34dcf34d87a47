/** The process tree below this one, from /proc (Linux only). */
import { readFileSync, readdirSync } from "node:fs";

export interface Proc {
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

export function descendants(rootPid: number): Proc[] {
  const all = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => p !== null);
  const found: Proc[] = [];
  const parents = new Set([rootPid]);
  // Bounded: a process tree is at most as deep as the number of processes.
  for (let depth = 0; depth < all.length; depth++) {
    const next = all.filter((p) => parents.has(p.ppid) && !found.includes(p));
    if (next.length === 0) break;
    for (const p of next) found.push(p), parents.add(p.pid);
  }
  return found;
}

/**
 * Last resort when this process exits without having stopped its engine (an uncaught exception):
 * SIGKILL the processes below this one whose command line contains `marker`, and everything below
 * them, so that no wrangler or workerd outlives the run. Synchronous, for process.on("exit").
 */
export function killTreesMatching(marker: string, rootPid = process.pid): void {
  let all: Proc[];
  try {
    all = descendants(rootPid);
  } catch {
    return; // no /proc
  }
  for (const root of all.filter((p) => p.cmdline.includes(marker))) {
    for (const p of [...descendants(root.pid), root].reverse()) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}
