/**
 * The web client's size as shipped: every built JavaScript file (the app, Preact, the client SDK)
 * in dist/web, raw and gzipped. `npm run size` prints it; `npm run bench` prints it with its
 * results; the browser tests hold it to the budget.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { WEB_DIST } from "./web-build";

export { WEB_DIST };
/** The budget for the app's JavaScript, gzipped (the 60 kB). */
export const JS_GZIP_BUDGET_BYTES = 60 * 1024;

export interface BundleSize {
  files: number;
  jsBytes: number;
  jsGzipBytes: number;
  cssGzipBytes: number;
}

export function webBundleSize(dir = WEB_DIST): BundleSize {
  const files = readdirSync(join(dir, "static")).map((f) => join(dir, "static", f));
  const sum = (ext: string, size: (b: Buffer) => number) => files.filter((f) => f.endsWith(ext)).reduce((n, f) => n + size(readFileSync(f)), 0);
  const gz = (b: Buffer) => gzipSync(b, { level: 9 }).length;
  return {
    files: files.length,
    jsBytes: sum(".js", (b) => b.length),
    jsGzipBytes: sum(".js", gz),
    cssGzipBytes: sum(".css", gz),
  };
}

const kB = (n: number) => `${(n / 1024).toFixed(1)} kB`;

export function bundleSizeLine(size = webBundleSize()): string {
  const verdict = size.jsGzipBytes <= JS_GZIP_BUDGET_BYTES ? "within" : "OVER";
  return `web client: JavaScript ${kB(size.jsBytes)} (${kB(size.jsGzipBytes)} gzipped, ${verdict} the ${kB(JS_GZIP_BUDGET_BYTES)} budget), CSS ${kB(size.cssGzipBytes)} gzipped`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = webBundleSize();
  console.log(bundleSizeLine(size));
  process.exit(size.jsGzipBytes <= JS_GZIP_BUDGET_BYTES ? 0 : 1);
}
