/**
 * The Agents SDK peer (bench/peers/agents/): one Cloudflare `Agent` per room speaking the floor's
 * frames, its broadcast the SDK's own `Agent#broadcast`. Issue 13 asks the engine's fan-out to be at
 * least as fast as that, on the same machine. It is not a dependency of this repository: its own
 * package.json and package-lock.json are installed once (`npm ci`) into a cache directory keyed by
 * the lock's hash, reused by later runs, and linked into the peer's temporary copy (bench/lib/peer.ts).
 * Any failure (offline, no such folder) or WRLDBLDR_BENCH_AGENTS=off leaves the bench without it.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../scripts/engine";
import { peerSkipReason, startPeer, type Peer } from "./peer";

export const AGENTS_PEER_SOURCE = join(ROOT, "bench", "peers", "agents");
export const AGENTS_CACHE_ROOT = join(ROOT, "node_modules", ".cache", "wrldbldr-bench-agents");
/** npm ci of the peer (~90 MB, ~10 s here); an offline machine fails well within it. */
const INSTALL_TIMEOUT_MS = 300_000;

/** Why the Agents SDK peer is not run, or null when it is. */
export function agentsPeerSkipReason(env: NodeJS.ProcessEnv, source: string): string | null {
  return peerSkipReason(env, "WRLDBLDR_BENCH_AGENTS", source, ["package-lock.json", "wrangler.toml"]);
}

/** The install's cache key: the lock file's content, so any change of a pinned version installs anew. */
export function installKey(packageLock: string): string {
  return createHash("sha256").update(packageLock).digest("hex").slice(0, 16);
}

/** The installed node_modules for this key, or null when it has not been installed (completely) yet. */
export function cachedInstall(cacheRoot: string, key: string): string | null {
  const modules = join(cacheRoot, key, "node_modules");
  return existsSync(join(modules, "agents", "package.json")) ? modules : null;
}

/** npm's first error lines (its code and summary), else the output's last lines. */
const firstErrors = (out: string): string => {
  const lines = out.trim().split("\n");
  const errors = lines.filter((l) => l.startsWith("npm error"));
  return (errors.length ? errors.slice(0, 2) : lines.slice(-3)).join(" | ");
};

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (e) => (clearTimeout(timer), reject(e)));
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(" ")} failed (${signal ?? `exit ${code}`}): ${firstErrors(out)}`));
    });
  });
}

/**
 * The peer's node_modules: from the cache, or installed now into a temporary sibling that is renamed
 * into place only when complete (an interrupted install is never taken for a finished one). Older keys
 * are removed once the new one is in place.
 */
export async function ensureInstalled(source: string, cacheRoot: string, log: (m: string) => void): Promise<string> {
  const key = installKey(readFileSync(join(source, "package-lock.json"), "utf8"));
  const cached = cachedInstall(cacheRoot, key);
  if (cached) return cached;
  mkdirSync(cacheRoot, { recursive: true });
  const tmp = mkdtempSync(join(cacheRoot, `${key}.tmp-`));
  try {
    for (const f of ["package.json", "package-lock.json"]) cpSync(join(source, f), join(tmp, f));
    log(`installing the Agents SDK peer's dependencies (npm ci) into ${join(cacheRoot, key)}`);
    // --ignore-scripts: nothing the Worker bundles needs an install script.
    await run("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", "--fetch-retries=1"], tmp, INSTALL_TIMEOUT_MS);
    if (!cachedInstall(cacheRoot, key)) renameSync(tmp, join(cacheRoot, key));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  for (const old of readdirSync(cacheRoot)) if (old !== key && !old.includes(".tmp-")) rmSync(join(cacheRoot, old), { recursive: true, force: true });
  return cachedInstall(cacheRoot, key)!;
}

/** Installs (once) and starts the peer; throws on any failure, which the bench turns into a note. */
export async function startAgentsPeer(log: (m: string) => void, source = AGENTS_PEER_SOURCE, cacheRoot = AGENTS_CACHE_ROOT): Promise<Peer> {
  const nodeModules = await ensureInstalled(source, cacheRoot, log);
  return startPeer({ name: "agents", source, nodeModules });
}
