// The floor + D1 control peer: the raw Durable Object floor (../../../../shared/bench-floor) that,
// like the engine, commits every write to D1 before it answers and broadcasts. Under `wrangler dev`
// D1 is simulated in the same workerd process, so its work competes with the socket sends exactly
// as it does for the engine: the difference between this peer and the floor is D1's share of the
// engine's fan-out, and the engine's excess over this peer is its own.
// Same frames and routes as the floor:
//   -> {type:"Request", request_id, payload:{type:"Ping"} | {type:"Write", body}}
//   <- {type:"Response", request_id, result:{status:"success", data} | {status:"error", error}}
//   <- {type:"Event", seq, event:{type:"Written", row:{id, body}}}   (to every socket of the room)
// Routes (room = ?room=NAME, default "default"; one object per room): GET /ws (WebSocket), GET /ping.
// Plain JavaScript, no framework: run with the repository's wrangler, nothing to install.
import { DurableObject } from "cloudflare:workers";

// One D1 database shared by every room, as the engine's is by every session.
const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS rows (room TEXT NOT NULL, id INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (room, id))",
  "CREATE TABLE IF NOT EXISTS events (room TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (room, seq))",
  // No key on request_id: the floor's clients are not told to keep their ids unique across sockets.
  "CREATE TABLE IF NOT EXISTS request_log (room TEXT NOT NULL, request_id TEXT NOT NULL, response TEXT NOT NULL, created_at INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS rooms (room TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
];

const reply = (request_id, result) => JSON.stringify({ type: "Response", request_id, result });

export class Session extends DurableObject {
  // The room's last committed seq, loaded once per instance (like the engine's EventLog): a write's
  // event row carries its seq, so the seq is known before the one batch that commits it.
  seq = null;
  ready = null;
  /** Writes waiting for the commit in flight; committed together in the next batch (group commit). */
  pending = [];
  committing = false;

  /** The room's key in the shared tables: the object's id (one object per room name). */
  room() {
    return this.ctx.id.toString();
  }

  /** Creates the tables (once per instance, IF NOT EXISTS: no migrations) and loads the room's seq. */
  load() {
    this.ready ??= (async () => {
      const room = this.room();
      const db = this.env.DB;
      const results = await db.batch([
        ...SCHEMA.map((sql) => db.prepare(sql)),
        db.prepare("INSERT OR IGNORE INTO rooms (room, seq) VALUES (?, 0)").bind(room),
        db.prepare("SELECT seq FROM rooms WHERE room = ?").bind(room),
      ]);
      this.seq = results.at(-1).results[0].seq;
    })().catch((e) => {
      this.ready = null; // the next write tries again
      throw e;
    });
    return this.ready;
  }

  write(ws, request_id, body) {
    if (typeof body !== "string") throw new Error("body must be a string");
    this.pending.push({ ws, request_id, body });
    if (!this.committing) void this.commitPending();
  }

  // One commit at a time, so seqs are consecutive and every socket gets the events in seq order.
  async commitPending() {
    this.committing = true;
    try {
      while (this.pending.length > 0) {
        const parts = this.pending.splice(0);
        let committed;
        try {
          committed = await this.commit(parts);
        } catch (e) {
          for (const p of parts) send(p.ws, reply(p.request_id, { status: "error", error: { message: String(e) } }));
          continue;
        }
        // The writer's Response first, then the broadcast: the floor's order.
        for (const { part, response, event } of committed) {
          send(part.ws, response);
          this.broadcast(event);
        }
      }
    } finally {
      this.committing = false;
    }
  }

  // What the engine's commit does, in ONE D1 batch: per write the row, its event and the request's
  // recorded response; then the room's seq. Alone, a write is a batch of 4 statements.
  async commit(parts) {
    await this.load();
    const db = this.env.DB;
    const room = this.room();
    const now = Date.now();
    let seq = this.seq;
    const statements = [];
    const committed = parts.map((part) => {
      const row = { id: ++seq, body: part.body };
      const event = { type: "Written", row };
      const result = { status: "success", data: { row } };
      statements.push(
        db.prepare("INSERT INTO rows (room, id, body) VALUES (?, ?, ?)").bind(room, row.id, row.body),
        db.prepare("INSERT INTO events (room, seq, type, body, created_at) VALUES (?, ?, ?, ?, ?)").bind(room, seq, event.type, JSON.stringify(event), now),
        db.prepare("INSERT INTO request_log (room, request_id, response, created_at) VALUES (?, ?, ?, ?)").bind(room, String(part.request_id), JSON.stringify(result.data), now),
      );
      return { part, response: reply(part.request_id, result), event: JSON.stringify({ type: "Event", seq, event }) };
    });
    statements.push(db.prepare("UPDATE rooms SET seq = ? WHERE room = ?").bind(seq, room));
    await db.batch(statements);
    this.seq = seq;
    return committed;
  }

  broadcast(msg) {
    for (const ws of this.ctx.getWebSockets()) send(ws, msg);
  }

  async fetch(request) {
    // Loaded before a socket is accepted, so no timed write pays for it; and the bench's readiness
    // probe (/ping) fails while D1 does not answer.
    try {
      await this.load();
    } catch (e) {
      return Response.json({ status: "error", error: { message: String(e) } }, { status: 500 });
    }
    if (request.headers.get("Upgrade") === "websocket") {
      const pair = new WebSocketPair();
      this.ctx.acceptWebSocket(pair[1]);
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    return Response.json({ status: "success", data: { pong: true } });
  }

  async webSocketMessage(ws, message) {
    let req;
    try {
      req = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message));
    } catch {
      ws.send(JSON.stringify({ type: "Error", error: { message: "bad json" } }));
      return;
    }
    if (req?.type !== "Request") return;
    const { request_id, payload } = req;
    try {
      if (payload?.type === "Ping") ws.send(reply(request_id, { status: "success", data: { pong: true } }));
      else if (payload?.type === "Write") this.write(ws, request_id, payload.body);
      else throw new Error("unknown payload type");
    } catch (e) {
      ws.send(reply(request_id, { status: "error", error: { message: String(e) } }));
    }
  }

  async webSocketClose(ws, code) {
    try {
      ws.close(code, "bye");
    } catch {
      // already closed
    }
  }
}

/** A send to a closing socket throws; the floor ignores it too. */
function send(ws, msg) {
  try {
    ws.send(msg);
  } catch {
    // socket closing; ignore
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/ws" && url.pathname !== "/ping") return new Response("not found", { status: 404 });
    if (url.pathname === "/ws" && request.headers.get("Upgrade") !== "websocket") {
      return new Response("expected websocket", { status: 426 });
    }
    const room = url.searchParams.get("room") ?? "default";
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(room)) return new Response("bad room", { status: 400 });
    return env.SESSION.get(env.SESSION.idFromName(room)).fetch(request);
  },
};
