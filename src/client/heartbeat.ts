export interface HeartbeatOptions {
  /** Silence after which a `ping` text frame is sent (ms). */
  intervalMs: number;
  /** Further silence after which the link is declared dead (ms). */
  timeoutMs: number;
}

export interface Heartbeat {
  /** Any frame counts as a sign of life (the `pong` answer, or anything else). */
  alive(): void;
  stop(): void;
}

/**
 * Keeps an eye on an open socket: sends `ping` when it has been silent for `intervalMs`, and calls
 * `onDead` when it stays silent `timeoutMs` longer — a dropped Wi-Fi or a sleeping laptop may
 * never deliver a close, so silence is the only signal.
 */
export function startHeartbeat(opts: HeartbeatOptions, sendPing: () => void, onDead: () => void): Heartbeat {
  let lastFrameAt = Date.now();
  let lastPingAt = lastFrameAt;
  const tick = Math.max(50, Math.min(opts.intervalMs, opts.timeoutMs) / 2);
  const timer = setInterval(() => {
    const now = Date.now();
    const silent = now - lastFrameAt;
    if (silent >= opts.intervalMs + opts.timeoutMs) {
      clearInterval(timer);
      onDead();
    } else if (silent >= opts.intervalMs && now - lastPingAt >= opts.intervalMs) {
      lastPingAt = now;
      sendPing();
    }
  }, tick);
  return {
    alive: () => {
      lastFrameAt = Date.now();
    },
    stop: () => clearInterval(timer),
  };
}
