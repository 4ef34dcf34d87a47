/**
 * Shared by the client SDK tests: an engine of their own, sessions and players, a proxy in
 * between, and bounded waiting.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import { WebSocket } from "ws";
import { startEngine, type Engine } from "../../scripts/engine";
import { startProxy, type TcpProxy } from "../../scripts/tcp-proxy";
import { connect, WrldbldrError, type ConnectOptions, type WebSocketConstructor, type WrldbldrClient } from "../../src/client";
import type { AuthGrant } from "../../src/protocol";

export interface TestEngine {
  engine: Engine;
  proxy: TcpProxy;
  stop(): Promise<void>;
}

export async function startTestEngine(vars: Record<string, string> = {}): Promise<TestEngine> {
  const persistDir = mkdtempSync(join(tmpdir(), "wb-client-"));
  const engine = await startEngine({ persistDir, vars: { AUTH_SECRET: "client-test-secret-0123456789abcdef", ...vars } });
  const proxy = await startProxy({ targetPort: engine.port });
  return {
    engine,
    proxy,
    async stop() {
      await proxy.stop();
      await engine.stop();
      rmSync(persistDir, { recursive: true, force: true });
    },
  };
}

/**
 * An engine for this test file: started before its tests, stopped after them together with every
 * client passed to `track`.
 */
export function useTestEngine(vars: Record<string, string> = {}): { t: TestEngine; track: <C extends WrldbldrClient>(c: C) => C } {
  let started: TestEngine | undefined;
  const clients: WrldbldrClient[] = [];
  beforeAll(async () => {
    started = await startTestEngine(vars);
  });
  // Each test's clients close when it ends: one participant may hold only a few live sockets.
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await started?.stop();
  });
  const running = () => {
    if (!started) throw new Error("the test engine is not running (use it inside tests)");
    return started;
  };
  const t: TestEngine = {
    get engine() {
      return running().engine;
    },
    get proxy() {
      return running().proxy;
    },
    stop: () => running().stop(),
  };
  return { t, track: (c) => (clients.push(c), c) };
}

/** A `ws` WebSocket class that also keeps every text frame it receives. */
export function recordingWebSocket(): { frames: string[]; RecordingWebSocket: WebSocketConstructor } {
  const frames: string[] = [];
  class RecordingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener("message", (e) => frames.push(String(e.data)));
    }
  }
  return { frames, RecordingWebSocket };
}

async function post<T>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export function createSession(t: TestEngine, worldName = "Testworld"): Promise<AuthGrant & { invite_code: string }> {
  return post(`${t.engine.url}/auth/sessions`, { world_name: worldName, dm_name: "Dungeon Master" });
}

export function joinSession(t: TestEngine, inviteCode: string, name: string, role?: "player" | "spectator"): Promise<AuthGrant> {
  return post(`${t.engine.url}/auth/join`, { invite_code: inviteCode, name, ...(role ? { role } : {}) });
}

/** The grant's ws_url, routed through the proxy. */
export function viaProxy(t: TestEngine, wsUrl: string): string {
  const url = new URL(wsUrl);
  url.port = String(t.proxy.port);
  return url.toString();
}

/** A client with test-friendly defaults (fast backoff), through the proxy unless told otherwise. */
export function testClient(t: TestEngine, grant: AuthGrant, opts: Partial<ConnectOptions> & { direct?: boolean } = {}): WrldbldrClient {
  const { direct, ...rest } = opts;
  return connect({
    url: direct ? grant.ws_url : viaProxy(t, grant.ws_url),
    token: grant.token,
    WebSocket,
    reconnect: { baseDelayMs: 50, maxDelayMs: 400 },
    ...rest,
  });
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The WrldbldrError a promise rejects with; fails the test if it resolves or rejects otherwise. */
export async function failure(promise: Promise<unknown>): Promise<WrldbldrError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  if (!(outcome.error instanceof WrldbldrError)) throw new Error(`expected a WrldbldrError, got ${String(outcome.error)}`);
  return outcome.error;
}
