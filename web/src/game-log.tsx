import { signal, type Signal } from "@preact/signals";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import type { ComponentChildren } from "preact";
import type { PlayLogEntry } from "../../src/client";
import type { SessionStore } from "./session-store";
import { breakdown, OUTCOME_WORDS } from "./gameplay";
import { Section } from "./ui";

/**
 * The game log: the play log the server keeps (words said, rolls with their dice, challenges and
 * outcomes, arrivals and departures, scene changes, story entries), read newest-first a page at a
 * time and kept live by its event. Entries are kept by id (a page and a live event may carry the
 * same one) and shown oldest to newest, so a reload or a new device shows the evening so far, in
 * order, once.
 */

export type LogEntry = PlayLogEntry;

/** Entries per page read. */
const PAGE = 50;

export class PlayLog {
  readonly entries: Signal<LogEntry[]> = signal([]);
  readonly more = signal(true);
  readonly loading = signal(false);
  private cursor: string | null = null;
  private byId = new Map<string, LogEntry>();

  constructor(private readonly store: SessionStore) {}

  /** Adds entries (from a page or the live event), each once, in the server's order. */
  merge(items: LogEntry[]): void {
    let changed = false;
    for (const e of items) {
      if (!e?.id) continue;
      if (this.byId.has(e.id)) continue;
      this.byId.set(e.id, e);
      changed = true;
    }
    if (changed) this.entries.value = [...this.byId.values()].sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The newest page, from scratch (first join, a snapshot resume). */
  async reload(): Promise<void> {
    this.cursor = null;
    this.byId.clear();
    this.entries.value = [];
    this.more.value = true;
    await this.older();
  }

  /** The next page back in time. */
  async older(): Promise<void> {
    if (this.loading.value || !this.more.value) return;
    this.loading.value = true;
    try {
      const page = await readLogPage(this.store, this.cursor);
      if (!page) return;
      this.merge(page.entries);
      this.cursor = page.next_before;
      this.more.value = !!page.next_before;
    } finally {
      this.loading.value = false;
    }
  }
}

/** One page of the play log, newest first, before an entry (null: the read failed; the page said why). */
async function readLogPage(store: SessionStore, before: string | null) {
  return (await store.run({ type: "ListPlayLog", limit: PAGE, ...(before ? { before } : {}) })) ?? null;
}

const logs = new WeakMap<SessionStore, PlayLog>();

/** The play log of a store, subscribed to its live event and read on first use. */
export function playLog(store: SessionStore): PlayLog {
  let log = logs.get(store);
  if (log) return log;
  const l = new PlayLog(store);
  logs.set(store, l);
  log = l;
  store.client.on("PlayLogged", (e) => l.merge([e.entry]));
  store.client.onSnapshot(() => void l.reload());
  void store.client.whenOpen().then(
    () => l.reload(),
    () => undefined,
  );
  return log;
}

const time = (at: number) => new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

/** The game log, newest at the bottom; scrolling to the top (or the button) reads older entries. */
export function GameLog({ store }: { store: SessionStore }) {
  const log = playLog(store);
  const entries = log.entries.value;
  const box = useRef<HTMLDivElement>(null);
  const top = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const prev = useRef<{ first?: string; height: number }>({ height: 0 });

  // Keep the view where it was when older entries come in above; follow the newest at the bottom.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const first = entries[0]?.id;
    if (prev.current.first && first !== prev.current.first && !stick.current) el.scrollTop += el.scrollHeight - prev.current.height;
    else if (stick.current) el.scrollTop = el.scrollHeight;
    prev.current = { first, height: el.scrollHeight };
  }, [entries]);

  useEffect(() => {
    const el = box.current;
    const sentinel = top.current;
    if (!el || !sentinel || typeof IntersectionObserver === "undefined") return;
    const io = new IntersectionObserver((seen) => seen.some((s) => s.isIntersecting) && entries.length > 0 && void log.older(), { root: el });
    io.observe(sentinel);
    return () => io.disconnect();
  }, [log, entries.length > 0]);

  return (
    <Section title="Game log" id="game-log">
      <div
        class="log"
        ref={box}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable log must be reachable by keyboard (axe: scrollable-region-focusable)
        tabIndex={0}
        role="log"
        aria-label="Game log"
        aria-live="polite"
        data-testid="log"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        <div ref={top} class="log-top">
          {log.more.value ? (
            <button type="button" class="small" disabled={log.loading.value} onClick={() => void log.older()} data-testid="log-older">
              {log.loading.value ? "Reading…" : "Show older entries"}
            </button>
          ) : (
            <span class="muted small">The start of the session.</span>
          )}
        </div>
        <ol class="log-list">
          {entries.map((e) => (
            <li key={e.id} class={`log-entry log-${e.kind}`} data-testid="log-entry" data-kind={e.kind} data-id={e.id}>
              <time class="muted small" dateTime={new Date(e.created_at).toISOString()}>
                {time(e.created_at)}
              </time>{" "}
              <Entry store={store} e={e} />
            </li>
          ))}
        </ol>
        {entries.length === 0 && !log.loading.value && <p class="muted">Nothing has happened yet. Words said, rolls and scene changes will show here.</p>}
      </div>
    </Section>
  );
}

