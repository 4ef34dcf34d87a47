import { effect, signal, type Signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import type { DialogueExchange } from "../../src/client";
import type { Character } from "../../src/client";
import type { SessionStore } from "./session-store";
import { gameplay, usePresence } from "./gameplay";
import { Section } from "./ui";

/**
 * Dialogue in the page (docs/dialogue.md): the exchanges this participant may see, kept live from
 * the dialogue events, and the words streaming right now (by stream id = the exchange's job id).
 */
export class DialogueState {
  readonly exchanges: Signal<Record<string, DialogueExchange>> = signal({});
  readonly live: Signal<Record<string, string>> = signal({});
  readonly failures: Signal<Record<string, string>> = signal({});

  constructor(store: SessionStore) {
    const c = store.client;
    const keep = (e: { exchange: DialogueExchange }) => this.put(e.exchange);
    c.on("DialogueStarted", keep);
    c.on("DialogueApprovalRequired", keep);
    c.on("DialogueRegenerating", keep);
    c.on("NpcSpeaks", keep);
    c.on("DialogueFailed", (e) => {
      const ex = this.exchanges.value[e.exchange_id];
      if (ex) this.put({ ...ex, status: "failed", version: ex.version + 1 });
      this.failures.value = { ...this.failures.value, [e.exchange_id]: e.error.message };
    });
    // What waited before the page opened (ListDmQueue / ListMyWaits, read by the gameplay state).
    effect(() => gameplay(store).drafts.value.forEach((ex) => this.put(ex)));
    c.onStream((f) => {
      if (f.delta) this.live.value = { ...this.live.value, [f.stream_id]: (this.live.value[f.stream_id] ?? "") + f.delta };
    });
  }

  put(ex: DialogueExchange): void {
    const old = this.exchanges.peek()[ex.id];
    if (old && old.version > ex.version) return;
    this.exchanges.value = { ...this.exchanges.peek(), [ex.id]: ex };
  }

  list(filter: (ex: DialogueExchange) => boolean): DialogueExchange[] {
    return Object.values(this.exchanges.value)
      .filter(filter)
      .sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
  }
}

const states = new WeakMap<SessionStore, DialogueState>();
export function dialogueOf(store: SessionStore): DialogueState {
  let s = states.get(store);
  if (!s) states.set(store, (s = new DialogueState(store)));
  return s;
}

const nameOf = (store: SessionStore, id: string) => store.characters.value[id]?.name ?? "Someone";
/** Who wrote an answer: the DM's own words are labelled as the DM's; an edited draft says so; the offline stand-in too. */
export const ProviderTag = ({ ex }: { ex: Pick<DialogueExchange, "provider" | "source"> }) =>
  ex.source === "dm" ? (
    <span class="tag dm" data-testid="said-by-dm">
      written by the DM
    </span>
  ) : ex.source === "dm_edit" ? (
    <span class="tag">edited by the DM</span>
  ) : ex.provider === "offline" ? (
    <span class="tag" title="No language model is connected: a stand-in answered">
      offline
    </span>
  ) : null;

/** The player's dialogue: speak to an NPC present with the PC, read the answers as they come. */
export function DialoguePanel({ store, pc }: { store: SessionStore; pc: Character }) {
  const d = dialogueOf(store);
  // Only whom the server's presence offers (never the NPCs' own region; nobody while the DM decides).
  const presence = usePresence(store, pc.region_id);
  const present =
    presence && presence.status !== "pending" ? presence.npcs_present.filter((n) => !n.hidden).map((n) => ({ id: n.character_id, name: n.name })) : [];
  const [npcId, setNpcId] = useState("");
  const [text, setText] = useState("");
  const target = present.find((c) => c.id === npcId) ?? present[0];
  const mine = d.list((ex) => ex.character_id === pc.id).slice(-12);
  const speak = async (e: Event) => {
    e.preventDefault();
    if (!target || !text.trim()) return;
    const ex = await store.run({ type: "SpeakToNpc", character_id: pc.id, npc_id: target.id, text: text.trim() }, { labels: { text: "What you say" } });
    if (ex) {
      d.put(ex);
      setText("");
    }
  };
  return (
    <Section title="Talk" id="dialogue">
      <ul class="list dialogue" data-testid="dialogue-log">
        {mine.map((ex) => (
          <li key={ex.id} data-testid="dialogue-exchange">
            <div>
              <strong>{pc.name}:</strong> {ex.player_text}
            </div>
            <div data-testid="npc-answer">
              <strong>{nameOf(store, ex.npc_id)}:</strong>{" "}
              {ex.status === "answered" ? (
                <>
                  {ex.text} <ProviderTag ex={ex} />
                </>
              ) : ex.status === "failed" ? (
                <span class="muted">(no answer: {d.failures.value[ex.id] ?? "it failed"})</span>
              ) : ex.job_id && d.live.value[ex.job_id] && !ex.approval ? (
                <span class="live">{d.live.value[ex.job_id]}</span>
              ) : (
                <span class="muted">{ex.approval ? "(the DM is reviewing the answer…)" : "(thinking…)"}</span>
              )}
            </div>
          </li>
        ))}
        {mine.length === 0 && <li class="muted">Speak to someone here; everything said is in the game log.</li>}
      </ul>
      {presence?.status === "pending" ? (
        <p class="muted">Waiting for the DM to set who is here…</p>
      ) : present.length === 0 ? (
        <p class="muted">Nobody here to talk to.</p>
      ) : (
        <form onSubmit={speak} class="dialogue-form">
          <label>
            To{" "}
            <select value={target?.id} onChange={(e) => setNpcId((e.currentTarget as HTMLSelectElement).value)} data-testid="dialogue-npc">
              {present.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
          <input
            value={text}
            maxLength={2000}
            placeholder="Say something…"
            aria-label="What you say"
            data-testid="dialogue-text"
            onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
          />
          <button type="submit" disabled={!text.trim()}>
            Speak
          </button>
        </form>
      )}
    </Section>
  );
}

export function Pending({ store, d, ex }: { store: SessionStore; d: DialogueState; ex: DialogueExchange }) {
  const [words, setWords] = useState(ex.dm_draft ?? "");
  const [feedback, setFeedback] = useState("");
  useEffect(() => setWords(ex.dm_draft ?? ""), [ex.dm_draft]);
  const decide = async (decision: "accept" | "edit" | "reject" | "take_over", extra: { text?: string; feedback?: string } = {}) => {
    const after = await store.run({ type: "ApproveDialogue", exchange_id: ex.id, decision, ...extra });
    if (after) d.put(after);
  };
  const npc = nameOf(store, ex.npc_id);
  return (
    <div>
      <div>
        <strong>{nameOf(store, ex.character_id)}</strong> to <strong>{npc}</strong>: {ex.player_text}
      </div>
      {ex.status === "generating" ? (
        <div class="muted" data-testid="draft-live">
          {npc} (drafting{ex.attempts > 1 ? `, try ${ex.attempts}` : ""}): {ex.job_id ? (d.live.value[ex.job_id] ?? "…") : "…"}
        </div>
      ) : (
        <>
          <div data-testid="draft">
            <strong>{npc} (draft):</strong> {ex.dm_draft} <ProviderTag ex={ex} />
          </div>
          {ex.dm_reasoning && <div class="muted small">Why: {ex.dm_reasoning}</div>}
          <textarea
            value={words}
            aria-label="The answer to say"
            data-testid="draft-text"
            onInput={(e) => setWords((e.currentTarget as HTMLTextAreaElement).value)}
          />
          <div class="buttons">
            <button type="button" onClick={() => decide("accept")}>
              Accept
            </button>
            <button type="button" disabled={!words.trim() || words === ex.dm_draft} onClick={() => decide("edit", { text: words.trim() })}>
              Say edited
            </button>
            <button type="button" disabled={!words.trim()} onClick={() => decide("take_over", { text: words.trim() })}>
              Say as DM
            </button>
          </div>
          <div class="buttons">
            <input
              value={feedback}
              placeholder="Feedback for a new draft"
              aria-label="Feedback for a new draft"
              onInput={(e) => setFeedback((e.currentTarget as HTMLInputElement).value)}
            />
            <button type="button" onClick={() => decide("reject", { feedback: feedback.trim() })}>
              Reject and redraft
            </button>
          </div>
        </>
      )}
    </div>
  );
}
