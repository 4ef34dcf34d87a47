/**
 * Entity reads served from the session object's memory. The object is the only writer of its
 * session's rows and every change goes through one commit, so clearing the cache around each
 * commit keeps it exact: a read that overlapped a commit is not stored (generation check).
 * Per object instance: after eviction it starts empty.
 */
export class ReadCache {
  private readonly entries = new Map<string, unknown>();
  private generation = 0;

  constructor(private readonly maxEntries = 5_000) {}

  /** The cached value (a copy: callers may not mutate what others read), or load and keep it. */
  async get<T extends object>(key: string, load: () => Promise<T | null>): Promise<T | null> {
    const cached = this.entries.get(key) as T | undefined;
    if (cached) return structuredClone(cached);
    const generation = this.generation;
    const value = await load();
    if (value && generation === this.generation) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, structuredClone(value));
    }
    return value;
  }

  /** Called before and after every commit (whether it succeeded or not). */
  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }
}
