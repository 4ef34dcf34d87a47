/**
 * Where the outbox (requests not yet answered) lives, so that it can survive a page reload.
 * The client writes an entry before sending a request and deletes it once the request is
 * answered; on start it loads what a previous life left and re-sends it with the same ids.
 */
export interface OutboxEntry {
  request_id: string;
  payload: { type: string } & Record<string, unknown>;
  /** ms since epoch; with `order`, the sending order across reloads. */
  created_at: number;
  order: number;
}

export interface OutboxStore {
  /** Every stored entry, in any order (the client sorts them). */
  load(): Promise<OutboxEntry[]>;
  put(entry: OutboxEntry): Promise<void>;
  delete(requestId: string): Promise<void>;
}

/** The default: lives as long as the client object (survives reconnects, not reloads). */
export class MemoryOutboxStore implements OutboxStore {
  private readonly entries = new Map<string, OutboxEntry>();

  async load(): Promise<OutboxEntry[]> {
    return [...this.entries.values()];
  }

  async put(entry: OutboxEntry): Promise<void> {
    this.entries.set(entry.request_id, entry);
  }

  async delete(requestId: string): Promise<void> {
    this.entries.delete(requestId);
  }
}

export function sortOutbox(entries: OutboxEntry[]): OutboxEntry[] {
  return [...entries].sort((a, b) => a.created_at - b.created_at || a.order - b.order);
}
