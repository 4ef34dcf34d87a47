/**
 * The soak's verdict: the clients' ledgers against the rows stored in D1.
 * - every write is answered (within the drain time), and every acknowledged one is stored exactly once (its item, its character version, its request
 *   log entry, its one event), and nothing is stored that no client asked for;
 * - every client got every event it may see (seq after its first join, up to the final seq, in its
 *   audience) exactly once and in order, from the SDK and on the wire.
 */
import { checkSequence, isClean, sumChecks, type SequenceCheck } from "../sequence-check";
import type { Ledger } from "./soak-client";

export interface StoredRows {
  characters: { id: string; owner_participant_id: string | null; version: number }[];
  items: { id: string; character_id: string; name: string }[];
  events: { seq: number; audience: string; recipients: string | null; cause_request_id: string | null }[];
  requests: { participant_id: string; request_id: string }[];
}

export interface SoakVerdict {
  checked: Record<string, number>;
  delivered: SequenceCheck;
  wire: SequenceCheck;
  violations: string[];
}

/** May a player see this event? (DESIGN.md §1: to everyone, to DMs only, to non-DMs, or to named participants.) */
function visibleToPlayer(e: StoredRows["events"][number], participantId: string): boolean {
  if (e.audience === "all" || e.audience === "non_dm") return true;
  if (e.audience === "some") return (JSON.parse(e.recipients ?? "[]") as string[]).includes(participantId);
  return false;
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + 1);
  return m;
}

export function verifySoak(ledgers: readonly Ledger[], rows: StoredRows, finalSeq: number): SoakVerdict {
  const violations: string[] = [];
  const v = (msg: string) => violations.length < 200 && violations.push(msg);
  const checked = {
    late_frames: 0,
    heartbeat_timeouts: 0,
    acknowledged_writes: 0,
    stored_items: rows.items.length,
    events_in_log: rows.events.length,
    events_expected: 0,
    unanswered_writes: 0,
    replayed_results: 0,
    reads: 0,
    joins: 0,
  };

  // The log itself: seqs 1..max without a gap (retention is far larger than a soak).
  rows.events.forEach((e, i) => e.seq !== i + 1 && v(`event log: seq ${e.seq} at position ${i + 1}`));
  const eventsByCause = countBy(
    rows.events.filter((e) => e.cause_request_id),
    (e) => e.cause_request_id!,
  );
  const logged = new Set(rows.requests.map((r) => `${r.participant_id}/${r.request_id}`));
  const itemsByName = new Map(rows.items.map((i) => [i.name, i]));
  const itemNameCounts = countBy(rows.items, (i) => i.name);
  const accountedNames = new Set<string>();

  const deliveredChecks: SequenceCheck[] = [];
  const wireChecks: SequenceCheck[] = [];
  for (const l of ledgers) {
    const who = l.participant_id.slice(0, 8);
    checked.acknowledged_writes += l.acked_writes.length;
    checked.unanswered_writes += l.unanswered.length;
    checked.replayed_results += l.replayed;
    checked.reads += l.reads;
    checked.joins += l.joins;
    checked.late_frames += l.late_frames;
    checked.heartbeat_timeouts += l.heartbeat_timeouts;
    for (const e of l.errors) v(`client ${who}: ${e}`);
    if (l.unanswered.length)
      v(`client ${who}: ${l.unanswered.length} writes still unanswered after the drain (${l.unanswered.map((u) => u.request_id).join(", ")})`);
    if (l.snapshot_resumes > 0) v(`client ${who}: resumed from a snapshot ${l.snapshot_resumes}× (events were not replayed)`);

    // Writes: each acknowledged one has its request-log entry and exactly one event.
    for (const id of l.acked_writes) {
      if (!logged.has(`${l.participant_id}/${id}`)) v(`client ${who}: acknowledged write ${id} has no request-log entry`);
      const n = eventsByCause.get(id) ?? 0;
      if (n !== 1) v(`client ${who}: acknowledged write ${id} caused ${n} events, expected 1`);
    }
    const pendingUpdates = l.unanswered.filter((u) => u.type === "UpdateCharacter").length;
    const mine = rows.characters.filter((c) => c.owner_participant_id === l.participant_id);
    if (l.character_id) {
      if (mine.length !== 1 || mine[0]!.id !== l.character_id)
        v(`client ${who}: ${mine.length} characters stored, expected exactly its one (${l.character_id})`);
      const version = mine[0]?.version ?? 0;
      const min = 1 + l.acked_updates;
      if (version < min || version > min + pendingUpdates)
        v(`client ${who}: character version ${version}, expected ${min}${pendingUpdates ? `..${min + pendingUpdates}` : ""} (1 + acknowledged updates)`);
    } else if (mine.length > 1) v(`client ${who}: ${mine.length} characters stored without an acknowledged creation`);
    for (const a of l.acked_items) {
      accountedNames.add(a.name);
      const n = itemNameCounts.get(a.name) ?? 0;
      if (n !== 1) v(`client ${who}: acknowledged item '${a.name}' stored ${n}×`);
      else if (itemsByName.get(a.name)!.id !== a.item_id) v(`client ${who}: item '${a.name}' stored with another id than acknowledged`);
    }
    for (const u of l.unanswered) {
      if (!u.name) continue;
      accountedNames.add(u.name);
      if ((itemNameCounts.get(u.name) ?? 0) > 1) v(`client ${who}: unanswered item '${u.name}' stored more than once`);
    }

    // Events: exactly the visible ones after the first join, once each, in order.
    if (l.first_join_seq === undefined) {
      v(`client ${who}: never joined`);
      continue;
    }
    const expected = rows.events.filter((e) => e.seq > l.first_join_seq! && e.seq <= finalSeq && visibleToPlayer(e, l.participant_id)).map((e) => e.seq);
    checked.events_expected += expected.length;
    const delivered = checkSequence(
      expected,
      l.delivered.filter((s) => s <= finalSeq),
    );
    const wire = checkSequence(
      expected,
      l.raw.filter((s) => s <= finalSeq),
    );
    deliveredChecks.push(delivered);
    wireChecks.push(wire);
    if (!isClean(delivered)) v(`client ${who}: SDK delivered ${JSON.stringify(delivered)}`);
    if (!isClean(wire)) v(`client ${who}: server sent ${JSON.stringify(wire)}; ${describeSockets(l)}`);
  }
  for (const name of itemNameCounts.keys()) if (!accountedNames.has(name)) v(`item '${name}' is stored but no client asked for it`);
  return { checked, delivered: sumChecks(deliveredChecks), wire: sumChecks(wireChecks), violations };
}

/** Which sockets a client's frames came on, in order: "socket 3: seq 10..52 (40 frames)". */
function describeSockets(l: Ledger): string {
  const runs: string[] = [];
  let start = 0;
  for (let i = 1; i <= l.raw.length; i++) {
    if (i < l.raw.length && l.raw_socket[i] === l.raw_socket[start]) continue;
    runs.push(`socket ${l.raw_socket[start]}: seq ${l.raw[start]}..${l.raw[i - 1]} (${i - start} frames)`);
    start = i;
  }
  return runs.length > 12 ? [...runs.slice(0, 6), "…", ...runs.slice(-6)].join(", ") : runs.join(", ");
}
