/** A raw wire-protocol client for Node end-to-end tests (no SDK: these test the server itself). */
import WebSocket from "ws";

type Frame = { type: string; [k: string]: any };

export class WireClient {
  readonly frames: Frame[] = [];
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private n = 0;
  closedWith: number | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (raw) => {
      const text = raw.toString();
      const f: Frame = text === "pong" ? { type: "pong" } : JSON.parse(text);
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => (w.pred(f) ? (w.resolve(f), false) : true));
    });
    ws.on("close", (code) => (this.closedWith = code));
  }

  static open(wsUrl: string, token: string): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, ["wrldbldr.v1", `bearer.${token}`]);
      ws.once("open", () => resolve(new WireClient(ws)));
      ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
      ws.once("error", reject);
    });
  }

  waitFor(pred: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timeout; last frames ${JSON.stringify(this.frames.slice(-3))}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (f) => (clearTimeout(t), resolve(f)) });
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  async request(payload: Record<string, unknown>, id = `e2e-${++this.n}-${Math.random().toString(36).slice(2)}`): Promise<any> {
    this.send({ type: "Request", request_id: id, payload });
    return (await this.waitFor((f) => f.type === "Response" && f.request_id === id)).result;
  }

  async join(last_seq?: number): Promise<Frame> {
    const before = this.frames.length;
    this.send(last_seq === undefined ? { type: "JoinSession" } : { type: "JoinSession", last_seq });
    return this.waitFor((f) => f.type === "SessionJoined" && this.frames.indexOf(f) >= before);
  }

  events(type?: string): Frame[] {
    return this.frames.filter((f) => f.type === "Event" && (!type || f.event.type === type));
  }

  close(): void {
    this.ws.close(1000);
  }
}

export async function postJson(url: string, body: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}
