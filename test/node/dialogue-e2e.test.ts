/**
 * Dialogue end to end: a small OpenAI-compatible SSE server on 127.0.0.1 (started here), the
 * engine as `npm start` runs it (wrangler dev) pointed at it with LLM_PROVIDER=openai, and the
 * client SDK's dialogue helpers in Node.
 */
import { execFileSync } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { approveDialogue, speakToNpc, type WrldbldrClient } from "../../src/client";
import { createSession, joinSession, sleep, testClient, useTestEngine } from "./client-helpers";

type Script = (req: IncomingMessage, res: ServerResponse, body: any) => Promise<void> | void;

const event = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;

/** Writes the events in pieces that cut them apart, a little apart in time. */
const streams =
  (tokens: string[], opts: { dropAfter?: number } = {}): Script =>
  async (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const sent = opts.dropAfter !== undefined ? tokens.slice(0, opts.dropAfter) : tokens;
    const text = sent.map(event).join("") + (opts.dropAfter !== undefined ? "" : "data: [DONE]\n\n");
    for (let i = 0; i < text.length; i += 11) {
      res.write(text.slice(i, i + 11));
      await sleep(5);
    }
    if (opts.dropAfter !== undefined) res.socket?.destroy();
    else res.end();
  };
const status =
  (code: number): Script =>
  (_req, res) => {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: `scripted ${code}` } }));
  };

const replies: Script[] = [];
const requests: any[] = [];
let llm: Server;

async function startLlmServer(): Promise<number> {
  llm = createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", () => {
      const body = raw ? JSON.parse(raw) : null;
      requests.push({ url: req.url, auth: req.headers.authorization, body });
      const next = replies.shift() ?? status(500);
      void next(req, res, body);
    });
  });
  await new Promise<void>((r) => llm.listen(0, "127.0.0.1", r));
  return (llm.address() as AddressInfo).port;
}

// Listening before the engine starts, so its URL is known to the engine's vars.
const llmPort = await startLlmServer();
afterAll(() => new Promise<void>((r) => llm.close(() => r())));

const { t, track } = useTestEngine({
  LLM_PROVIDER: "openai",
  LLM_BASE_URL: `http://127.0.0.1:${llmPort}/v1`,
  LLM_MODEL: "e2e-model",
  LLM_API_KEY: "sk-e2e",
  LLM_RETRY_BASE_MS: "50",
});

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const d of it) out.push(d);
  return out;
}

