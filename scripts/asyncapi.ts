/**
 * Builds docs/asyncapi.json (AsyncAPI 3.1) from the operation registry and the frame schemas:
 * one WebSocket channel, a message per client frame (a Request per operation, JoinSession, Ack)
 * and per server frame (a Response per operation, an Event per event type, SessionJoined,
 * ResponseChunk, Stream, Error), and an AsyncAPI operation per engine operation carrying its
 * access rule, read/write kind, frame cap and events as `x-` extensions.
 * The document describes the engine: it receives client frames and sends server frames.
 */
import { z } from "zod";
import { limits, type Env } from "../src/env";
import * as protocol from "../src/protocol";
import {
  AckFrameSchema,
  ErrorFrameSchema,
  ErrorResultSchema,
  EVENTS,
  EventFrameSchema,
  JoinSessionFrameSchema,
  OPERATION_AREAS,
  OPERATIONS,
  RequestFrameSchema,
  ResponseChunkFrameSchema,
  ResponseFrameSchema,
  SessionJoinedFrameSchema,
  StreamFrameSchema,
  SuccessResultSchema,
  WS_SUBPROTOCOL,
  payloadSchema,
  type OperationType,
} from "../src/protocol";

type Json = { [k: string]: any };

const ACCESS_TEXT = { read: "everyone", play: "DM, player", dm: "DM", own: "DM, owner" } as const;

/** Who may call an operation, in words (shared with docs/operations.md). */
export function whoMayCall(type: OperationType): string {
  return type === "Batch" ? "everyone (each operation in it: its own rule)" : ACCESS_TEXT[OPERATIONS[type].access];
}

const CHANNEL = "session";
/** Code-point order: the same on every machine (localeCompare is not). */
const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);
const channelRef = { $ref: `#/channels/${CHANNEL}` };
const messageRef = (name: string) => ({ $ref: `#/channels/${CHANNEL}/messages/${name}` });

/** The frame cap of each class, in bytes, with the variable that changes it. */
export function frameLimits() {
  const l = limits({} as Env);
  return {
    frame: { bytes: l.maxFrameBytes, variable: "MAX_FRAME_BYTES" },
    batch: { bytes: l.maxBatchFrameBytes, variable: "MAX_BATCH_FRAME_BYTES" },
  } as const;
}

/** Named schemas: every exported `XSchema` of src/protocol becomes component `X`, so payloads refer to `Character`, `Scene`… */
function entityNames(): Map<z.ZodType, string> {
  const names = new Map<z.ZodType, string>();
  // Sorted: a module namespace lists its exports in a different order under tsx and vitest.
  for (const [name, value] of Object.entries(protocol).sort(byKey)) {
    if (name.endsWith("Schema") && value instanceof z.ZodType && !names.has(value)) names.set(value, name.slice(0, -"Schema".length));
  }
  return names;
}

/** Converts every registered zod schema at once, so shared schemas become `$ref`s to components. */
function componentSchemas(named: [string, z.ZodType][]): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of named) if (!registry.has(schema)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
    uri: (id) => `#/components/schemas/${id}`,
  });
  // Components live inside this document: no `$schema`/`$id` of their own.
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...rest }]) => [id, rest]));
}

/** Only the components the messages use (the protocol also exports HTTP bodies and unions). */
function reachable(schemas: Record<string, Json>, roots: Json[]): Record<string, Json> {
  const used = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== "object") return;
    const target = (node as Json).$ref;
    if (typeof target === "string" && target.startsWith("#/components/schemas/")) {
      const id = target.slice("#/components/schemas/".length);
      if (!used.has(id)) {
        used.add(id);
        walk(schemas[id]);
      }
    }
    Object.values(node).forEach(walk);
  };
  walk(roots);
  return Object.fromEntries(
    Object.entries(schemas)
      .filter(([id]) => used.has(id))
      .sort(byKey),
  );
}

function resultOf(output: z.ZodType) {
  return z.discriminatedUnion("status", [SuccessResultSchema.extend({ data: output }), ErrorResultSchema]);
}

