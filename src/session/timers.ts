import { SYSTEM_ACTOR, type TimerKind, type TimerService } from "../engine/timers";
import { NOTHING, type Pipeline } from "./pipeline";
import type { Tx } from "../engine/tx";
import { invalidField, validationError } from "../protocol";
import type { Scheduler } from "./scheduler";

/** The scheduler kind of every domain timer; the entry's data names the timer kind. */
export const DOMAIN_TIMER = "domain.timer";

type TimerEntry = { kind: string; data: unknown };

export interface DomainTimersDeps {
  scheduler: Scheduler;
  /** The timer kinds by name (src/domain/registry.ts). */
  kinds: { get(name: string): TimerKind<unknown> | undefined };
  /** `fire` runs as a write of the pipeline, with a system HandlerContext (SYSTEM_ACTOR). */
  pipeline: Pipeline;
}

/** Domain timers on the object's one scheduler: ctx.timers for handlers, and the duty that fires them. */
export class DomainTimers {
  constructor(private readonly deps: DomainTimersDeps) {}

  service(tx: Tx): TimerService {
    const entryId = (kind: string, id: string) => `timer:${kind}:${id}`;
    const name = (k: string | { kind: string }) => (typeof k === "string" ? k : k.kind);
    return {
      schedule: (k, dueAt, data, id) => {
        const kind = this.deps.kinds.get(name(k));
        if (!kind) throw invalidField("kind", `no timer kind '${name(k)}'`);
        const parsed = kind.data.safeParse(data);
        if (!parsed.success) throw validationError(parsed.error, ["timer", kind.kind]);
        this.deps.scheduler.schedule(entryId(kind.kind, id), DOMAIN_TIMER, dueAt, { kind: kind.kind, data: parsed.data } satisfies TimerEntry);
      },
      cancel: (k, id) => {
        tx.onCommit(() => this.deps.scheduler.cancel(entryId(name(k), id)));
      },
    };
  }

  /** The scheduler duty: a kind no longer known is dropped (logged); a failing fire is retried. */
  async fire(entry: TimerEntry): Promise<void> {
    const kind = this.deps.kinds.get(entry.kind);
    if (!kind) {
      console.error(JSON.stringify({ msg: "timer of an unknown kind dropped", kind: entry.kind }));
      return;
    }
    const data = kind.data.parse(entry.data);
    await this.deps.pipeline.write(SYSTEM_ACTOR, `timer ${kind.kind}`, kind.events, async (ctx) => {
      await kind.fire(ctx, data);
      return ctx.tx.statements.length === 0 && ctx.tx.events.length === 0 ? NOTHING : null;
    });
  }
}
