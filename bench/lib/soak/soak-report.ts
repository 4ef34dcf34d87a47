/** Prints what a soak run checked, and writes it as JSON next to the bench results. */
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatTable } from "../table";
import type { SoakReport } from "./run-soak";

export function renderSoak(r: SoakReport): string {
  const c = r.verdict.checked;
  const d = r.verdict.delivered;
  const w = r.verdict.wire;
  const rows: [string, string][] = [
    ["clients × duration", `${r.config.clients} × ${r.config.durationMs / 1000} s (seed ${r.config.seed})`],
    ["faults", `${r.faults.cuts} cuts (${r.faults.connections_cut} connections reset), ${r.faults.restarts} engine restart (${r.faults.restart_ms} ms)`],
    ["client joins (first + resumes)", `${c.joins} (${c.heartbeat_timeouts} after a heartbeat timeout)`],
    ["soak process event-loop delay", `p99 ${r.client_event_loop_delay_ms.p99} ms, max ${r.client_event_loop_delay_ms.max} ms (the clients' own lag)`],
    ["acknowledged writes", `${c.acknowledged_writes} (${c.replayed_results} answered from the request log after a re-send)`],
    ["unanswered writes at the end", String(c.unanswered_writes)],
    ["reads", String(c.reads)],
    ["items stored / events in the log", `${c.stored_items} / ${c.events_in_log}`],
    ["events expected (all clients)", String(c.events_expected)],
    ["delivered by the SDK", `${d.received}: ${d.missing} missing, ${d.duplicates} duplicate, ${d.out_of_order} out of order, ${d.unexpected} unexpected`],
    ["sent by the server (wire)", `${w.received}: ${w.missing} missing, ${w.duplicates} duplicate, ${w.out_of_order} out of order, ${w.unexpected} unexpected`],
    ["frames on sockets the client had closed", `${c.late_frames} (not read by the client; not checked)`],
    ["violations", String(r.verdict.violations.length)],
  ];
  const out = [formatTable(["soak", "result"], rows)];
  if (r.verdict.violations.length) out.push("", "VIOLATIONS:", ...r.verdict.violations.map((v) => `  - ${v}`));
  return out.join("\n");
}

export function writeSoak(r: SoakReport, startedAt: string): string {
  const dir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `soak-${startedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}
