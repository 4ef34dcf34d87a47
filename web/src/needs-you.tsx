import { computed, effect, type ReadonlySignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { ChallengeAttempt, DialogueExchange, Staging } from "../../src/client";
import { dialogueOf, Pending } from "./dialogue-panel";
import { gameplay, RollToResolve, StagingRequest } from "./gameplay";
import type { SessionStore } from "./session-store";

/**
 * "Needs you": one queue of everything waiting for the DM — dialogue drafts to approve, stagings
 * to decide, challenge rolls to resolve —, oldest first, shown on every tab of the DM's page, its
 * count in the top bar and in the page's title ("(2) WrldBldr"). Each item carries its own
 * controls, so acting on it is one or two clicks where the DM already is.
 */
export type QueueItem =
  | { kind: "dialogue"; id: string; at: number; exchange: DialogueExchange }
  | { kind: "staging"; id: string; at: number; staging: Staging & { region_name?: string } }
  | { kind: "roll"; id: string; at: number; attempt: ChallengeAttempt & { challenge_name: string } };

const queues = new WeakMap<SessionStore, ReadonlySignal<QueueItem[]>>();

/** The DM's queue of a store (live from the events the gameplay and dialogue states follow). */
export function queueOf(store: SessionStore): ReadonlySignal<QueueItem[]> {
  let q = queues.get(store);
  if (q) return q;
  const st = gameplay(store);
  const d = dialogueOf(store);
  q = computed<QueueItem[]>(() => {
    if (!store.isDm.value) return [];
    const items: QueueItem[] = [
      ...Object.values(d.exchanges.value)
        .filter((ex) => ex.status === "awaiting_approval" || (ex.status === "generating" && ex.approval))
        .map((ex) => ({ kind: "dialogue" as const, id: ex.id, at: ex.created_at, exchange: ex })),
      ...Object.values(st.pending.value).map((s) => ({ kind: "staging" as const, id: s.id, at: s.created_at, staging: s })),
      ...Object.values(st.attempts.value)
        .filter((a) => a.status === "rolled")
        .map((a) => ({ kind: "roll" as const, id: a.id, at: a.updated_at, attempt: a })),
    ];
    return items.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
  });
  queues.set(store, q);
  return q;
}

/** What the DM must act on now (a draft still being written is shown, not counted). */
export const waitingCount = (items: QueueItem[]) => items.filter((i) => i.kind !== "dialogue" || i.exchange.status === "awaiting_approval").length;

/** Keeps the page title on "(n) WrldBldr" while n things wait for the DM. */
export function useQueueTitle(store: SessionStore): void {
  useEffect(() => {
    const q = queueOf(store);
    const stop = effect(() => {
      const n = waitingCount(q.value);
      document.title = n > 0 ? `(${n}) WrldBldr` : "WrldBldr";
    });
    return () => {
      stop();
      document.title = "WrldBldr";
    };
  }, [store]);
}

/** The top bar's count: a button that brings the queue into view, from any tab. */
export function NeedsYouBadge({ store }: { store: SessionStore }) {
  const n = waitingCount(queueOf(store).value);
  const show = () => {
    const panel = document.getElementById("needs-you") as HTMLDetailsElement | null;
    if (!panel) return;
    panel.open = true;
    panel.scrollIntoView({ block: "start", behavior: "smooth" });
    panel.querySelector<HTMLElement>("summary")?.focus();
  };
  return (
    <button type="button" class={`needs-badge${n > 0 ? " waiting" : ""}`} onClick={show} data-testid="needs-you-count" aria-label={`Needs you: ${n} waiting`}>
      Needs you <span class="count">{n}</span>
    </button>
  );
}

const KIND_WORDS: Record<QueueItem["kind"], string> = { dialogue: "Dialogue", staging: "Who is here", roll: "Roll to resolve" };

/** The queue itself, under the tabs on every tab of the DM's page. */
export function NeedsYou({ store }: { store: SessionStore }) {
  const items = queueOf(store).value;
  const d = dialogueOf(store);
  const n = waitingCount(items);
  return (
    <details id="needs-you" class={`card needs-you${n > 0 ? " has-items" : ""}`} open data-testid="needs-you">
      <summary>
        <h2>
          Needs you <span class="count">{n}</span>
        </h2>
      </summary>
      <ul class="list">
        {items.map((item) => (
          <li key={`${item.kind}-${item.id}`} data-testid={`needs-${item.kind}`}>
            <div class="kind">{KIND_WORDS[item.kind]}</div>
            {item.kind === "dialogue" ? (
              <div data-testid="approval">
                <Pending store={store} d={d} ex={item.exchange} />
              </div>
            ) : item.kind === "staging" ? (
              <ul class="list">
                <StagingRequest store={store} staging={item.staging} />
              </ul>
            ) : (
              <RollToResolve store={store} attempt={item.attempt} />
            )}
          </li>
        ))}
        {items.length === 0 && <li class="muted">Nothing waits for you.</li>}
      </ul>
    </details>
  );
}

/** The player's side: what it waits for from the DM, said plainly, at the top of its page. */
export function PlayerWaits({ store }: { store: SessionStore }) {
  const st = gameplay(store);
  const d = dialogueOf(store);
  const me = store.you.value?.id;
  const pc = store.myPc.value;
  const waits: string[] = [];
  if (st.waiting.value) waits.push(`Waiting for the DM to set who is here in ${st.waiting.value.region_name}…`);
  for (const ex of Object.values(d.exchanges.value)) {
    if (pc && ex.character_id === pc.id && ex.approval && (ex.status === "generating" || ex.status === "awaiting_approval"))
      waits.push(`The DM is reviewing ${store.characters.value[ex.npc_id]?.name ?? "the"}'s answer…`);
  }
  for (const a of Object.values(st.attempts.value)) {
    if (a.participant_id !== me) continue;
    if (a.status === "prompted") waits.push(`The DM asks you to roll for ${a.challenge_name}.`);
    if (a.status === "rolled") waits.push(`The DM is deciding the outcome of ${a.challenge_name}…`);
  }
  if (waits.length === 0) return null;
  return (
    <div class="waits" role="status" data-testid="player-waits">
      <ul>
        {waits.map((w) => (
          <li key={w}>{w}</li>
        ))}
      </ul>
    </div>
  );
}
