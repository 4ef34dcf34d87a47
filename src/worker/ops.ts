import { Hono } from "hono";
import type { Env } from "../env";
import { AppError } from "../protocol";
import { bearer, safeEqual } from "./errors";

export const VERSION = "0.1.0";

/** GET /health and GET /metrics, for ops. */
export const opsRoutes = new Hono<{ Bindings: Env }>()
  .get("/health", async (c) => {
    const started = Date.now();
    try {
      await c.env.DB.prepare("SELECT 1").first();
      return c.json({ status: "ok", version: VERSION, d1: { ok: true, latency_ms: Date.now() - started }, time: new Date().toISOString() });
    } catch (err) {
      return c.json({ status: "degraded", version: VERSION, d1: { ok: false, error: String(err) }, time: new Date().toISOString() }, 503);
    }
  })
  .get("/metrics", async (c) => {
    const required = c.env.METRICS_TOKEN;
    if (required) {
      const given = bearer(c);
      if (!given) throw new AppError("UNAUTHENTICATED", "metrics need the METRICS_TOKEN as a Bearer token");
      if (!safeEqual(given, required)) throw new AppError("FORBIDDEN", "wrong metrics token");
    }
    const db = c.env.DB;
    const [counts, ops, gauges] = await db.batch<Record<string, number | string>>([
      db.prepare(
        "SELECT (SELECT COUNT(*) FROM sessions) AS sessions, (SELECT COUNT(*) FROM participants) AS participants, (SELECT COUNT(*) FROM participants WHERE kicked_at IS NOT NULL) AS kicked, (SELECT COUNT(*) FROM events) AS events, (SELECT COUNT(*) FROM request_log) AS recorded_requests, (SELECT COUNT(*) FROM characters) AS characters",
      ),
      db.prepare("SELECT op, code, SUM(count) AS count, SUM(duration_ms_sum) AS ms FROM op_metrics GROUP BY op, code ORDER BY op, code"),
      db
        .prepare(
          "SELECT COALESCE(SUM(sockets),0) AS sockets, COALESCE(SUM(replayed_requests),0) AS replayed_requests, COALESCE(SUM(replayed_events),0) AS replayed_events FROM session_gauges WHERE updated_at > ?",
        )
        .bind(Date.now() - 5 * 60_000),
    ]);
    const k = counts!.results[0]!;
    const g = gauges!.results[0]!;
    const esc = (s: unknown) => String(s).replace(/\\/g, "\\\\").replace(/"/g, '\\"');
    const lines = [
      "# HELP wrldbldr_info Build information.",
      "# TYPE wrldbldr_info gauge",
      `wrldbldr_info{version="${VERSION}"} 1`,
      ...gauge("wrldbldr_sessions", "Game sessions stored.", k.sessions),
      ...gauge("wrldbldr_participants", "Participants stored (kicked included).", k.participants),
      ...gauge("wrldbldr_participants_kicked", "Participants kicked.", k.kicked),
      ...gauge("wrldbldr_characters", "Characters stored.", k.characters),
      ...gauge("wrldbldr_event_log_events", "Events retained in the event logs.", k.events),
      ...gauge("wrldbldr_request_log_entries", "Recorded responses kept for idempotent replay.", k.recorded_requests),
      ...gauge("wrldbldr_sockets", "Open WebSockets (sessions active in the last 5 minutes).", g.sockets),
      "# HELP wrldbldr_requests_total Requests handled, by operation and result code.",
      "# TYPE wrldbldr_requests_total counter",
      ...ops!.results.map((r) => `wrldbldr_requests_total{op="${esc(r.op)}",code="${esc(r.code)}"} ${r.count}`),
      "# HELP wrldbldr_request_duration_ms_sum Total handling time, by operation and result code.",
      "# TYPE wrldbldr_request_duration_ms_sum counter",
      ...ops!.results.map((r) => `wrldbldr_request_duration_ms_sum{op="${esc(r.op)}",code="${esc(r.code)}"} ${r.ms}`),
      "# HELP wrldbldr_replayed_requests_total Requests answered from the request log (re-sent ids).",
      "# TYPE wrldbldr_replayed_requests_total counter",
      `wrldbldr_replayed_requests_total ${g.replayed_requests}`,
      "# HELP wrldbldr_replayed_events_total Events replayed to resuming clients.",
      "# TYPE wrldbldr_replayed_events_total counter",
      `wrldbldr_replayed_events_total ${g.replayed_events}`,
    ];
    return c.text(`${lines.join("\n")}\n`, 200, { "content-type": "text/plain; version=0.0.4" });
  });

function gauge(name: string, help: string, value: unknown): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${Number(value ?? 0)}`];
}
