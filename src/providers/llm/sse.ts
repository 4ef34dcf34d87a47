import { EventSourceParserStream } from "eventsource-parser/stream";

/**
 * The `data` fields of a Server-Sent Events body, in order, until `[DONE]` (then it stops reading).
 * `sawDone` tells afterwards whether the end was the server's `[DONE]` or the body just ended.
 */
export async function* sseData(body: ReadableStream<Uint8Array>, end: { sawDone: boolean }): AsyncIterable<string> {
  const events = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
  const reader = events.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (value.data === "[DONE]") {
        end.sawDone = true;
        return;
      }
      yield value.data;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}
