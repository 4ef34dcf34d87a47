/**
 * Handler deadlines on one timer per object. Arming and clearing a timer for every request was a
 * tenth of a Ping's CPU in a profile; here a tick runs every `tickMs` while requests are in
 * progress and fails those past their deadline, so a timeout fires up to `tickMs` late. With no
 * request left the tick stops: a pending timer would keep an idle object from hibernating.
 */
export class Deadlines {
  private readonly open = new Set<{ at: number; fail: () => void }>();
  private ticking = false;

  constructor(private readonly tickMs = 250) {}

  /** `work`, or `onTimeout()` as its rejection once `ms` have passed (the work itself runs on, ignored). */
  race<T>(ms: number, work: Promise<T>, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = { at: Date.now() + ms, fail: () => reject(onTimeout()) };
      this.open.add(deadline);
      this.tickLater();
      work.then(resolve, reject).finally(() => this.open.delete(deadline));
    });
  }

  private tickLater(): void {
    if (this.ticking) return;
    this.ticking = true;
    setTimeout(() => this.tick(), this.tickMs);
  }

  private tick(): void {
    this.ticking = false;
    const now = Date.now();
    for (const d of this.open) {
      if (d.at > now) continue;
      this.open.delete(d);
      d.fail();
    }
    if (this.open.size > 0) this.tickLater();
  }
}