describe("dialogue end to end (Node SSE server ↔ wrangler dev ↔ SDK)", () => {
  it("a player speaks, the DM approves, then answers stream to everyone; a cut stream fails visibly", async () => {
    const dmGrant = await createSession(t);
    const playerGrant = await joinSession(t, dmGrant.invite_code, "Ayla's player");
    const dm: WrldbldrClient = track(testClient(t, dmGrant, { direct: true }));
    const player: WrldbldrClient = track(testClient(t, playerGrant, { direct: true }));
    const location = await dm.request({ type: "CreateLocation", data: { name: "Gilded Lantern" } });
    const hall = await dm.request({ type: "CreateRegion", location_id: location.id, data: { name: "Common room" } });
    const npc = await dm.request({ type: "CreateCharacter", data: { kind: "npc", name: "Mira", region_id: hall.id, dm_notes: "SECRET smuggler" } });
    const pc = await dm.request({
      type: "CreateCharacter",
      data: { kind: "pc", name: "Ayla", owner_participant_id: playerGrant.participant_id, region_id: hall.id },
    });

    // Approval on (the default): a 500 first (retried), then the draft streams to the DM only.
    replies.push(status(500), streams(["*smiles* ", "Welcome ", "to the ", "Lantern.", "\n[DM] She is wary."]));
    const drafts = new Promise<any>((resolve) => dm.on("DialogueApprovalRequired", (e) => resolve(e.exchange)));
    const talk = await speakToNpc(player, { character_id: pc.id, npc_id: npc.id, text: "Good evening!" });
    expect(talk.exchange).toMatchObject({ status: "generating", approval: true });
    const dmTokens = collect(dm.stream(talk.exchange.job_id!));
    const draft = await drafts;
    expect(draft).toMatchObject({ id: talk.exchange.id, dm_draft: "*smiles* Welcome to the Lantern.", dm_reasoning: "She is wary." });
    expect((await dmTokens).join("").trim()).toBe("*smiles* Welcome to the Lantern.");
    expect(requests).toHaveLength(2);
    expect(requests[1]).toMatchObject({ url: "/v1/chat/completions", auth: "Bearer sk-e2e", body: { model: "e2e-model", stream: true } });
    expect(requests[1].body.messages[0].content).toContain("SECRET smuggler"); // for the model only

    const approved = await approveDialogue(dm, draft.id, "edit", { text: "Welcome to the Lantern, dear." });
    const heard = await talk.outcome;
    expect(heard).toMatchObject({ kind: "answered", exchange: { text: "Welcome to the Lantern, dear.", source: "dm_edit", provider: "openai" } });
    expect(await collect(talk.tokens)).toEqual([]); // players see no draft
    expect(JSON.stringify(heard)).not.toContain("wary");
    expect(await approved.outcome).toMatchObject({ kind: "answered" });

    // Approval off: the player reads the tokens as they come, then the final event.
    await dm.request({ type: "UpdateSessionSettings", data: { dialogue_approval: false } });
    replies.push(streams(["Two ", "coppers ", "for ", "ale."]));
    const second = await speakToNpc(player, { character_id: pc.id, npc_id: npc.id, text: "What does ale cost?" });
    const tokens = await collect(second.tokens);
    expect(tokens.length).toBeGreaterThan(1);
    expect(tokens.join("")).toBe("Two coppers for ale.");
    expect(await second.outcome).toMatchObject({
      kind: "answered",
      exchange: { text: "Two coppers for ale." },
      turns: [{ speaker: "pc" }, { speaker: "npc" }],
    });
    // The first exchange is in the prompt's recent conversation.
    expect(requests.at(-1).body.messages[0].content).toContain("Mira: Welcome to the Lantern, dear.");

    // A stream cut after two tokens: the stream ends, DialogueFailed says why, nothing is stored.
    replies.push(streams(["I ", "was ", "saying"], { dropAfter: 2 }));
    const third = await speakToNpc(player, { character_id: pc.id, npc_id: npc.id, text: "And the rooms?" });
    expect((await collect(third.tokens)).join("")).toBe("I was ");
    expect(await third.outcome).toMatchObject({ kind: "failed", error: { code: "UNAVAILABLE", details: { reason: "stream_interrupted" } } });
    const turns = await player.request({ type: "ListDialogueTurns", npc_id: npc.id, character_id: pc.id });
    expect(turns.items.map((x) => x.text)).toEqual(["Two coppers for ale.", "What does ale cost?", "Welcome to the Lantern, dear.", "Good evening!"]);
  });

  it("the engine's processes carry no secret on their command line (AUTH_SECRET, LLM_API_KEY): any local user may read it with ps", () => {
    const rows = execFileSync("ps", ["-eww", "-o", "pid=,ppid=,args="], { encoding: "utf8" })
      .split("\n")
      .map((l) => /^\s*(\d+)\s+(\d+)\s(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
    // wrangler and every process under it (workerd, esbuild…).
    const tree = new Set([t.engine.pid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const r of rows) if (tree.has(r.ppid) && !tree.has(r.pid)) tree.add(r.pid), (grew = true);
    }
    const argv = rows.filter((r) => tree.has(r.pid)).map((r) => r.args);
    expect(argv.length).toBeGreaterThan(1);
    expect(argv[0]).toContain("wrangler");
    for (const a of argv) {
      expect(a).not.toContain("client-test-secret");
      expect(a).not.toContain("sk-e2e");
    }
    // The secrets still reached the Worker: tokens it signed are accepted above, and the provider got the key.
    expect(requests.some((r) => r.auth === "Bearer sk-e2e")).toBe(true);
  });
});