export function buildAsyncApi(version: string): Json {
  const caps = frameLimits();
  const types = Object.keys(OPERATIONS) as OperationType[];
  const named: [string, z.ZodType][] = [];
  const ref = (id: string, schema: z.ZodType) => {
    named.push([id, schema]);
    return { $ref: `#/components/schemas/${id}` };
  };
  // Entities first: their names win over the per-message names below.
  for (const [schema, name] of entityNames()) named.push([name, schema]);
  // Each payload is a component of its own, so that a Batch lists what its operations may be.
  const payloads = new Map<OperationType, z.ZodType>(types.map((t) => [t, payloadSchema(t)]));
  payloads.set(
    "Batch",
    payloadSchema("Batch").extend({
      operations: z
        .array(z.union(types.filter((t) => t !== "Batch").map((t) => payloads.get(t)!)))
        .min(1)
        .max(100),
    }),
  );
  for (const [type, schema] of payloads) named.push([`${type}Payload`, schema]);

  const messages: Record<string, Json> = {};
  const message = (name: string, title: string, summary: string, payload: Json, extra: Json = {}) => {
    messages[name] = { name, title, summary, contentType: "application/json", payload, ...extra };
  };

  const operations: Record<string, Json> = {};
  for (const [area, ops] of Object.entries(OPERATION_AREAS)) {
    for (const type of Object.keys(ops) as OperationType[]) {
      const def = OPERATIONS[type];
      const cap = caps[def.frame];
      message(
        `${type}Request`,
        `${type} request`,
        `Request frame whose payload is a ${type}.`,
        ref(`${type}Request`, RequestFrameSchema.extend({ payload: payloads.get(type)! })),
      );
      message(
        `${type}Response`,
        `${type} response`,
        `The answer to a ${type} request.`,
        ref(`${type}Response`, ResponseFrameSchema.extend({ result: resultOf(def.output).optional() })),
      );
      operations[type] = {
        action: "receive",
        channel: channelRef,
        title: type,
        summary: `${def.write ? "Write" : "Read"} · who: ${whoMayCall(type)} · frame cap ${cap.bytes} bytes`,
        description: [
          def.write
            ? "A write: runs one at a time per session, in order, and is recorded for idempotent replay."
            : "A read: changes nothing and is not recorded.",
          def.events.length ? `May emit: ${def.events.join(", ")}.` : type === "Batch" ? "Emits the events of its operations." : "Emits no events.",
        ].join(" "),
        tags: [{ name: area }],
        messages: [messageRef(`${type}Request`)],
        reply: { channel: channelRef, messages: [messageRef(`${type}Response`)] },
        "x-access": def.access,
        "x-write": def.write,
        "x-frame-limit": def.frame,
        "x-events": def.events,
      };
    }
  }

  const events = Object.keys(EVENTS) as (keyof typeof EVENTS)[];
  const emittedBy = (event: string) => types.filter((t) => OPERATIONS[t].events.includes(event as never));
  for (const type of events) {
    const by = emittedBy(type);
    const event = z.object({ type: z.literal(type), ...EVENTS[type] });
    message(
      `${type}Event`,
      `${type} event`,
      by.length ? `Emitted by ${by.join(", ")}.` : "Emitted by the session itself (not by an operation).",
      ref(`${type}Event`, EventFrameSchema.extend({ event })),
      {
        "x-emitted-by": by,
      },
    );
  }

  message(
    "JoinSession",
    "JoinSession",
    "First frame after connecting; `last_seq` resumes after the last event seen.",
    ref("JoinSessionFrame", JoinSessionFrameSchema),
  );
  message("Ack", "Ack", "Acknowledges events up to `seq`.", ref("AckFrame", AckFrameSchema));
  message("SessionJoined", "SessionJoined", "Answer to JoinSession, after any replayed events.", ref("SessionJoinedFrame", SessionJoinedFrameSchema));
  message(
    "ResponseChunk",
    "ResponseChunk",
    "A piece of a Response larger than the outbound frame cap; the Response with `chunks` follows.",
    ref("ResponseChunkFrame", ResponseChunkFrameSchema),
  );
  message("Stream", "Stream", "A piece of streamed output (e.g. generated text).", ref("StreamFrame", StreamFrameSchema));
  message("Error", "Error", "A frame-level error (bad frame, rate limit, kicked) not tied to a request.", ref("ErrorFrame", ErrorFrameSchema));

  operations.joinSession = {
    action: "receive",
    channel: channelRef,
    title: "JoinSession",
    summary: "Join (or resume) the session; replayed events precede the answer.",
    messages: [messageRef("JoinSession")],
    reply: { channel: channelRef, messages: [messageRef("SessionJoined")] },
  };
  operations.ack = { action: "receive", channel: channelRef, title: "Ack", summary: "Acknowledge received events.", messages: [messageRef("Ack")] };
  operations.sendEvent = {
    action: "send",
    channel: channelRef,
    title: "Event",
    summary: "Every committed change, in seq order, to the participants allowed to see it.",
    messages: events.map((e) => messageRef(`${e}Event`)),
  };
  for (const frame of ["ResponseChunk", "Stream", "Error"]) {
    operations[`send${frame}`] = { action: "send", channel: channelRef, title: frame, summary: messages[frame]!.summary, messages: [messageRef(frame)] };
  }

  const schemas = reachable(componentSchemas(named), Object.values(messages));
  return {
    asyncapi: "3.1.0",
    info: {
      title: "WrldBldr Edge session protocol",
      version,
      description: [
        "Generated by `npm run docs` from the operation registry (src/protocol/ops/) and the frame schemas (src/protocol/envelope.ts); do not edit by hand.",
        "This document describes the engine: it receives client frames and sends server frames on one WebSocket per participant.",
        "Each engine operation is an AsyncAPI operation with `x-access` (read: everyone, play: DM or player, dm: DM only, own: DM or the resource's owner),",
        "`x-write`, `x-frame-limit` (`frame` or `batch`) and `x-events` (the event types it may emit).",
      ].join(" "),
    },
    defaultContentType: "application/json",
    servers: {
      local: {
        host: "127.0.0.1:8787",
        protocol: "ws",
        description: "`npm start` (wrangler dev). Deployed engines use `wss` on their own host.",
        security: [{ $ref: "#/components/securitySchemes/subprotocolToken" }],
      },
    },
    channels: {
      [CHANNEL]: {
        address: "/sessions/{session_id}/ws",
        title: "Game session",
        description: [
          `Connect with subprotocols \`${WS_SUBPROTOCOL}\` and \`bearer.<token>\` (or \`?token=<token>\`); the server selects \`${WS_SUBPROTOCOL}\`.`,
          "The token is verified before the session is touched and must belong to this session.",
          "Send JoinSession first, then Requests; every Request gets exactly one Response.",
          `Inbound frames are capped at ${caps.frame.bytes} bytes (${caps.frame.variable}), ${caps.batch.bytes} bytes (${caps.batch.variable}) for operations with \`x-frame-limit: batch\`.`,
        ].join(" "),
        parameters: { session_id: { description: "The session's id (from POST /auth/sessions or /auth/join)." } },
        messages: Object.fromEntries(Object.keys(messages).map((m) => [m, { $ref: `#/components/messages/${m}` }])),
        bindings: {
          ws: {
            method: "GET",
            query: { type: "object", properties: { token: { type: "string", description: "The token, when it cannot travel as a subprotocol." } } },
            bindingVersion: "0.1.0",
          },
        },
      },
    },
    operations,
    components: {
      securitySchemes: {
        subprotocolToken: {
          type: "httpApiKey",
          name: "Sec-WebSocket-Protocol",
          in: "header",
          description: `The session token as the subprotocol \`bearer.<token>\`, offered beside \`${WS_SUBPROTOCOL}\`.`,
        },
      },
      messages,
      schemas,
    },
  };
}
