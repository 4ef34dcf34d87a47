/**
 * A set of callbacks; one throwing does not stop the others (it is reported instead). A callback
 * may be registered with a wrapper that is called in its place; delete() takes the original.
 */
export class Listeners<A extends unknown[]> {
  private readonly callbacks = new Map<(...args: A) => void, (...args: A) => void>();

  constructor(private readonly report: (err: unknown) => void) {}

  add(fn: (...args: A) => void, invoke: (...args: A) => void = fn): () => void {
    this.callbacks.set(fn, invoke);
    return () => this.delete(fn);
  }

  delete(fn: (...args: A) => void): void {
    this.callbacks.delete(fn);
  }

  get size(): number {
    return this.callbacks.size;
  }

  emit(...args: A): void {
    for (const invoke of [...this.callbacks.values()]) {
      try {
        invoke(...args);
      } catch (err) {
        this.report(err);
      }
    }
  }
}

/** Remembers the last `capacity` strings added (oldest forgotten first). */
export class BoundedSet {
  private readonly items = new Set<string>();

  constructor(private readonly capacity: number) {}

  add(item: string): void {
    this.items.delete(item);
    this.items.add(item);
    if (this.items.size > this.capacity) {
      const oldest = this.items.values().next().value;
      if (oldest !== undefined) this.items.delete(oldest);
    }
  }

  has(item: string | null | undefined): boolean {
    return item != null && this.items.has(item);
  }

  delete(item: string): void {
    this.items.delete(item);
  }
}
