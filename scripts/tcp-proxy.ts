/**
 * A tiny TCP proxy on 127.0.0.1 that tests and benchmarks put between a client and the engine to
 * simulate a flaky network: cut every connection, refuse new ones, or stall traffic without
 * closing anything (a "dead" connection that only a heartbeat can detect).
 *
 *   const proxy = await startProxy({ targetPort: engine.port });
 *   connect({ url: `ws://127.0.0.1:${proxy.port}/sessions/…/ws`, … });
 *   proxy.cutAll();            // every open connection is reset
 *   proxy.setBlocked(true);    // new connections are closed at once until setBlocked(false)
 *   proxy.pause(); proxy.resume(); // hold bytes in both directions / deliver them
 *   await proxy.stop();
 */
import { createConnection, createServer, type Socket } from "node:net";

export interface ProxyOptions {
  targetPort: number;
  targetHost?: string;
  /** Port to listen on (127.0.0.1); a free one when omitted. */
  port?: number;
}

export interface TcpProxy {
  readonly port: number;
  /** Connections currently open through the proxy. */
  readonly openConnections: number;
  /** Connections accepted since start (including refused ones while blocked). */
  readonly acceptedConnections: number;
  /** Destroys every open connection (both sides), as a network drop would. */
  cutAll(): void;
  /** While blocked, new connections are closed as soon as they are accepted. */
  setBlocked(blocked: boolean): void;
  /**
   * Stops forwarding bytes (existing and new connections) without closing anything; `"down"`
   * holds only what the server sends (requests still arrive, their answers do not).
   */
  pause(direction?: "both" | "down"): void;
  /** Forwards what was held and everything after. */
  resume(): void;
  stop(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Bytes held while paused, in order, with the socket each must be written to. */
  held: { to: Socket; data: Buffer }[];
}

export async function startProxy(opts: ProxyOptions): Promise<TcpProxy> {
  const targetHost = opts.targetHost ?? "127.0.0.1";
  const pairs = new Set<Pair>();
  let blocked = false;
  let paused: "both" | "down" | null = null;
  let accepted = 0;

  // Forwarding by hand rather than pipe(): pipe() resumes a paused source on 'drain'.
  const forward = (pair: Pair, from: Socket, to: Socket) => {
    from.on("data", (data: Buffer) => {
      if (paused === "both" || (paused === "down" && to === pair.client)) pair.held.push({ to, data });
      else to.write(data);
    });
  };

  const server = createServer((client) => {
    accepted++;
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: targetHost, port: opts.targetPort });
    const pair: Pair = { client, upstream, held: [] };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // Errors (resets) end the pair; they are the point of this tool, not failures.
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    forward(pair, client, upstream);
    forward(pair, upstream, client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  const cutAll = () => {
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      pair.client.resetAndDestroy();
      pair.upstream.destroy();
    }
  };

  return {
    port,
    get openConnections() {
      return pairs.size;
    },
    get acceptedConnections() {
      return accepted;
    },
    cutAll,
    setBlocked(value: boolean) {
      blocked = value;
    },
    pause(direction = "both") {
      paused = direction;
    },
    resume() {
      paused = null;
      for (const pair of pairs) {
        for (const { to, data } of pair.held.splice(0)) to.write(data);
      }
    },
    stop() {
      cutAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
