/**
 * A minimal request/response client over the wire protocol for scripts (the demo seed).
 * Applications should use the SDK in src/client instead.
 */
import WebSocket from "ws";

export type Requester = (payload: { type: string; [k: string]: unknown }) => Promise<any>;

export async function openRequester(wsUrl: string, token: string): Promise<{ request: Requester; close(): void }> {
  const ws = new WebSocket(wsUrl, ["wrldbldr.v1", `bearer.${token}`]);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
  });
  const pending = new Map<string, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  ws.on("message", (raw) => {
    const frame = JSON.parse(raw.toString());
    if (frame.type !== "Response") return;
    const p = pending.get(frame.request_id);
    if (!p) return;
    pending.delete(frame.request_id);
    if (frame.result?.status === "success") p.resolve(frame.result.data);
    else p.reject(new Error(`${frame.result?.code}: ${frame.result?.message}`));
  });
  let n = 0;
  const request: Requester = (payload) =>
    new Promise((resolve, reject) => {
      const request_id = `script-${Date.now().toString(36)}-${++n}`;
      pending.set(request_id, { resolve, reject });
      ws.send(JSON.stringify({ type: "Request", request_id, payload }));
    });
  return { request, close: () => ws.close(1000, "done") };
}
