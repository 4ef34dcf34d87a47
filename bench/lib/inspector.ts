/**
 * CPU profiles of the engine's Worker and session objects through the V8 inspector that `wrangler dev`
 * exposes (Chrome DevTools protocol over a WebSocket): start the sampling profiler, run a workload,
 * stop it, and sum the samples by function. This is how the costs in bench/README.md ("Where the
 * time goes") were found.
 */
import WebSocket from "ws";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
}

/** Profiles the engine's isolate while `work` runs (sampling every `intervalUs` µs). */
export async function profileWhile(inspectorPort: number, work: () => Promise<void>, intervalUs = 50): Promise<CpuProfile> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const target = targets[0];
  if (!target) throw new Error(`no inspector target on port ${inspectorPort}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => (ws.once("open", () => resolve()), ws.once("error", reject)));
  let nextId = 0;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.on("message", (raw) => {
    const msg = JSON.parse(raw.toString()) as { id?: number; result?: unknown };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result);
  });
  const call = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve) => {
      const id = ++nextId;
      waiting.set(id, resolve as (r: unknown) => void);
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await call("Profiler.enable");
    await call("Profiler.setSamplingInterval", { interval: intervalUs });
    await call("Profiler.start");
    await work();
    return (await call<{ profile: CpuProfile }>("Profiler.stop")).profile;
  } finally {
    ws.close();
  }
}

export interface ProfileSummary {
  /** Sampled time, ms. */
  totalMs: number;
  /** Sampled time not idle (the isolate's CPU, profiler overhead included), ms. */
  busyMs: number;
  /** Self time by function ("name file:line"), heaviest first. */
  functions: { name: string; ms: number; share: number }[];
}

export function summarizeProfile(p: CpuProfile, top = 25): ProfileSummary {
  const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, number>();
  let total = 0;
  let idle = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const f = frames.get(id);
    const name = f ? `${f.functionName || "(anonymous)"}${f.url ? ` ${f.url.split("/").pop()}:${f.lineNumber + 1}` : ""}` : "?";
    self.set(name, (self.get(name) ?? 0) + dt);
    total += dt;
    if (f?.functionName === "(idle)") idle += dt;
  });
  const functions = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: us / 1000, share: total > 0 ? us / total : 0 }));
  return { totalMs: total / 1000, busyMs: (total - idle) / 1000, functions };
}
