import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { connect, type WrldbldrClient } from "../../src/client";
import { startEngine, type Engine } from "../../scripts/engine";
import { launchChromium } from "./chromium";

/**
 * The dialogue panel (player) and the approval queue (DM) in a real Chromium, against an engine
 * with the default offline provider: a player speaks, the DM accepts the draft, the player reads
 * the answer labelled offline; with approval off the answer comes straight to the player.
 */
const LIVE = { timeout: 15_000 };
let engine: Engine;
let persistDir: string;
let browser: Browser | undefined;
let dmPage: Page;
let playerPage: Page;
let dm: WrldbldrClient;
const errors: string[] = [];

async function post(path: string, body: unknown): Promise<any> {
  const res = await fetch(`${engine.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

beforeAll(async () => {
  persistDir = mkdtempSync(join(tmpdir(), "wrldbldr-dialogue-web-"));
  const launching = launchChromium();
  engine = await startEngine({ persistDir });
  browser = await launching;
  const dmGrant = await post("/auth/sessions", { world_name: "Emberfall", dm_name: "Dana" });
  const playerGrant = await post("/auth/join", { invite_code: dmGrant.invite_code, name: "Pat" });
  dm = connect({ url: dmGrant.ws_url, token: dmGrant.token, WebSocket });
  const location = await dm.request({ type: "CreateLocation", data: { name: "Gilded Lantern" } });
  const hall = await dm.request({ type: "CreateRegion", location_id: location.id, data: { name: "Common room" } });
  await dm.request({
    type: "CreateCharacter",
    data: { kind: "npc", name: "Mira", description: "The innkeeper.", region_id: hall.id, dm_notes: "SECRET smuggler" },
  });
  await dm.request({ type: "CreateCharacter", data: { kind: "pc", name: "Ayla", owner_participant_id: playerGrant.participant_id, region_id: hall.id } });
  const open = async (token: string) => {
    const page = await (await browser!.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${engine.url}/s/${dmGrant.session_id}#token=${token}`);
    return page;
  };
  dmPage = await open(dmGrant.token);
  playerPage = await open(playerGrant.token);
});

afterAll(async () => {
  dm?.close();
  await browser?.close();
  await engine?.stop();
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
});

describe("dialogue in the web client", () => {
  it("a player speaks; the DM approves in the queue; the player reads the answer, labelled offline", async () => {
    const talk = playerPage.getByTestId("dialogue");
    await talk.getByTestId("dialogue-text").fill("Good evening!", LIVE);
    await talk.getByRole("button", { name: "Speak" }).click();
    await expect.poll(() => talk.getByTestId("npc-answer").first().textContent(), LIVE).toContain("the DM is reviewing");

    const queue = dmPage.getByTestId("needs-you");
    const draft = queue.getByTestId("draft");
    await draft.waitFor(LIVE);
    expect(await draft.textContent()).toContain("I am Mira");
    expect(await draft.textContent()).toContain("offline");
    await queue.getByRole("button", { name: "Accept", exact: true }).click();

    await expect.poll(() => talk.getByTestId("npc-answer").first().textContent(), LIVE).toContain('"Good evening!", you say? I am Mira.');
    expect(await talk.getByTestId("npc-answer").first().textContent()).toContain("offline");
    await expect.poll(() => queue.textContent(), LIVE).toContain("Nothing waits for you.");
    expect(await playerPage.content()).not.toContain("SECRET smuggler");
  });

  it("with approval off, the answer streams straight to the player; an edit in the queue is said instead", async () => {
    await dm.request({ type: "UpdateSessionSettings", data: { dialogue_approval: false } });
    const talk = playerPage.getByTestId("dialogue");
    await talk.getByTestId("dialogue-text").fill("What do you serve?");
    await talk.getByRole("button", { name: "Speak" }).click();
    await expect.poll(() => talk.getByTestId("npc-answer").nth(1).textContent(), LIVE).toContain('"What do you serve?", you say?');
    // The final answer (NpcSpeaks) carries the provider's label; the live words do not.
    await talk.getByTestId("npc-answer").nth(1).locator(".tag", { hasText: "offline" }).waitFor(LIVE);

    await dm.request({ type: "UpdateSessionSettings", data: { dialogue_approval: true } });
    await talk.getByTestId("dialogue-text").fill("And a room?");
    await talk.getByRole("button", { name: "Speak" }).click();
    const queue = dmPage.getByTestId("needs-you");
    await queue.getByTestId("draft").waitFor(LIVE);
    await queue.getByTestId("draft-text").fill("*smiles* The room upstairs is yours.");
    await queue.getByRole("button", { name: "Say edited" }).click();
    await expect.poll(() => talk.getByTestId("npc-answer").nth(2).textContent(), LIVE).toContain("The room upstairs is yours.");
    expect(errors).toEqual([]);
  });
});
