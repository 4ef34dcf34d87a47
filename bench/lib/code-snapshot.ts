/**
 * A copy of the engine's sources (src, migrations, wrangler.toml, the engine launcher) in a
 * temporary directory, with node_modules linked. `wrangler dev` watches its sources and reloads on
 * every edit, dropping every socket: running from a snapshot keeps a bench or soak run on one
 * version of the code, whatever is edited in the checkout meanwhile.
 */
import { cpSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { ROOT } from "../../scripts/engine";
import { WEB_DIST, ensureWebBuild } from "../../scripts/web-build";

type EngineModule = typeof import("../../scripts/engine");

const COPIED = ["src", "migrations", "wrangler.toml", "package.json", "tsconfig.json", "scripts/engine.ts"];
/** Copied when the source has it (an older checkout to compare may not). */
const COPIED_IF_PRESENT = ["scripts/web-build.ts", "scripts/llm-vars.ts"];

/**
 * Where the engine's sources are taken from: this checkout, or the directory named by
 * WRLDBLDR_BENCH_SOURCE (another copy of the repository, e.g. with a change to compare).
 */
export function sourceRoot(): string {
  return resolve(process.env.WRLDBLDR_BENCH_SOURCE || ROOT);
}

/** Copies the sources into `dir` and returns the snapshot's own engine launcher. */
export async function snapshotEngine(dir: string, from = sourceRoot()): Promise<EngineModule> {
  mkdirSync(join(dir, "scripts"), { recursive: true });
  for (const path of COPIED) cpSync(join(from, path), join(dir, path), { recursive: true });
  for (const path of COPIED_IF_PRESENT) if (existsSync(join(from, path))) cpSync(join(from, path), join(dir, path), { recursive: true });
  // The Worker serves the web client's build ([assets]): this checkout's, built if missing.
  ensureWebBuild();
  cpSync(WEB_DIST, join(dir, "dist", "web"), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  // The launcher resolves its root from its own location, so this one runs the copy.
  return (await import(join(dir, "scripts", "engine.ts"))) as EngineModule;
}
