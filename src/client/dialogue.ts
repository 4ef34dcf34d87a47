import type { DialogueExchange, DialogueTurn, DialogueDecision } from "../protocol/dialogue-entities";
import type { ErrorBody } from "../protocol/errors";
import type { WrldbldrClient } from "./client";
import type { StreamOptions } from "./streams";

/** What the dialogue helpers use of a client (a WrldbldrClient is one). */
export type DialogueClient = Pick<WrldbldrClient, "request" | "on" | "stream">;

/** How an exchange (or one draft of it) ended. */
export type DialogueOutcome =
  /** NpcSpeaks: the final text, for everyone. */
  | { kind: "answered"; exchange: DialogueExchange; turns: DialogueTurn[] }
  /** DialogueFailed: no answer (provider down, stream cut, timeout, cancelled); speak again. */
  | { kind: "failed"; exchange_id: string; error: ErrorBody }
  /** DialogueApprovalRequired (DMs only): the draft waits for ApproveDialogue. */
  | { kind: "awaiting_approval"; exchange: DialogueExchange };

export interface DialogueFollow {
  exchange: DialogueExchange;
  /**
   * The NPC's words as they stream (stream id = `exchange.job_id`): to everyone when the session
   * needs no approval, to DMs only while a draft awaits it. Ends at the stream's end, or quietly
   * once the outcome is known (a player waiting for approval gets no frames at all). Live only:
   * after a drop it throws UNAVAILABLE (`stream_interrupted`) and the outcome still arrives.
   */
  tokens: AsyncIterableIterator<string>;
  /** Resolves with the first of NpcSpeaks, DialogueFailed, DialogueApprovalRequired for this exchange. */
  outcome: Promise<DialogueOutcome>;
  /** Stops listening (the outcome then never resolves). */
  stop(): void;
}

/** Listens for the outcome of one exchange (registered before a request that may cause it). */
function watch(client: DialogueClient, exchangeId: string, signal?: AbortSignal) {
  const reading = new AbortController();
  const offs: (() => void)[] = [];
  const stop = () => {
    offs.splice(0).forEach((off) => off());
    reading.abort();
  };
  signal?.addEventListener("abort", stop, { once: true });
  const outcome = new Promise<DialogueOutcome>((resolve) => {
    const done = (o: DialogueOutcome | null) => {
      if (!o) return;
      stop();
      resolve(o);
    };
    offs.push(
      client.on("NpcSpeaks", (e) => done(e.exchange.id === exchangeId ? { kind: "answered", exchange: e.exchange, turns: e.turns } : null)),
      client.on("DialogueFailed", (e) => done(e.exchange_id === exchangeId ? { kind: "failed", exchange_id: e.exchange_id, error: e.error } : null)),
      client.on("DialogueApprovalRequired", (e) => done(e.exchange.id === exchangeId ? { kind: "awaiting_approval", exchange: e.exchange } : null)),
    );
  });
  return { outcome, stop, reading };
}

function follow(client: DialogueClient, exchange: DialogueExchange, w: ReturnType<typeof watch>): DialogueFollow {
  const live = exchange.status === "generating" && exchange.job_id;
  const tokens = live ? client.stream(exchange.job_id!, { signal: w.reading.signal }) : emptyIterator();
  return { exchange, tokens, outcome: w.outcome, stop: w.stop };
}

/**
 * Follows one exchange: its live tokens and its outcome. Call it as soon as the exchange is known
 * (speakToNpc does): stream frames that arrived earlier are not kept.
 */
export function followDialogue(client: DialogueClient, exchange: DialogueExchange, opts: StreamOptions = {}): DialogueFollow {
  return follow(client, exchange, watch(client, exchange.id, opts.signal));
}

/**
 * SpeakToNpc and follow the answer:
 * ```ts
 * const talk = await speakToNpc(client, { character_id, npc_id, text: "Evening!" });
 * for await (const words of talk.tokens) show(words);
 * const end = await talk.outcome; // answered (final text) | failed | awaiting_approval (DMs)
 * ```
 */
export async function speakToNpc(
  client: DialogueClient,
  input: { character_id: string; npc_id: string; text: string },
  opts: StreamOptions & { timeout?: number } = {},
): Promise<DialogueFollow> {
  const exchange = await client.request({ type: "SpeakToNpc", ...input }, { timeout: opts.timeout });
  return followDialogue(client, exchange, opts);
}

/**
 * DM: ApproveDialogue. `reject` drafts again: the result follows the new draft (its stream and
 * its outcome); after the other decisions the outcome is the NpcSpeaks of the answer.
 */
export async function approveDialogue(
  client: DialogueClient,
  exchangeId: string,
  decision: DialogueDecision,
  extra: { text?: string; feedback?: string; expected_version?: number } = {},
): Promise<DialogueFollow> {
  // The answer's NpcSpeaks may arrive right behind the response: listen first.
  const w = watch(client, exchangeId);
  try {
    return follow(client, await client.request({ type: "ApproveDialogue", exchange_id: exchangeId, decision, ...extra }), w);
  } catch (err) {
    w.stop();
    throw err;
  }
}

function emptyIterator(): AsyncIterableIterator<string> {
  const it: AsyncIterableIterator<string> = {
    next: async () => ({ value: undefined, done: true }),
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}
