/**
 * The engine for a bench or soak run: `wrangler dev` on 127.0.0.1, run from a snapshot of the sources
 * (see code-snapshot.ts) with its state in a fresh temporary directory, restartable on the same port with its state kept, always stopped and removed at the end
 * (also on Ctrl-C).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type Engine, type startEngine } from "../../scripts/engine";
import { snapshotEngine } from "./code-snapshot";
import { killTreesMatching } from "./processes";

/**
 * The bench lifts the per-connection rate limit (DESIGN.md §6: 50/s, burst 100) so that it measures
 * the engine rather than the limiter, and allows 2,000 sockets per session for the 500-socket fan-out
 * (opened by one spectator, like many tabs) and many requests in flight for one DM (throughput).
 */
export const BENCH_VARS: Record<string, string> = {
  RATE_LIMIT_PER_SECOND: "100000",
  RATE_LIMIT_BURST: "100000",
  MAX_SOCKETS_PER_SESSION: "2000",
  MAX_SOCKETS_PER_PARTICIPANT: "2000",
  MAX_INFLIGHT_PER_PARTICIPANT: "100000",
  OUTBOUND_BURST_BYTES: "1073741824",
};

export class LocalEngine {
  private engine?: Engine;
  private launch?: typeof startEngine;
  private constructor(
    /** Holds the code snapshot (code/) and the persisted state (state/). */
    readonly dir: string,
    readonly port: number,
    private readonly vars: Record<string, string>,
    private readonly inspectorPort?: number,
  ) {}

  static async start(vars: Record<string, string> = BENCH_VARS, opts: { inspectorPort?: number } = {}): Promise<LocalEngine> {
    const secret = { AUTH_SECRET: randomBytes(32).toString("hex") };
    const e = new LocalEngine(mkdtempSync(join(tmpdir(), "wrldbldr-bench-")), await freePort(), { ...secret, ...vars }, opts.inspectorPort);
    try {
      e.launch = (await snapshotEngine(e.codeDir)).startEngine;
      await e.up();
    } catch (err) {
      await e.dispose();
      throw err;
    }
    return e;
  }

  get codeDir(): string {
    return join(this.dir, "code");
  }

  get stateDir(): string {
    return join(this.dir, "state");
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What wrangler printed since the last (re)start, for diagnosing a failure. */
  output(): string {
    return this.engine?.output() ?? "";
  }

  /** Stops the engine and starts it again on the same port with the same persisted state. */
  async restart(): Promise<void> {
    await this.stop();
    await this.up();
  }

  /** Stops the engine (idempotent); its state stays until dispose(). */
  async stop(): Promise<void> {
    await this.engine?.stop();
    this.engine = undefined;
  }

  /** Stops the engine and deletes its code snapshot and state. */
  async dispose(): Promise<void> {
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
    process.off("exit", this.onExit);
    await this.stop();
    removeDir(this.dir);
  }

  private async up(): Promise<void> {
    if (!this.launch) throw new Error("engine snapshot missing");
    this.engine = await this.launch({ persistDir: this.stateDir, port: this.port, vars: this.vars, inspectorPort: this.inspectorPort });
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
    process.off("exit", this.onExit);
    process.once("SIGINT", this.onSignal);
    process.once("SIGTERM", this.onSignal);
    process.once("exit", this.onExit);
  }

  /** Exiting without dispose() (an uncaught exception): kill our wrangler tree (found by its state dir), delete the dir. */
  private readonly onExit = () => {
    killTreesMatching(this.stateDir);
    removeDir(this.dir);
  };

  private readonly onSignal = () => {
    void this.dispose().finally(() => process.exit(130));
  };
}

/**
 * Deletes a run's directory. workerd processes may still be writing their last SQLite pages into it
 * for a moment after wrangler exited, so retry; a leftover temp dir must not fail the run.
 */
function removeDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  } catch (err) {
    console.warn(`could not delete ${dir}: ${String(err)}`);
  }
}

/** Runs fn with a fresh engine, always disposing of it. */
export async function withEngine<T>(fn: (engine: LocalEngine) => Promise<T>, vars?: Record<string, string>, opts?: { inspectorPort?: number }): Promise<T> {
  const engine = await LocalEngine.start(vars, opts);
  try {
    return await fn(engine);
  } finally {
    await engine.dispose();
  }
}
