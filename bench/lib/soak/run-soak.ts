/**
 * The soak, implemented once for `npm run soak` and the quick version in `npm test`:
 * players (SDK clients, each through its own TCP proxy) write and read at random while a fault loop
 * cuts random connections and restarts the engine once (state kept). Then every client drains, the
 * engine stops, and verify.ts compares what the clients were told with what D1 holds.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { joinSession, createSession } from "../auth";
import { mapLimit, sleep, waitUntil } from "../bounded";
import { LocalEngine } from "../local-engine";
import { rng, type Rng } from "../prng";
import { WireClient } from "../wire-client";
import { queryLocalD1 } from "./local-d1";
import { SoakClient } from "./soak-client";
import { verifySoak, type SoakVerdict, type StoredRows } from "./verify";

export interface SoakConfig {
  clients: number;
  /** How long the clients keep sending new operations. */
  durationMs: number;
  /** Pause between one client's operations, ms [min, max]. */
  pauseMs: [number, number];
  /** Fault loop: this many cuts, evenly spaced over the run. */
  cuts: number;
  /** Share of the clients whose connection each cut resets (at least one). */
  cutFraction: number;
  /** Restart the engine once at this point of the run (0..1). */
  restartAt: number;
  /** After the run: how long unanswered requests and undelivered events may take to arrive. */
  drainMs: number;
  seed: number;
  /** Engine vars (limits); the soak keeps the default rate limit unless told otherwise. */
  vars?: Record<string, string>;
  log?: (msg: string) => void;
}

export interface SoakReport {
  config: Omit<SoakConfig, "log">;
  faults: { cuts: number; connections_cut: number; restarts: number; restart_ms: number };
  /**
   * How late this process's own timers ran (all clients share one Node event loop): a heartbeat
   * timeout while this is high is the test client's lag, not the server's silence.
   */
  client_event_loop_delay_ms: { p99: number; max: number };
  verdict: SoakVerdict;
  duration_ms: number;
}

/** Cut times (ms from start) evenly spaced, and the restart time. */
function schedule(cfg: SoakConfig): { cutsAt: number[]; restartAt: number } {
  const cutsAt = Array.from({ length: cfg.cuts }, (_, i) => Math.round(((i + 1) * cfg.durationMs) / (cfg.cuts + 1)));
  return { cutsAt, restartAt: Math.round(cfg.restartAt * cfg.durationMs) };
}

async function faultLoop(engine: LocalEngine, clients: SoakClient[], cfg: SoakConfig, rand: Rng, start: number, faults: SoakReport["faults"]): Promise<void> {
  const { cutsAt, restartAt } = schedule(cfg);
  const events = [...cutsAt.map((at) => ({ at, kind: "cut" as const })), { at: restartAt, kind: "restart" as const }].sort((a, b) => a.at - b.at);
  for (const e of events) {
    await sleep(Math.max(0, start + e.at - Date.now()));
    if (e.kind === "restart") {
      cfg.log?.("fault: restarting the engine");
      const t0 = Date.now();
      await engine.restart();
      faults.restart_ms = Date.now() - t0;
      faults.restarts++;
      continue;
    }
    const count = Math.max(1, Math.round(clients.length * cfg.cutFraction));
    for (const c of rand.sample(clients, count)) {
      faults.connections_cut += c.proxy.openConnections;
      c.proxy.cutAll();
    }
    faults.cuts++;
  }
}

const UUID = /^[0-9a-f-]{36}$/;

function readStoredRows(engine: LocalEngine, sessionId: string): StoredRows {
  if (!UUID.test(sessionId)) throw new Error(`unexpected session id ${sessionId}`);
  const where = `session_id = '${sessionId}'`;
  const [characters, items, events, requests] = queryLocalD1(
    engine.codeDir,
    engine.stateDir,
    [
      `SELECT id, owner_participant_id, version FROM characters WHERE ${where}`,
      `SELECT id, character_id, name FROM inventory_items WHERE ${where}`,
      `SELECT seq, audience, recipients, cause_request_id FROM events WHERE ${where} ORDER BY seq`,
      `SELECT participant_id, request_id FROM request_log WHERE ${where}`,
    ].join("; "),
  );
  return { characters, items, events, requests } as unknown as StoredRows;
}

export async function runSoak(cfg: SoakConfig): Promise<SoakReport> {
  const log = cfg.log ?? (() => undefined);
  const rand = rng(cfg.seed);
  const t0 = Date.now();
  const engine = await LocalEngine.start(cfg.vars ?? {});
  const clients: SoakClient[] = [];
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  try {
    const dm = await createSession(engine.url, "soak world");
    const grants = await mapLimit(Array.from({ length: cfg.clients }), 8, (_, i) => joinSession(engine.url, dm.invite_code, `player ${i}`));
    log(`${cfg.clients} players joined; connecting`);
    clients.push(...(await mapLimit(grants, 16, (grant, index) => SoakClient.start({ enginePort: engine.port, grant, index }))));
    const opened = await waitUntil(() => clients.every((c) => c.sdk.state === "open"), 30_000, 50);
    if (!opened) throw new Error("not every soak client could join within 30 s");
    await mapLimit(clients, 16, (c) => c.createCharacter());

    log(`running ${cfg.durationMs / 1000} s: ${cfg.cuts} cuts, one restart`);
    const faults = { cuts: 0, connections_cut: 0, restarts: 0, restart_ms: 0 };
    const start = Date.now();
    const until = start + cfg.durationMs;
    const runs = clients.map((c, i) => c.run(rng(cfg.seed * 1000 + i), until, cfg.pauseMs));
    await faultLoop(engine, clients, cfg, rand, start, faults);
    const drained = await Promise.race([Promise.all(runs).then(() => true), sleep(Math.max(0, until - Date.now()) + cfg.drainMs).then(() => false)]);
    if (!drained) log("drain bound reached: some requests are still unanswered");

    // The final seq, then every client must have caught up to it.
    const probe = await WireClient.open(dm.ws_url, dm.token, "probe");
    const snapshot = await probe.call<{ session: { seq: number } }>({ type: "GetSessionSnapshot" });
    await probe.close();
    const finalSeq = snapshot.session.seq;
    await waitUntil(() => clients.every((c) => (c.sdk.lastSeq ?? 0) >= finalSeq), cfg.drainMs, 50);
    for (const c of clients) c.close();
    await Promise.all(clients.map((c) => c.proxy.stop()));
    await engine.stop();

    log("engine stopped; reading D1");
    const verdict = verifySoak(
      clients.map((c) => c.ledger),
      readStoredRows(engine, dm.session_id),
      finalSeq,
    );
    const { log: _log, ...config } = cfg;
    const ms = (ns: number) => Math.round(ns / 1e6);
    return { config, faults, client_event_loop_delay_ms: { p99: ms(lag.percentile(99)), max: ms(lag.max) }, verdict, duration_ms: Date.now() - t0 };
  } finally {
    lag.disable();
    for (const c of clients) c.close();
    await Promise.all(clients.map((c) => c.proxy.stop().catch(() => undefined)));
    await engine.dispose();
  }
}
