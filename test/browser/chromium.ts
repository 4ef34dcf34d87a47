import { existsSync } from "node:fs";
import { chromium as playwright, type Browser } from "playwright-core";

/** Without these, Chromium stalls on a closed network (checked-facts.md). */
const QUIET_NETWORK = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * A headless Chromium from the machine (CHROMIUM_PATH, or /usr/bin/chromium as `.ci/run` installs
 * it), or else the one the npm package @sparticuz/chromium unpacks on first use.
 */
export async function launchChromium(): Promise<Browser> {
  const fromMachine = [process.env.CHROMIUM_PATH, "/usr/bin/chromium"].find((p): p is string => !!p && existsSync(p));
  if (fromMachine) return playwright.launch({ executablePath: fromMachine, headless: true, args: QUIET_NETWORK });
  const { default: packaged } = await import("@sparticuz/chromium");
  const executablePath = await packaged.executablePath();
  // Its args are tuned for AWS Lambda; --single-process there makes closing a context end the
  // whole browser, so it is left out (a normal machine runs Chromium's usual processes).
  const args = packaged.args.filter((a) => a !== "--single-process");
  return playwright.launch({ executablePath, headless: true, args: [...args, ...QUIET_NETWORK] });
}
