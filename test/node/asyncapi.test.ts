import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";
import { describe, expect, it } from "vitest";
import { ASYNCAPI_PATH, renderAsyncApi } from "../../scripts/gen-docs";
import { EVENTS, OPERATIONS } from "../../src/protocol";

const ERROR_SEVERITY = 0;

describe("docs/asyncapi.json", () => {
  const text = readFileSync(ASYNCAPI_PATH, "utf8");
  const doc = JSON.parse(text);

  it("is generated from the current registry (run `npm run docs` after changing it)", () => {
    expect(text).toBe(renderAsyncApi());
  });

  it("is a valid AsyncAPI 3 document", { timeout: 60_000 }, async () => {
    const { document, diagnostics } = await new Parser().parse(text);
    const errors = diagnostics.filter((d) => d.severity === ERROR_SEVERITY);
    expect(errors.map((d) => `${d.path.join(".")}: ${d.message}`)).toEqual([]);
    expect(document?.version()).toMatch(/^3\./);
    // The parser resolved the operation metadata and the reply of a request.
    const kick = document!.operations().get("KickParticipant")!;
    expect(kick.extensions().get("x-access")?.value()).toBe("dm");
    expect(
      kick
        .reply()
        ?.messages()
        .all()
        .map((m) => m.id()),
    ).toEqual(["KickParticipantResponse"]);
  });

  it("has the session channel with its subprotocol and token", () => {
    const channel = doc.channels.session;
    expect(channel.address).toBe("/sessions/{session_id}/ws");
    expect(channel.description).toContain("wrldbldr.v1");
    expect(channel.description).toContain("bearer.<token>");
    expect(doc.components.securitySchemes.subprotocolToken).toMatchObject({ type: "httpApiKey", name: "Sec-WebSocket-Protocol", in: "header" });
  });

  it("has a request and a response message and an operation for every operation, with its registry entry", () => {
    for (const [type, def] of Object.entries(OPERATIONS)) {
      expect(doc.channels.session.messages[`${type}Request`], type).toBeDefined();
      expect(doc.channels.session.messages[`${type}Response`], type).toBeDefined();
      expect(doc.operations[type], type).toMatchObject({
        action: "receive",
        "x-access": def.access,
        "x-write": def.write,
        "x-frame-limit": def.frame,
        "x-events": [...def.events],
      });
    }
    expect(doc.operations.ListPromptTemplates).toMatchObject({ "x-access": "dm", "x-write": false });
    expect(doc.operations.ImportWorld["x-frame-limit"]).toBe("batch");
  });

  it("has an event message for every event type and every other frame", () => {
    const messages = Object.keys(doc.components.messages);
    for (const type of Object.keys(EVENTS)) expect(messages).toContain(`${type}Event`);
    for (const frame of ["JoinSession", "Ack", "SessionJoined", "ResponseChunk", "Stream", "Error"]) expect(messages).toContain(frame);
    expect(doc.components.messages.GoalCreatedEvent["x-emitted-by"]).toEqual(["CreateGoal"]);
    expect(doc.operations.sendEvent.messages).toHaveLength(Object.keys(EVENTS).length);
  });

  it("describes payloads with JSON Schemas from zod, entities shared by reference", () => {
    expect(doc.components.schemas.CreateGoalRequest.properties.payload).toEqual({ $ref: "#/components/schemas/CreateGoalPayload" });
    const payload = doc.components.schemas.CreateGoalPayload;
    expect(payload.properties.type).toMatchObject({ const: "CreateGoal" });
    expect(payload.additionalProperties).toBe(false);
    // A Batch lists every operation but itself.
    const inBatch = doc.components.schemas.BatchPayload.properties.operations.items.anyOf.map((r: { $ref: string }) => r.$ref.split("/").pop());
    expect(inBatch.sort()).toEqual(
      Object.keys(OPERATIONS)
        .filter((t) => t !== "Batch")
        .map((t) => `${t}Payload`)
        .sort(),
    );
    expect(doc.components.schemas.GetCharacterResponse.properties.result.oneOf[0].properties.data).toEqual({ $ref: "#/components/schemas/Character" });
  });
});
