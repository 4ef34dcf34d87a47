/**
 * Starts the engine locally with `wrangler dev` on 127.0.0.1 (local D1 and R2, persisted under
 * `persistDir`), after applying the D1 migrations there. Used by `npm start`, the Node end-to-end
 * tests, the SDK tests, the benchmarks and the soak test: one way to run the engine.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDotEnv } from "./llm-vars";
import { ensureWebBuild } from "./web-build";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const quietEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: process.env.CI ?? "" };

export interface EngineOptions {
  /** Port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /** Local state (D1, R2, Durable Objects). */
  persistDir?: string;
  /** Extra vars (and secrets) for the Worker, e.g. limits or AUTH_SECRET. */
  vars?: Record<string, string>;
  /** The V8 inspector's port (CPU profiles of the Worker and its objects: bench/profile.ts); a free one when omitted. */
  inspectorPort?: number;
  /** Print wrangler's output (npm start) instead of keeping it for errors only. */
  inheritOutput?: boolean;
  startTimeoutMs?: number;
}

export interface Engine {
  url: string;
  wsBase: string;
  port: number;
  persistDir: string;
  authSecret: string;
  /** The process id of wrangler (tests look at its command line and its children's). */
  pid: number;
  /** Everything wrangler printed so far (for debugging a failed test). */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** The local AUTH_SECRET: read from .dev.vars, or generated there on first start (never committed). */
export function ensureDevVars(): string {
  const file = join(ROOT, ".dev.vars");
  const existing = existsSync(file) ? readFileSync(file, "utf8") : "";
  const m = /^AUTH_SECRET\s*=\s*"?([^"\n]+)"?/m.exec(existing);
  if (m?.[1]) return m[1];
  const secret = randomBytes(32).toString("hex");
  writeFileSync(file, `${existing}${existing && !existing.endsWith("\n") ? "\n" : ""}AUTH_SECRET="${secret}"\n`);
  return secret;
}

/**
 * One value of a dotenv file as wrangler reads it (dotenv, then dotenv-expand): quoted with a quote
 * it does not contain, `$` escaped so it is not expanded. Newlines cannot be written.
 */
function dotEnvValue(key: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`var ${key}: a value with a line break cannot be passed to wrangler`);
  const escaped = value.replace(/\$/g, "\\$");
  const quote = ["'", "`", '"'].find((q) => !escaped.includes(q) && (q !== '"' || !/\\[nr]/.test(escaped)));
  if (!quote) throw new Error(`var ${key}: its value holds every quote character; it cannot be passed to wrangler`);
  return `${quote}${escaped}${quote}`;
}

/**
 * The Worker's vars and secrets in a file only this user may read (a new 0700 directory, a 0600
 * file), for `wrangler dev --env-file`: never on wrangler's command line, where any local user
 * sees them with `ps`. With --env-file wrangler no longer reads .dev.vars itself, so its entries
 * are written first and `vars` override them (as `--var` did).
 */
export function writeEnvFile(vars: Record<string, string>): { path: string; remove(): void } {
  const devVarsFile = join(ROOT, ".dev.vars");
  const all = { ...(existsSync(devVarsFile) ? parseDotEnv(readFileSync(devVarsFile, "utf8")) : {}), ...vars };
  const dir = mkdtempSync(join(tmpdir(), "wrldbldr-engine-"));
  const path = join(dir, "worker.env");
  writeFileSync(
    path,
    Object.entries(all)
      .map(([k, v]) => `${k}=${dotEnvValue(k, v)}\n`)
      .join(""),
    { mode: 0o600 },
  );
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function applyMigrations(persistDir: string): void {
  const r = spawnSync(process.execPath, [WRANGLER, "d1", "migrations", "apply", "wrldbldr", "--local", "--persist-to", persistDir], {
    cwd: ROOT,
    env: quietEnv,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`wrangler d1 migrations apply failed:\n${r.stdout}\n${r.stderr}`);
}

export async function startEngine(opts: EngineOptions = {}): Promise<Engine> {
  const port = opts.port ?? (await freePort());
  const persistDir = resolve(opts.persistDir ?? join(ROOT, ".wrangler", "state"));
  mkdirSync(persistDir, { recursive: true });
  ensureWebBuild();
  applyMigrations(persistDir);
  const authSecret = opts.vars?.AUTH_SECRET ?? ensureDevVars();
  // A local engine creates sessions without a secret (deployments are guarded, docs/engine.md), and
  // its test and bench clients all come from one address: /auth limits are off unless asked for.
  const vars = { SESSION_CREATION: "open", AUTH_RATE_LIMITS: "off", ...opts.vars, AUTH_SECRET: authSecret };
  // Vars and secrets go in a private file, not on the command line (`ps` shows argv to everyone).
  const envFile = writeEnvFile(vars);
  const args = [
    WRANGLER,
    "dev",
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    persistDir,
    "--inspector-port",
    String(opts.inspectorPort ?? (await freePort())),
    "--show-interactive-dev-session=false",
    "--live-reload=false",
    "--env-file",
    envFile.path,
  ];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env: quietEnv, stdio: ["ignore", "pipe", "pipe"], detached: false });
  const removeOnExit = () => envFile.remove();
  process.once("exit", removeOnExit);
  child.once("exit", () => {
    envFile.remove();
    process.removeListener("exit", removeOnExit);
  });
  let out = "";
  const onData = (d: Buffer) => {
    out += d.toString();
    if (opts.inheritOutput) process.stdout.write(d);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const url = `http://127.0.0.1:${port}`;
  const engine: Engine = {
    url,
    wsBase: `ws://127.0.0.1:${port}`,
    port,
    persistDir,
    authSecret,
    pid: child.pid!,
    output: () => out,
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => (clearTimeout(t), res()));
        child.kill("SIGTERM");
      }),
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${out}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) return engine;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await engine.stop();
      throw new Error(`engine did not become healthy on ${url} in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
