import { signal, type Signal } from "@preact/signals";
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import type { ComponentChildren } from "preact";
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

/** One entry as the page uses it (the server's entry, whatever its kind). */
export type LogEntry = { id: string; seq: number; kind: string; at: number } & Record<string, any>;

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
      const old = this.byId.get(e.id);
      if (old && (old.version ?? 0) >= (e.version ?? 0)) continue;
      this.byId.set(e.id, e);
      changed = true;
    }
    if (changed) this.entries.value = [...this.byId.values()].sort((a, b) => a.seq - b.seq || a.at - b.at || (a.id < b.id ? -1 : 1));
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
      this.merge(page.items);
      this.cursor = page.next_cursor;
      this.more.value = !!page.next_cursor;
    } finally {
      this.loading.value = false;
    }
  }
}

/** One page of the play log, newest first (null: the read failed; the page said why). */
async function readLogPage(store: SessionStore, cursor: string | null): Promise<{ items: LogEntry[]; next_cursor: string | null } | null> {
  const page = await store.run({ type: "ListPlayLog", limit: PAGE, ...(cursor ? { cursor } : {}) } as never);
  return (page as unknown as { items: LogEntry[]; next_cursor: string | null } | undefined) ?? null;
}

const logs = new WeakMap<SessionStore, PlayLog>();

/** The play log of a store, subscribed to its live event and read on first use. */
export function playLog(store: SessionStore): PlayLog {
  let log = logs.get(store);
  if (log) return log;
  const l = new PlayLog(store);
  logs.set(store, l);
  log = l;
  store.client.onAnyEvent((e) => {
    const ev = e as unknown as { type: string; entry?: LogEntry; entries?: LogEntry[] };
    if (ev.type === "PlayLogEntryAdded" || ev.type === "PlayLogAppended") l.merge(ev.entries ?? (ev.entry ? [ev.entry] : []));
  });
  store.client.onSnapshot(() => void l.reload());
  void store.client.whenOpen().then(() => l.reload(), () => undefined);
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
            <button class="small" disabled={log.loading.value} onClick={() => void log.older()} data-testid="log-older">
              {log.loading.value ? "Reading…" : "Show older entries"}
            </button>
          ) : (
            <span class="muted small">The start of the session.</span>
          )}
        </div>
        <ol class="log-list">
          {entries.map((e) => (
            <li key={e.id} class={`log-entry log-${e.kind}`} data-testid="log-entry" data-kind={e.kind}>
              <time class="muted small">{time(e.at)}</time> <Entry store={store} e={e} />
            </li>
          ))}
        </ol>
        {entries.length === 0 && !log.loading.value && <p class="muted">Nothing has happened yet. Words said, rolls and scene changes will show here.</p>}
      </div>
    </Section>
  );
}

function who(store: SessionStore, e: LogEntry): string {
  const name = e.character_name ?? (e.character_id ? store.characters.value[e.character_id]?.name : undefined);
  const by = e.participant_name ?? (e.participant_id ? store.participants.value[e.participant_id]?.name : undefined);
  return name ?? by ?? "Someone";
}

const Tag = (p: { children: ComponentChildren }) => <span class="tag">{p.children}</span>;

/** One entry in words, by kind. */
function Entry({ store, e }: { store: SessionStore; e: LogEntry }) {
  switch (e.kind) {
    default:
      return <span>{e.text ?? e.summary ?? e.kind}</span>;
  }
}
void who;
void Tag;
void breakdown;
void OUTCOME_WORDS;
