// The Agents SDK peer: one Agent per room speaking exactly the floor's frames
// (../../../../shared/bench-floor, see this folder's README.md), so the bench can put the SDK's own
// per-event broadcast (Agent#broadcast) beside the raw Durable Object and the engine.
//   -> {type:"Request", request_id, payload:{type:"Ping"} | {type:"Write", body}}
//   <- {type:"Response", request_id, result:{status:"success", data} | {status:"error", error}}
//   <- {type:"Event", seq, event:{type:"Written", row:{id, body}}}   (to every socket of the room)
// Routes (room = ?room=NAME, default "default"; one Agent per room): GET /ws (WebSocket), GET /ping.
// Plain JavaScript: the repository's typecheck cannot see the `agents` package, which only this
// folder installs.
import { Agent, getAgentByName } from "agents";

const reply = (request_id, result) => JSON.stringify({ type: "Response", request_id, result });

export class Room extends Agent {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql`CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)`;
  }

  // The bench's client speaks the floor's frames only: no identity/state/MCP frames on connect.
  shouldSendProtocolMessages() {
    return false;
  }

  onRequest() {
    return Response.json({ status: "success", data: { pong: true } });
  }

  onMessage(connection, message) {
    let req;
    try {
      req = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message));
    } catch {
      connection.send(JSON.stringify({ type: "Error", error: { message: "bad json" } }));
      return;
    }
    if (req?.type !== "Request") return;
    const { request_id, payload } = req;
    try {
      if (payload?.type === "Ping") {
        connection.send(reply(request_id, { status: "success", data: { pong: true } }));
      } else if (payload?.type === "Write") {
        if (typeof payload.body !== "string") throw new Error("body must be a string");
        // seq = row id: monotonic per object, survives hibernation (as in the floor).
        const [row] = this.sql`INSERT INTO bench_rows (body) VALUES (${payload.body}) RETURNING id, body`;
        connection.send(reply(request_id, { status: "success", data: { row } }));
        // The SDK's own per-event broadcast to every connection of the room, the writer included.
        this.broadcast(JSON.stringify({ type: "Event", seq: row.id, event: { type: "Written", row } }));
      } else {
        throw new Error("unknown payload type");
      }
    } catch (e) {
      connection.send(reply(request_id, { status: "error", error: { message: String(e) } }));
    }
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
    const agent = await getAgentByName(env.Room, room);
    return agent.fetch(request);
  },
};
