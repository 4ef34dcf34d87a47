/**
 * The floor: the raw Durable Object of `../shared/bench-floor/` (a plain Worker, hibernatable
 * WebSockets, DO SQLite, no framework), run beside the engine in the same bench run so that each
 * engine figure is printed as a ratio to it. Found at WRLDBLDR_BENCH_FLOOR, else `../shared/bench-floor`
 * next to the checkout; absent, the bench runs without it (and says so).
 * It runs from a temporary copy with this repository's node_modules linked (the same wrangler,
 * 4.86.0, that its README pins), state in a fresh directory, stopped and removed at the end.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ROOT, freePort } from "../../scripts/engine";

export interface Floor {
  url: string;
  wsUrl(room: string): string;
  stop(): Promise<void>;
}

/** Where the floor's sources are, or null when there is none. */
export function floorSource(): string | null {
  const dir = resolve(process.env.WRLDBLDR_BENCH_FLOOR || join(ROOT, "..", "shared", "bench-floor"));
  return existsSync(join(dir, "wrangler.toml")) && existsSync(join(dir, "src")) ? dir : null;
}

export async function startFloor(source: string, startTimeoutMs = 60_000): Promise<Floor> {
  const dir = mkdtempSync(join(tmpdir(), "wrldbldr-floor-"));
  const code = join(dir, "code");
  cpSync(source, code, { recursive: true, filter: (p) => !p.includes("node_modules") && !p.includes(".wrangler") });
  symlinkSync(join(ROOT, "node_modules"), join(code, "node_modules"), "dir");
  const port = await freePort();
  const wrangler = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
  const args = [wrangler, "dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", join(dir, "state"), "--log-level", "warn",
    "--inspector-port", String(await freePort()), "--show-interactive-dev-session=false", "--live-reload=false"];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: code, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((res) => {
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => (clearTimeout(t), res()));
        child.kill("SIGTERM");
      });
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  };
  process.once("exit", () => child.kill("SIGKILL"));
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`the floor's wrangler dev exited (${child.exitCode}):\n${out}`);
    }
    try {
      if ((await fetch(`${url}/ping?room=up`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the floor did not answer on ${url} in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, wsUrl: (room) => `ws://127.0.0.1:${port}/ws?room=${encodeURIComponent(room)}`, stop };
}
