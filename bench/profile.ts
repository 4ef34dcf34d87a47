/**
 * `npm run bench:profile -- ping|write|fanout [--count N]`: starts the engine (as `npm run bench` does),
 * runs one workload under the V8 sampling profiler of its isolate, and prints the CPU it used per
 * operation and the functions with the most self time; the whole profile goes to
 * bench/results/profile-<workload>-<timestamp>.cpuprofile (open it in Chrome DevTools).
 * Self times include the profiler's own overhead: compare runs of the same workload, not absolutes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../scripts/engine";
import { waitUntil } from "./lib/bounded";
import { profileWhile, summarizeProfile } from "./lib/inspector";
import { withEngine } from "./lib/local-engine";
import { engineTarget } from "./lib/workloads/versus-floor";

const WORKLOADS = {
  ping: { sockets: 1, count: 3000, what: "Ping requests, one at a time" },
  write: { sockets: 1, count: 1000, what: "CreateStoryEvent writes, one at a time" },
  fanout: { sockets: 501, count: 60, what: "CreateStoryEvent writes, each until 500 listeners have its event" },
} as const;
type Workload = keyof typeof WORKLOADS;

const args = process.argv.slice(2);
const name = (args.find((a) => !a.startsWith("--")) ?? "ping") as Workload;
const spec = WORKLOADS[name];
if (!spec) {
  console.error(`usage: npm run bench:profile -- ${Object.keys(WORKLOADS).join("|")} [--count N]`);
  process.exit(2);
}
const countArg = args.indexOf("--count");
const count = countArg >= 0 ? Math.max(1, Number(args[countArg + 1]) || spec.count) : spec.count;
const log = (msg: string) => process.stderr.write(`[profile] ${msg}\n`);

const inspectorPort = await freePort();
await withEngine(
  async (engine) => {
    const target = engineTarget(engine.url);
    const [writer, ...listeners] = await target.room(`profile ${name}`, spec.sockets, "first");
    let arrived = 0;
    for (const l of listeners) l.onEvent = (e) => void (e.type === target.writeEvent && arrived++);
    const once = async (i: number) => {
      if (name === "ping") return void (await writer!.request({ type: "Ping" }));
      const before = arrived;
      await writer!.request(target.write(`profile row ${i}`));
      if (listeners.length > 0 && !(await waitUntil(() => arrived >= before + listeners.length, 10_000, 1))) throw new Error("fan-out: events missing");
    };
    try {
      for (let i = 0; i < Math.min(50, count); i++) await once(i); // warm up (JIT, caches)
      log(`profiling ${count} ${spec.what}`);
      const started = performance.now();
      const profile = await profileWhile(inspectorPort, async () => {
        for (let i = 0; i < count; i++) await once(i);
      });
      const wallMs = performance.now() - started;
      const s = summarizeProfile(profile);
      const dir = resolve(dirname(fileURLToPath(import.meta.url)), "results");
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `profile-${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      console.log(
        `${name}: ${count} operations; wall ${(wallMs / count).toFixed(3)} ms each; isolate busy ${(s.busyMs / count).toFixed(3)} ms each (of ${s.totalMs.toFixed(0)} ms sampled)`,
      );
      console.log("self ms   share  function");
      for (const f of s.functions) console.log(`${f.ms.toFixed(1).padStart(7)}  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`);
      console.log(`profile: ${file}`);
    } finally {
      await Promise.all([writer!, ...listeners].map((c) => c.close()));
    }
  },
  undefined,
  { inspectorPort },
);
