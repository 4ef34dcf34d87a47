import { SELF, abortAllDurableObjects } from "cloudflare:test";
import type { AuthGrant } from "../../src/protocol";

type Frame = { type: string; [k: string]: any };

export const BASE = "http://engine.test";

export async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

export async function createSession(world_name = "Test World", dm_name = "Dungeon Master"): Promise<AuthGrant & { invite_code: string }> {
  const res = await post("/auth/sessions", { world_name, dm_name });
  if (res.status !== 201) throw new Error(`createSession: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function joinSession(invite_code: string, name: string, role?: "player" | "spectator"): Promise<AuthGrant> {
  const res = await post("/auth/join", { invite_code, name, ...(role ? { role } : {}) });
  if (res.status !== 201) throw new Error(`join: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A DM, a player and a spectator in one fresh session, each with a joined socket. */
export async function table() {
  const dmGrant = await createSession();
  const playerGrant = await joinSession(dmGrant.invite_code, "Player One");
  const spectatorGrant = await joinSession(dmGrant.invite_code, "Watcher", "spectator");
  const dm = await TestSocket.open(dmGrant);
  const player = await TestSocket.open(playerGrant);
  const spectator = await TestSocket.open(spectatorGrant);
  for (const s of [dm, player, spectator]) await s.join();
  // Let every ParticipantJoined land before tests count events.
  await dm.waitFor((f) => f.type === "Event" && f.event.type === "ParticipantJoined" && f.event.participant.id === spectatorGrant.participant_id);
  await player.waitFor((f) => f.type === "Event" && f.event.type === "ParticipantJoined" && f.event.participant.id === spectatorGrant.participant_id);
  const close = () => [dm, player, spectator].forEach((s) => s.close());
  /** Evicts the session objects. Everyone disconnects first: aborting an object that holds sockets leaves the test pool unable to stop. */
  const evict = async () => {
    close();
    await Promise.all([dm.waitClosed(), player.waitClosed(), spectator.waitClosed()]);
    await settle(300);
    await abortAllDurableObjects();
  };
  return { dmGrant, playerGrant, spectatorGrant, dm, player, spectator, close, evict };
}

let counter = 0;

/** A WebSocket client inside the Workers runtime, speaking the wire protocol frame by frame. */
export class TestSocket {
  readonly frames: Frame[] = [];
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  closed: { code: number; reason: string } | null = null;
  private closeWaiters: (() => void)[] = [];

  private constructor(
    readonly ws: WebSocket,
    readonly grant: { session_id: string; token: string },
  ) {
    ws.addEventListener("message", (e) => {
      const data = typeof e.data === "string" ? e.data : "";
      const frame: Frame = data === "pong" ? { type: "pong" } : JSON.parse(data);
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    ws.addEventListener("close", (e) => {
      this.closed = { code: e.code, reason: e.reason };
      this.closeWaiters.forEach((f) => f());
    });
  }

  static async upgrade(sessionId: string, token: string | null, how: "protocol" | "query" = "protocol"): Promise<Response> {
    const url = new URL(`${BASE}/sessions/${sessionId}/ws`);
    const headers: Record<string, string> = { upgrade: "websocket" };
    if (token && how === "query") url.searchParams.set("token", token);
    if (token && how === "protocol") headers["sec-websocket-protocol"] = `wrldbldr.v1, bearer.${token}`;
    return SELF.fetch(url, { headers });
  }

  static async open(grant: { session_id: string; token: string }, how: "protocol" | "query" = "protocol"): Promise<TestSocket> {
    const res = await TestSocket.upgrade(grant.session_id, grant.token, how);
    if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade failed: ${res.status} ${await res.text()}`);
    res.webSocket.accept();
    return new TestSocket(res.webSocket, grant);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  waitFor(pred: (f: Frame) => boolean, timeoutMs = 5000, from = 0): Promise<Frame> {
    const seen = this.frames.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for a frame; got ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  }

  /** Sends a Request and resolves with its Response's result (reassembling ResponseChunks). */
  async request(payload: Record<string, unknown>, requestId = `r${++counter}`): Promise<any> {
    const from = this.frames.length;
    this.send({ type: "Request", request_id: requestId, payload });
    return this.response(requestId, from);
  }

  async response(requestId: string, from = 0): Promise<any> {
    const res = await this.waitFor((f) => f.type === "Response" && f.request_id === requestId, 10_000, from);
    if (res.result) return res.result;
    const chunks = this.frames.filter((f, i) => i >= from && f.type === "ResponseChunk" && f.request_id === requestId);
    if (chunks.length !== res.chunks) throw new Error(`expected ${res.chunks} chunks, got ${chunks.length}`);
    return JSON.parse(
      chunks
        .sort((a, b) => a.index - b.index)
        .map((c) => c.data)
        .join(""),
    );
  }

  /** request() that expects success and returns data. */
  async ok(payload: Record<string, unknown>, requestId?: string): Promise<any> {
    const r = await this.request(payload, requestId);
    if (r?.status !== "success") throw new Error(`${payload.type} failed: ${JSON.stringify(r)}`);
    return r.data;
  }

  async join(last_seq?: number): Promise<Frame> {
    const from = this.frames.length;
    this.send(last_seq === undefined ? { type: "JoinSession" } : { type: "JoinSession", last_seq });
    return this.waitFor((f) => f.type === "SessionJoined", 5000, from);
  }

  events(type?: string): Frame[] {
    return this.frames.filter((f) => f.type === "Event" && (!type || f.event.type === type));
  }

  lastSeq(): number {
    const evs = this.events();
    return evs.length ? evs[evs.length - 1]!.seq : 0;
  }

  waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("socket did not close")), timeoutMs);
      this.closeWaiters.push(() => (clearTimeout(t), resolve(this.closed!)));
    });
  }

  close(): void {
    try {
      this.ws.close(1000, "test done");
    } catch {
      // already closed
    }
  }
}

/** Waits a little so that frames that should NOT arrive would have arrived. */
export const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));
