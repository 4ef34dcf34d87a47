/**
 * The Worker serves the web client from dist/web ([assets] in wrangler.toml), and both
 * `wrangler dev` and the vitest pool refuse to start without that directory. `npm start`,
 * `npm test` and `npm run deploy` build it every time; this builds it once when it is missing,
 * so a single test project or `tsx scripts/…` also works on a fresh checkout.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const WEB_DIST = join(ROOT, "dist", "web");

export function ensureWebBuild(): void {
  if (existsSync(join(WEB_DIST, "index.html"))) return;
  const vite = join(ROOT, "node_modules", "vite", "bin", "vite.js");
  const r = spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error("building the web client (vite build) failed");
}
