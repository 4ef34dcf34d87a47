import { WrldbldrError } from "./errors";
import type { StateChange, StreamFrame } from "./types";

/** What a stream is read from: the client (its `onStream` and `onStateChange`). */
export interface StreamSource {
  onStream(handler: (frame: StreamFrame) => void): () => void;
  onStateChange(handler: (change: StateChange) => void): () => void;
}

export interface StreamOptions {
  /** Stops reading: the iterator ends quietly (the server's stream goes on for others). */
  signal?: AbortSignal;
}

/**
 * The deltas of one server stream (`Stream` frames with this `stream_id`), in `index` order,
 * ending after the frame with `done: true`. A job's stream id is the job id.
 *
 * Streams are live only: frames that arrived before this call are not kept, so start reading as
 * soon as the id is known. If the connection drops before `done`, the iterator throws
 * `UNAVAILABLE` (`details.reason: "stream_interrupted"`): the frames missed meanwhile are not
 * sent again, and the final result arrives in the committed event that ends the work.
 */
export function streamDeltas(source: StreamSource, streamId: string, opts: StreamOptions = {}): AsyncIterableIterator<string> {
  const ready: string[] = [];
  const early = new Map<number, StreamFrame>(); // frames ahead of the next index
  let next = 0;
  let finished = false;
  let failure: WrldbldrError | undefined;
  let wake: (() => void) | undefined;

  const settle = () => {
    wake?.();
    wake = undefined;
  };
  const stop = () => {
    finished = true;
    offStream();
    offState();
    opts.signal?.removeEventListener("abort", onAbort);
    settle();
  };
  const onAbort = () => stop();

  const offStream = source.onStream((frame) => {
    if (frame.stream_id !== streamId || finished || frame.index < next) return;
    early.set(frame.index, frame);
    for (let f = early.get(next); f; f = early.get(next)) {
      early.delete(next++);
      if (f.delta !== "") ready.push(f.delta);
      if (f.done) return stop();
    }
    settle();
  });
  const offState = source.onStateChange((change) => {
    if (change.state === "open" || finished) return;
    failure = WrldbldrError.local("UNAVAILABLE", `stream '${streamId}' was interrupted (${change.reason}); its result arrives as an event`, {
      reason: "stream_interrupted",
      stream_id: streamId,
      received: next,
    });
    stop();
  });
  if (opts.signal?.aborted) stop();
  else opts.signal?.addEventListener("abort", onAbort);

  const iterator: AsyncIterableIterator<string> = {
    async next(): Promise<IteratorResult<string>> {
      for (;;) {
        if (ready.length > 0) return { value: ready.shift()!, done: false };
        if (failure) {
          const err = failure;
          failure = undefined;
          throw err;
        }
        if (finished) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async return(): Promise<IteratorResult<string>> {
      stop();
      ready.length = 0;
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
