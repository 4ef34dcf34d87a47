import type { OutboxEntry, OutboxStore } from "./store";

/*
 * The few IndexedDB members this store uses, typed structurally: the SDK typechecks without the
 * DOM library (it is also compiled against the Workers types), and any implementation that has
 * them — the browser's `indexedDB`, or `fake-indexeddb` in tests — can be passed in.
 */
interface RequestLike<T> {
  readonly result: T;
  readonly error: unknown;
  onsuccess: unknown;
  onerror: unknown;
}
interface OpenRequestLike extends RequestLike<DatabaseLike> {
  onupgradeneeded: unknown;
}
interface ObjectStoreLike {
  getAll(): RequestLike<unknown[]>;
  put(value: unknown): RequestLike<unknown>;
  delete(key: string): RequestLike<unknown>;
}
interface TransactionLike {
  readonly error: unknown;
  objectStore(name: string): ObjectStoreLike;
  oncomplete: unknown;
  onerror: unknown;
  onabort: unknown;
}
interface DatabaseLike {
  readonly objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string, options: { keyPath: string }): unknown;
  transaction(storeName: string, mode: "readonly" | "readwrite"): TransactionLike;
  close(): void;
}
export interface IDBFactoryLike {
  open(name: string, version?: number): OpenRequestLike;
}

export interface IndexedDBOutboxOptions {
  /** Database name; one per session and participant is a good choice. Default "wrldbldr-outbox". */
  dbName?: string;
  /** The IndexedDB implementation; defaults to `globalThis.indexedDB`. */
  indexedDB?: IDBFactoryLike;
}

const STORE = "outbox";

function settle<T>(req: RequestLike<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx: TransactionLike): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** Outbox in IndexedDB: requests survive a page reload and are re-sent by the next client. */
export class IndexedDBOutboxStore implements OutboxStore {
  private db?: Promise<DatabaseLike>;
  private readonly dbName: string;
  private readonly factory: IDBFactoryLike;

  constructor(opts: IndexedDBOutboxOptions = {}) {
    const factory = opts.indexedDB ?? (globalThis as unknown as { indexedDB?: IDBFactoryLike }).indexedDB;
    if (!factory) throw new Error("IndexedDBOutboxStore: no indexedDB here; pass one in options.indexedDB");
    this.factory = factory;
    this.dbName = opts.dbName ?? "wrldbldr-outbox";
  }

  async load(): Promise<OutboxEntry[]> {
    const db = await this.open();
    return (await settle(db.transaction(STORE, "readonly").objectStore(STORE).getAll())) as OutboxEntry[];
  }

  async put(entry: OutboxEntry): Promise<void> {
    await this.write((store) => store.put(entry));
  }

  async delete(requestId: string): Promise<void> {
    await this.write((store) => store.delete(requestId));
  }

  async close(): Promise<void> {
    if (this.db) (await this.db).close();
    this.db = undefined;
  }

  private async write(op: (store: ObjectStoreLike) => unknown): Promise<void> {
    const tx = (await this.open()).transaction(STORE, "readwrite");
    const committed = done(tx);
    op(tx.objectStore(STORE));
    await committed;
  }

  private open(): Promise<DatabaseLike> {
    this.db ??= (() => {
      const req = this.factory.open(this.dbName, 1);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: "request_id" });
      };
      return settle(req);
    })();
    return this.db;
  }
}
