/**
 * A peer: a small Worker + Durable Object run beside the engine in the same bench run, so that each
 * engine figure is printed as a ratio to it (the raw floor, bench/lib/floor.ts; the Agents SDK,
 * bench/lib/agents-peer.ts). Each runs with this repository's wrangler from a temporary copy of its
 * sources with a node_modules linked in, state in a fresh directory, stopped and removed at the end.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, freePort } from "../../scripts/engine";

export interface Peer {
  name: string;
  url: string;
  wsUrl(room: string): string;
  stop(): Promise<void>;
}

export interface PeerSpec {
  /** "floor", "agents": names the temp dir and the errors. */
  name: string;
  /** The folder with its wrangler.toml and src/. */
  source: string;
  /** The node_modules linked into the copy: the repository's (enough for a peer needing only wrangler), or its own. */
  nodeModules?: string;
  /** A GET path answering 200 once it is up (every peer speaks the floor's routes). */
  readyPath?: string;
}

/**
 * Why an optional peer is not run, or null when it is: its switch (`off`, `0`, `false`, `no`) is set,
 * or its folder lacks one of the files it needs.
 */
export function peerSkipReason(env: NodeJS.ProcessEnv, switchVar: string, source: string, needs: string[]): string | null {
  if (/^(off|0|false|no)$/i.test(env[switchVar] ?? "")) return `skipped (${switchVar}=off)`;
  return needs.every((f) => existsSync(join(source, f))) ? null : `not found at ${source}`;
}

const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

export async function startPeer(spec: PeerSpec, startTimeoutMs = 60_000): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), `wrldbldr-${spec.name}-`));
  const code = join(dir, "code");
  cpSync(spec.source, code, { recursive: true, filter: (p) => !p.includes("node_modules") && !p.includes(".wrangler") });
  symlinkSync(spec.nodeModules ?? join(ROOT, "node_modules"), join(code, "node_modules"), "dir");
  const port = await freePort();
  const args = [
    WRANGLER,
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    join(dir, "state"),
    "--log-level",
    "warn",
    "--inspector-port",
    String(await freePort()),
    "--show-interactive-dev-session=false",
    "--live-reload=false",
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: code,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "pipe"],
  });
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
      throw new Error(`the ${spec.name} peer's wrangler dev exited (${child.exitCode}):\n${out}`);
    }
    try {
      if ((await fetch(`${url}${spec.readyPath ?? "/ping?room=up"}`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the ${spec.name} peer did not answer on ${url} in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { name: spec.name, url, wsUrl: (room) => `ws://127.0.0.1:${port}/ws?room=${encodeURIComponent(room)}`, stop };
}