const Tag = (p: { children: ComponentChildren; dm?: boolean }) => <span class={p.dm ? "tag dm" : "tag"}>{p.children}</span>;

/** What only DMs (or the roller and DMs) read, marked so the DM knows the table did not see it. */
const Audience = ({ e, store }: { e: LogEntry; store: SessionStore }) =>
  e.audience === "dm" ? (
    <Tag dm>{store.isDm.value ? "DMs only" : "you and the DM"}</Tag>
  ) : e.audience === "participants" ? (
    <Tag>{store.isDm.value ? "not shown to everyone" : "you and the DM"}</Tag>
  ) : null;

/** One entry in words, by kind: the server's text, with the parts a table reads at a glance. */
function Entry({ store, e }: { store: SessionStore; e: LogEntry }) {
  const d = e.dialogue;
  if (e.kind === "dialogue" && d) {
    return (
      <span data-testid="log-dialogue">
        <strong>{d.speaker === "pc" ? d.pc_name : d.npc_name}:</strong> {d.words}
        {d.speaker === "npc" && d.source_label && <Tag dm={/DM/.test(d.source_label)}>{d.source_label}</Tag>}
        <Audience e={e} store={store} />
      </span>
    );
  }
  if ((e.kind === "roll" || e.kind === "challenge_roll") && e.roll) {
    const who = e.character_name ?? store.participants.value[e.participant_id ?? ""]?.name ?? "Someone";
    return (
      <span data-testid="log-roll">
        <strong>{who}</strong> {e.kind === "challenge_roll" && e.challenge ? `rolled for ${e.challenge.challenge_name}` : "rolled"}{" "}
        <strong class="total">{e.roll.total + (e.modifier ?? 0)}</strong> <span class="muted small">({breakdown(e.roll, e.modifier ?? 0)})</span>
        <Audience e={e} store={store} />
      </span>
    );
  }
  const c = e.challenge;
  if (e.kind === "challenge_outcome" && c) {
    return (
      <span data-testid="log-outcome">
        <strong>{c.challenge_name}</strong> · {e.character_name ?? "a character"}: <strong>{c.outcome ? OUTCOME_WORDS[c.outcome] : "resolved"}</strong>
        {c.total !== null && <span class="muted"> ({c.total})</span>}
        {c.outcome_text && <> — {c.outcome_text}</>}
        {c.narration && <div class="narration">{c.narration}</div>}
      </span>
    );
  }
  return (
    <span>
      {e.text}
      <Audience e={e} store={store} />
    </span>
  );
}
