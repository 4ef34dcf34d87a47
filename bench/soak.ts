/**
 * `npm run soak [-- --quick] [-- --seed N]`: SDK clients write and read at random through TCP
 * proxies while connections are cut at random and the engine restarts once; then every
 * acknowledged write must be in D1 exactly once and every client must have seen every event it may
 * see exactly once, in order. Exits non-zero on any violation.
 */
import { runSoak, type SoakConfig } from "./lib/soak/run-soak";
import { renderSoak, writeSoak } from "./lib/soak/soak-report";

const FULL: Omit<SoakConfig, "seed"> = {
  clients: 200,
  durationMs: 120_000,
  pauseMs: [500, 2_500],
  cuts: 40,
  cutFraction: 0.05,
  restartAt: 0.5,
  drainMs: 30_000,
};
const QUICK: Omit<SoakConfig, "seed"> = { clients: 30, durationMs: 20_000, pauseMs: [100, 600], cuts: 8, cutFraction: 0.2, restartAt: 0.5, drainMs: 20_000 };

function seedArg(): number {
  const i = process.argv.indexOf("--seed");
  const n = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isInteger(n) ? n : Math.floor(Math.random() * 1e9);
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  const base = process.argv.includes("--quick") ? QUICK : FULL;
  const log = (msg: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
  const report = await runSoak({ ...base, seed: seedArg(), log });
  console.log(renderSoak(report));
  console.log(`\nresults: ${writeSoak(report, startedAt)}`);
  return report.verdict.violations.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
