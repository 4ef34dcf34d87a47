/**
 * Reads the engine's local D1 database directly (`wrangler d1 execute --local`), after the engine
 * stopped: the soak's verdict rests on what is stored, not on what the server says.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

type Row = Record<string, unknown>;

/** Runs the statements (separated by ';') and returns each one's rows. */
export function queryLocalD1(codeDir: string, stateDir: string, sql: string): Row[][] {
  const wrangler = join(codeDir, "node_modules", "wrangler", "bin", "wrangler.js");
  const r = spawnSync(process.execPath, [wrangler, "d1", "execute", "wrldbldr", "--local", "--persist-to", stateDir, "--json", "--command", sql], {
    cwd: codeDir,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`wrangler d1 execute failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as { results: Row[]; success: boolean }[];
  return parsed.map((p) => p.results);
}
