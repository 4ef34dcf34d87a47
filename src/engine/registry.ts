/**
 * Named declarations (job kinds, timer kinds, hooks) listed once, like tRPC's router: a name given
 * twice is a programming error caught when the list is built, never a silent replacement. Tests
 * may `add` kinds of their own under the same rule.
 */
export class Registry<T> implements Iterable<T> {
  private readonly byName = new Map<string, T>();

  constructor(
    private readonly what: string,
    private readonly nameOf: (item: T) => string,
    items: readonly T[] = [],
  ) {
    for (const item of items) this.add(item);
  }

  add<U extends T>(item: U): U {
    const name = this.nameOf(item);
    if (this.byName.has(name)) throw new Error(`duplicate ${this.what} '${name}'`);
    this.byName.set(name, item);
    return item;
  }

  get(name: string): T | undefined {
    return this.byName.get(name);
  }

  [Symbol.iterator](): Iterator<T> {
    return this.byName.values();
  }
}

/** Merges records of named entries (handler maps), refusing a key declared twice. */
export function mergeOnce<T extends Record<string, unknown>>(what: string, parts: readonly T[]): T {
  const out: Record<string, unknown> = {};
  for (const part of parts) {
    for (const [key, value] of Object.entries(part)) {
      if (key in out) throw new Error(`duplicate ${what} '${key}'`);
      out[key] = value;
    }
  }
  return out as T;
}
