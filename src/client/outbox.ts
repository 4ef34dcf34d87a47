import type { ResponseFrame, Result } from "../protocol/envelope";
import { WrldbldrError } from "./errors";
import { isResult } from "./frames";
import { sortOutbox, type OutboxEntry, type OutboxStore } from "./store";
import { stopTimer } from "./timers";

/** How a request ended: what its caller (or, for a restored request, onRestoredResult) receives. */
export type RequestResult = { ok: true; data: unknown; replayed: boolean } | { ok: false; error: WrldbldrError };

interface Caller {
  resolve(result: { data: unknown; replayed: boolean }): void;
  reject(err: WrldbldrError): void;
}

/** A request the server has not answered yet (sent or not). */
interface Pending {
  entry: OutboxEntry;
  frame: string;
  persisted: boolean;
  /** Generation of the socket it was last sent on: it is sent again on every newer socket. */
  sentOn?: number;
  /** Absent for requests restored from the store: nobody awaits them in this life. */
  caller?: Caller;
  timer?: ReturnType<typeof setTimeout>;
  retryTimer?: ReturnType<typeof setTimeout>;
  /** When the request times out (Date.now() ms), if it does. */
  deadline?: number;
}

/** The socket the outbox may write to, if one is open. */
export interface Link {
  generation: number;
  send(text: string): void;
}

export interface OutboxDeps {
  store: OutboxStore;
  link(): Link | undefined;
  /** Answers to restored requests, which have no caller. */
  onRestored(entry: OutboxEntry, result: RequestResult): void;
  report(err: unknown): void;
}

/**
 * Every request not yet answered, in sending order: sent on the open socket, sent again with the
 * same id on each new socket until answered (the server's request log makes that exactly-once),
 * mirrored in the store so that it can outlive the page.
 */
export class Outbox {
  private readonly pending = new Map<string, Pending>();
  private readonly chunks = new Map<string, string[]>();
  private order = 0;

  constructor(private readonly deps: OutboxDeps) {}

  ids(): string[] {
    return [...this.pending.keys()];
  }

  has(requestId: string): boolean {
    return this.pending.has(requestId);
  }

  add(requestId: string, payload: OutboxEntry["payload"], opts: { persist: boolean; timeoutMs: number; caller: Caller }): void {
    const entry: OutboxEntry = { request_id: requestId, payload, created_at: Date.now(), order: this.order++ };
    const p = this.track(entry, opts.persist, opts.caller);
    if (opts.timeoutMs > 0) {
      p.deadline = Date.now() + opts.timeoutMs;
      p.timer = setTimeout(() => this.timeOut(p, opts.timeoutMs), opts.timeoutMs);
    }
    if (opts.persist) this.deps.store.put(entry).catch(this.deps.report);
    this.send(p);
  }

  /** Loads what an earlier life left in the store; it goes out before anything asked since. */
  async restore(): Promise<void> {
    const restored = sortOutbox(await this.deps.store.load()).filter((e) => !this.pending.has(e.request_id));
    if (restored.length === 0) return;
    const mine = [...this.pending.values()];
    this.pending.clear();
    for (const entry of restored) this.track(entry, true);
    for (const p of mine) this.pending.set(p.entry.request_id, p);
  }

  /** Sends everything not yet sent on the current socket, in order. */
  flush(): void {
    for (const p of this.pending.values()) this.send(p);
  }

  /** The socket is gone: partial chunked answers and scheduled retries go with it. */
  disconnected(): void {
    this.chunks.clear();
    for (const p of this.pending.values()) stopTimer(p.retryTimer);
  }

  onChunk(requestId: string, index: number, data: string): void {
    const parts = this.chunks.get(requestId) ?? [];
    parts[index] = data;
    this.chunks.set(requestId, parts);
  }

  onResponse(frame: ResponseFrame): void {
    const result = this.assembleResult(frame);
    const p = this.pending.get(frame.request_id);
    if (!p) return; // answered already (a duplicate), or timed out and forgotten
    if (result instanceof WrldbldrError) return this.finish(p, { ok: false, error: result });
    if (result.status === "success") return this.finish(p, { ok: true, data: result.data, replayed: result.replayed === true });
    const error = new WrldbldrError(result, { requestId: frame.request_id });
    if (result.code === "RATE_LIMITED") return this.retryLater(p, error);
    this.finish(p, { ok: false, error });
  }

  /** Ends every request with `error` (the client closed); `keepStored` leaves the store as is. */
  failAll(error: WrldbldrError, keepStored: boolean): void {
    for (const p of [...this.pending.values()]) this.finish(p, { ok: false, error }, keepStored);
  }

  private track(entry: OutboxEntry, persisted: boolean, caller?: Caller): Pending {
    const frame = JSON.stringify({ type: "Request", request_id: entry.request_id, payload: entry.payload });
    const p: Pending = { entry, frame, persisted, caller };
    this.pending.set(entry.request_id, p);
    return p;
  }

  private send(p: Pending): void {
    const link = this.deps.link();
    if (!link || p.sentOn === link.generation) return;
    p.sentOn = link.generation;
    link.send(p.frame);
  }

  private timeOut(p: Pending, ms: number): void {
    const sent = p.sentOn !== undefined;
    const hint = sent ? "ask again with the same requestId to learn whether it was applied" : "it was never sent";
    const details = { request_id: p.entry.request_id, outcome: sent ? "unknown" : "not_sent" };
    this.finish(p, { ok: false, error: WrldbldrError.local("TIMEOUT", `no response within ${ms} ms; ${hint}`, details, p.entry.request_id) });
  }

  private finish(p: Pending, result: RequestResult, keepStored = false): void {
    if (this.pending.get(p.entry.request_id) !== p) return;
    this.pending.delete(p.entry.request_id);
    stopTimer(p.timer);
    stopTimer(p.retryTimer);
    if (p.persisted && !keepStored) this.deps.store.delete(p.entry.request_id).catch(this.deps.report);
    if (!p.caller) return this.deps.onRestored(p.entry, result);
    if (result.ok) p.caller.resolve(result);
    else p.caller.reject(result.error);
  }

  /** The result of a Response, joining its ResponseChunks when it came in pieces. */
  private assembleResult(frame: ResponseFrame): Result | WrldbldrError {
    if (frame.result) return frame.result;
    const parts = this.chunks.get(frame.request_id);
    this.chunks.delete(frame.request_id);
    // Array.from turns holes (a chunk that never came) into undefined, which every() then sees.
    if (parts && parts.length === frame.chunks && Array.from(parts).every((c) => c !== undefined)) {
      try {
        const result: unknown = JSON.parse(parts.join(""));
        if (isResult(result)) return result;
      } catch {
        // unreadable: answered with the error below
      }
    }
    return WrldbldrError.local("INTERNAL", "a chunked response arrived incomplete or unreadable", { request_id: frame.request_id }, frame.request_id);
  }

  /** RATE_LIMITED changed nothing: send the same request again once the server allows it. */
  private retryLater(p: Pending, error: WrldbldrError): void {
    const wait = Number(error.details.retry_after_ms) || 1000;
    // A wait past the request's timeout (a dialogue budget: up to a minute) would end in a TIMEOUT
    // saying nothing of why: the caller gets the RATE_LIMITED error, with its retry_after_ms, now.
    if (p.deadline !== undefined && Date.now() + wait >= p.deadline) return this.finish(p, { ok: false, error });
    p.sentOn = undefined;
    stopTimer(p.retryTimer);
    p.retryTimer = setTimeout(() => this.send(p), wait);
  }
}
