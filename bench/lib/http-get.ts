/** A plain HTTP GET with node:http, on a keep-alive agent (one reused connection) or a fresh connection. */
import { Agent, request } from "node:http";

export function keepAliveAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1 });
}

/** Resolves with the status once the whole body arrived; `agent: false` opens a new TCP connection. */
export function httpGet(url: string, agent: Agent | false, timeoutMs = 15_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, timeout: timeoutMs }, (res) => {
      res.on("data", () => undefined);
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}
