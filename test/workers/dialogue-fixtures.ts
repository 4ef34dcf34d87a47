import { vi } from "vitest";
import type { TestSocket } from "./helpers";

/**
 * A fake OpenAI-compatible server inside the Workers runtime: `vi.spyOn(globalThis, "fetch")`
 * also catches the fetch made by the session object (same isolate). Each call takes the next
 * scripted reply; bodies are built inside the object's context (the spy runs there), so their
 * timers and streams belong to it.
 */
export type Reply = () => Response | Promise<Response>;

const enc = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One OpenAI streaming event carrying `content`. */
export const delta = (content: string) =>
  `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] })}\n\n`;

/**
 * An SSE answer: the tokens' events (then `[DONE]`), one write each, or cut into pieces of
 * `split` characters so events straddle writes; `gapMs` between writes, `gapAfter` before one; `end`: `done` ([DONE]), `drop` (the connection
 * breaks after `dropAfter` tokens), `hang` (the body stops sending and never ends).
 */
export function sse(
  tokens: string[],
  opts: { split?: number; gapMs?: number; end?: "done" | "drop" | "hang"; dropAfter?: number; gapAfter?: { index: number; ms: number } } = {},
): Reply {
  return () => {
    const end = opts.end ?? "done";
    const sent = end === "drop" ? tokens.slice(0, opts.dropAfter ?? 2) : tokens;
    const events = [...sent.map(delta), ...(end === "done" ? ["data: [DONE]\n\n"] : [])];
    // One write per event, or pieces of `split` characters that cut events apart.
    const pieces: string[] = [];
    if (opts.split) {
      const text = events.join("");
      for (let i = 0; i < text.length; i += opts.split) pieces.push(text.slice(i, i + opts.split));
    } else pieces.push(...events);
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i < pieces.length) {
          if (opts.gapMs) await sleep(opts.gapMs);
          if (opts.gapAfter && i === opts.gapAfter.index) await sleep(opts.gapAfter.ms);
          c.enqueue(enc.encode(pieces[i++]));
          return;
        }
        if (end === "done") c.close();
        else if (end === "drop") c.error(new Error("connection reset by peer"));
        else await new Promise(() => undefined);
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  };
}

/**
 * An SSE answer that sends `before`, then waits until `release()` (polling a flag: no promise
 * crosses from the test into the object's context) to send `after` and `[DONE]`.
 */
export function gated(before: string[], after: string[]): { reply: Reply; release: () => void } {
  let released = false;
  const reply: Reply = () => {
    const pieces = before.map(delta);
    const rest = [...after.map(delta), "data: [DONE]\n\n"];
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (pieces.length) return c.enqueue(enc.encode(pieces.shift()!));
        while (!released) await sleep(20);
        if (rest.length) return c.enqueue(enc.encode(rest.shift()!));
        c.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  };
  return { reply, release: () => void (released = true) };
}

export const status =
  (code: number, headers: Record<string, string> = {}): Reply =>
  () =>
    new Response(JSON.stringify({ error: { message: `status ${code}` } }), { status: code, headers });
/** A server that accepts the connection and never answers. */
export const never: Reply = () => new Promise<Response>(() => undefined);

/** Installs the fake server; returns the JSON bodies of the requests it got. */
export function fakeLlm(...replies: Reply[]): { calls: any[]; urls: string[]; headers: Headers[]; push: (...r: Reply[]) => void } {
  const queue = [...replies];
  const calls: any[] = [];
  const urls: string[] = [];
  const headers: Headers[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    urls.push(String(input instanceof Request ? input.url : input));
    headers.push(new Headers(init?.headers));
    calls.push(JSON.parse(String(init?.body ?? "null")));
    const next = queue.shift();
    if (!next) return new Response("no scripted reply", { status: 500 });
    return next();
  });
  return { calls, urls, headers, push: (...r) => queue.push(...r) };
}

type Table = { dm: TestSocket; player: TestSocket; spectator: TestSocket; playerGrant: { participant_id: string } };

/** A tavern with two rooms, the NPC Mira (with secret DM notes) and the player's PC Ayla in the common room. */
export async function tavern(t: Table, opts: { approval: boolean }) {
  if (!opts.approval) await t.dm.ok({ type: "UpdateSessionSettings", data: { dialogue_approval: false } });
  const location = await t.dm.ok({ type: "CreateLocation", data: { name: "Gilded Lantern" } });
  const hall = await t.dm.ok({ type: "CreateRegion", location_id: location.id, data: { name: "Common room", description: "Warm and loud." } });
  const cellar = await t.dm.ok({ type: "CreateRegion", location_id: location.id, data: { name: "Cellar" } });
  const npc = await t.dm.ok({
    type: "CreateCharacter",
    data: { kind: "npc", name: "Mira", description: "The innkeeper. Sharp-eyed.", region_id: hall.id, dm_notes: "SECRET-NOTE: she smuggles wine" },
  });
  const bard = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Tobin the bard", region_id: hall.id } });
  const ghost = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "HIDDEN-GHOST", region_id: hall.id, hidden: true } });
  const rat = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Rat king", region_id: cellar.id } });
  const pc = await t.dm.ok({
    type: "CreateCharacter",
    data: { kind: "pc", name: "Ayla", owner_participant_id: t.playerGrant.participant_id, region_id: hall.id },
  });
  return { location, hall, cellar, npc, bard, ghost, rat, pc };
}

export const isEvent =
  (type: string, pred: (e: any) => boolean = () => true) =>
  (f: any) =>
    f.type === "Event" && f.event.type === type && pred(f.event);
export const streamOf = (s: TestSocket, id: string) => s.frames.filter((f) => f.type === "Stream" && f.stream_id === id);
export const streamedText = (s: TestSocket, id: string) =>
  streamOf(s, id)
    .sort((a, b) => a.index - b.index)
    .map((f) => f.delta)
    .join("");
