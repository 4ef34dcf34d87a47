import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { connect, type WrldbldrClient } from "../../src/client";
import type { AnyPayloadInput } from "../../src/protocol";
import { startEngine, type Engine } from "../../scripts/engine";
import { launchChromium } from "./chromium";

/**
 * The gameplay panels in Chromium: the DM approves a staging (a hidden NPC never shows on the
 * player's page), the player rolls dice, and a challenge goes trigger → roll → resolve across the
 * two pages. The world is built through the SDK; the pages follow by events.
 */

const LIVE = { timeout: 15_000 };
let engine: Engine;
let persistDir: string;
let browser: Browser;
let dm: Page;
let player: Page;
let dmApi: WrldbldrClient;
let playerApi: WrldbldrClient;
const errors: string[] = [];

async function post(path: string, body: unknown) {
  const res = await fetch(`${engine.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return (await res.json()) as { session_id: string; token: string; invite_code: string };
}

async function page(sessionId: string, token: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p = await context.newPage();
  p.on("console", (m) => m.type() === "error" && errors.push(`${name}: ${m.text()}`));
  p.on("pageerror", (e) => errors.push(`${name}: ${e.message}`));
  await p.goto(`${engine.url}/s/${sessionId}#token=${token}`);
  await p.getByTestId("connection").getByText("Connected").waitFor(LIVE);
  return p;
}

let ids: { pc: string; hall: string; street: string; mira: string; spy: string; hask: string };
let sessionId = "";
let playerToken = "";

/** The NPCs the Talk panel offers. */
const offered = (p: Page) => p.getByTestId("dialogue").locator("option").allTextContents();
/** What the server says of speaking to an NPC: "ok" or the refusal's reason. */
async function serverSays(npcId: string): Promise<string> {
  try {
    const ex = (await playerApi.request({ type: "SpeakToNpc", character_id: ids.pc, npc_id: npcId, text: "Hello?" })) as any;
    // The DM answers in its own words once the draft waits (a draft still being written is a CONFLICT).
    await expect
      .poll(
        () =>
          dmApi.request({ type: "ApproveDialogue", exchange_id: ex.id, decision: "take_over", text: "Hello, traveller." }).then(
            () => true,
            () => false,
          ),
        LIVE,
      )
      .toBe(true);
    return "ok";
  } catch (err) {
    return String((err as { details?: { reason?: string } }).details?.reason ?? (err as Error).message);
  }
}

beforeAll(async () => {
  persistDir = mkdtempSync(join(tmpdir(), "wrldbldr-gameplay-"));
  const launching = launchChromium();
  engine = await startEngine({ persistDir });
  browser = await launching;
  const session = await post("/auth/sessions", { world_name: "Emberfall", dm_name: "Dana" });
  const joined = await post("/auth/join", { invite_code: session.invite_code, name: "Pat" });
  dmApi = connect({ url: `${engine.wsBase}/sessions/${session.session_id}/ws`, token: session.token, WebSocket });
  playerApi = connect({ url: `${engine.wsBase}/sessions/${session.session_id}/ws`, token: joined.token, WebSocket });
  const dmReq = (p: AnyPayloadInput) => dmApi.request(p) as Promise<any>;
  await dmReq({ type: "UpdateSessionSettings", data: { auto_approve_staging: false } });
  const location = await dmReq({ type: "CreateLocation", data: { name: "Inn" } });
  const street = await dmReq({ type: "CreateRegion", location_id: location.id, data: { name: "Street" } });
  const hall = await dmReq({ type: "CreateRegion", location_id: location.id, data: { name: "Hall" } });
  await dmReq({ type: "CreateRegionConnection", data: { from_region_id: street.id, to_region_id: hall.id } });
  const mira = await dmReq({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
  const spy = await dmReq({ type: "CreateCharacter", data: { kind: "npc", name: "Shadow Spy", hidden: true } });
  await dmReq({ type: "SetNpcRegionRelationship", character_id: mira.id, region_id: hall.id, relationship_type: "work" });
  await dmReq({ type: "SetNpcRegionRelationship", character_id: spy.id, region_id: hall.id, relationship_type: "home" });
  const hask = await dmReq({ type: "CreateCharacter", data: { kind: "npc", name: "Hask" } });
  await dmReq({ type: "SetNpcRegionRelationship", character_id: hask.id, region_id: hall.id, relationship_type: "frequents" });
  const pc = (await playerApi.request({ type: "CreateCharacter", data: { kind: "pc", name: "Aria", stats: { athletics: 3 } } })) as any;
  ids = { pc: pc.id, hall: hall.id, street: street.id, mira: mira.id, spy: spy.id, hask: hask.id };
  sessionId = session.session_id;
  playerToken = joined.token;
  dm = await page(session.session_id, session.token, "dm");
  player = await page(session.session_id, joined.token, "player");
});

afterAll(async () => {
  dmApi?.close();
  playerApi?.close();
  await browser?.close();
  await engine?.stop();
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
});

describe("gameplay panels in Chromium", () => {
  it("the DM approves a staging in the Play tab; the player sees who is there, never the hidden NPC", async () => {
    await dm.getByRole("button", { name: "Play" }).click();
    await playerApi.request({ type: "MoveToRegion", character_id: ids.pc, region_id: ids.street });
    await playerApi.request({ type: "MoveToRegion", character_id: ids.pc, region_id: ids.hall });
    await player.getByTestId("player-waits").getByText("Waiting for the DM to set who is here in Hall…").waitFor(LIVE);
    await player.getByTestId("staging-pending").waitFor(LIVE);
    // While the DM decides, the page offers nobody, and the server accepts nobody.
    await player.getByTestId("dialogue").getByText("Waiting for the DM to set who is here…").waitFor(LIVE);
    expect(await offered(player)).toEqual([]);
    expect(await serverSays(ids.mira)).not.toBe("ok");
    const request = dm.getByTestId("needs-you").getByTestId("staging-request").filter({ hasText: "Hall" });
    await request.getByText("Shadow Spy").waitFor(LIVE);
    // Street (passed through) and Hall wait for the DM: the count is in the title and the top bar.
    await expect.poll(() => dm.title(), LIVE).toBe("(2) WrldBldr");
    expect(await dm.getByTestId("needs-you-count").textContent()).toContain("2");
    // Hask stays out (absent); the spy is present but hidden.
    await request.getByLabel(/^Hask/).uncheck();
    await request.getByRole("button", { name: "Approve staging for Hall" }).click();
    await player.getByTestId("present").getByText("Mira").waitFor(LIVE);
    await expect.poll(() => player.getByTestId("staging-pending").count(), LIVE).toBe(0);
    expect(await player.getByTestId("present").locator("li").allTextContents()).toEqual(["Mira"]);
    expect(await offered(player)).toEqual(["Mira"]);
    // The page offers exactly whom the server accepts.
    expect(await serverSays(ids.hask)).not.toBe("ok");
    expect(await serverSays(ids.spy)).not.toBe("ok");
    expect(await serverSays(ids.mira)).toBe("ok");
    expect(await player.content()).not.toContain("Shadow Spy");
    await expect.poll(() => dm.getByTestId("needs-you").getByText("Hall").count(), LIVE).toBe(0);
    await expect.poll(() => dm.title(), LIVE).toBe("(1) WrldBldr");
  });

  it("the player rolls dice; the DM sees the roll", async () => {
    const form = player.getByTestId("dice-form");
    await form.getByLabel("Dice", { exact: true }).fill("2d6+1");
    await form.getByRole("button", { name: "Roll" }).click();
    await player
      .getByTestId("dice-rolls")
      .getByText(/2d6\+1/)
      .waitFor(LIVE);
    await dm
      .getByTestId("dice-rolls")
      .getByText(/Aria \(Pat\) · 2d6\+1/)
      .waitFor(LIVE);
  });

  it("a challenge goes trigger → roll → resolve across the two pages", async () => {
    const form = dm.getByTestId("challenge-new");
    await form.getByLabel("Challenge name").fill("Climb the wall");
    await form.getByLabel("Check (stat or skill)").fill("athletics");
    await form.getByLabel("On success").fill("You reach the top");
    await form.getByLabel("On failure").fill("You slip back down");
    await form.getByRole("button", { name: "Create challenge" }).click();
    await dm.getByRole("button", { name: "Trigger Climb the wall" }).click();
    const prompts = player.getByTestId("challenge-prompts");
    await prompts.getByText("Climb the wall").waitFor(LIVE);
    // The outcome texts are not the player's before the resolution.
    expect(await player.content()).not.toContain("You reach the top");
    await prompts.getByRole("button", { name: "Roll 1d20" }).click();
    await prompts.getByText(/the DM is deciding the outcome/).waitFor(LIVE);
    const roll = dm.getByTestId("needs-you").getByTestId("roll-to-resolve");
    await roll.getByText("Climb the wall").waitFor(LIVE);
    expect(await roll.getByTestId("roll-breakdown").textContent()).toMatch(/^1d20: \[\d+\] \+3 \(stat\) = \d+/);
    await roll.getByLabel(/^Success/).check();
    await roll.getByLabel(/Narration/).fill("Your fingers find a crack just in time.");
    await roll.getByRole("button", { name: "Resolve: success" }).click();
    await player.getByTestId("challenge-outcome").getByText("Success: You reach the top — Your fingers find a crack just in time.").waitFor(LIVE);
  });

  it("the DM's queue shows a waiting draft from every tab, with its count in the title; one click answers it", async () => {
    const talk = player.getByTestId("dialogue");
    await talk.getByTestId("dialogue-text").fill("Is the wall always this slippery?");
    await talk.getByRole("button", { name: "Speak" }).click();
    await player
      .getByTestId("player-waits")
      .getByText(/The DM is reviewing Mira's answer/)
      .waitFor(LIVE);
    for (const tab of ["Play", "Overview", "Characters", "Places", "Scenes", "Goals", "Story", "Prompts", "Images"]) {
      await dm.getByRole("navigation", { name: "DM sections" }).getByRole("button", { name: tab, exact: true }).click();
      const queue = dm.getByTestId("needs-you");
      await queue.getByTestId("draft").waitFor(LIVE);
      expect(await queue.getByTestId("needs-dialogue").textContent()).toContain("Is the wall always this slippery?");
      expect(await dm.title()).toBe("(2) WrldBldr"); // the draft and Street's staging
      expect(await dm.getByTestId("needs-you-count").textContent()).toContain("2");
    }
    await dm.getByTestId("needs-you").getByRole("button", { name: "Accept", exact: true }).click();
    await expect.poll(() => dm.title(), LIVE).toBe("(1) WrldBldr");
    await expect.poll(() => player.getByTestId("player-waits").count(), LIVE).toBe(0);
    await dm.getByRole("button", { name: "Play", exact: true }).click();
  });

  it("says what went wrong in words: the five most common refusals", async () => {
    const toast = (p: Page, text: string) => p.locator(".toasts").getByText(text).waitFor(LIVE);
    // 1. A dice formula the server cannot read.
    const dice = player.getByTestId("dice-form");
    await dice.getByLabel("Dice", { exact: true }).fill("2x6");
    await dice.getByRole("button", { name: "Roll" }).click();
    await toast(player, "Dice: write them like 2d6+1, 1d20+5 or 4d6kh3 ('2x6' is not a term).");
    // 2. A name over the limit (an optimistic edit, undone).
    const sheet = player.getByTestId("sheet");
    await sheet.getByLabel("Name").fill("Aria ".repeat(41));
    await sheet.getByRole("button", { name: "Save" }).click();
    await toast(player, "Change undone. Name: at most 200 characters.");
    // 3. A challenge triggered twice for the same character.
    await dm.getByRole("button", { name: "Trigger Climb the wall" }).click();
    await player.getByTestId("challenge-prompts").getByRole("button", { name: "Roll 1d20" }).waitFor(LIVE);
    await dm.getByRole("button", { name: "Trigger Climb the wall" }).click();
    await toast(dm, "This challenge is already waiting for that character's roll.");
    // 4. A difficulty out of range.
    const form = dm.getByTestId("challenge-new");
    await form.getByLabel("Challenge name").fill("Impossible");
    await form.getByLabel("DC").fill("500");
    await form.getByRole("button", { name: "Create challenge" }).click();
    await toast(dm, "DC: a whole number from 1 to 100.");
    // 5. A setting out of range.
    await dm.getByRole("button", { name: "Overview", exact: true }).click();
    const settings = dm.getByTestId("world-settings");
    await settings.getByLabel("Seconds before staging is approved automatically").fill("2");
    await settings.getByRole("button", { name: "Save settings" }).click();
    await toast(dm, "Seconds before staging is approved automatically: a whole number from 5 to 3600.");
    await dm.getByRole("button", { name: "Play", exact: true }).click();
  });

  it("keeps the evening in the game log: after a reload and in a fresh context, the same entries in order, once, and nothing a player must not see", async () => {
    // A DM's secret roll: the DM's log has it, the player's never does.
    const dice = dm.getByTestId("dice-form");
    await dice.getByLabel("Dice", { exact: true }).fill("3d8");
    await dice.getByLabel("Secret roll (only DMs see it)").check();
    await dice.getByRole("button", { name: "Roll secretly" }).click();
    await dm.getByTestId("log").getByText(/3d8/).waitFor(LIVE);
    await dice.getByLabel("Secret roll (only DMs see it)").uncheck();
    const log = player.getByTestId("log");
    await log.getByText("Aria: Is the wall always this slippery?").waitFor(LIVE);
    const entries = (p: Page) => p.getByTestId("log-entry").evaluateAll((els) => els.map((e) => `${e.getAttribute("data-id")}|${e.textContent}`));
    const before = await entries(player);
    // What the player reads (the entries' ids are random and may contain anything, "3d8" too).
    const text = before.map((e) => e.slice(e.indexOf("|") + 1)).join("\n");
    expect(text).toContain("Is the wall always this slippery?"); // words said
    expect(text).toMatch(/Aria rolled \d+ \(2d6\+1: /); // a roll with its character, formula and dice
    expect(text).toMatch(/Success( \(\d+\))? — You reach the top/); // an outcome with its text…
    expect(text).toContain("Your fingers find a crack just in time."); // …and the DM's narration
    expect(text).toMatch(/Hello, traveller\..*DM/); // a DM-written reply, labelled as the DM's
    expect(text).not.toContain("3d8");
    expect(text).not.toContain("Shadow Spy");
    expect(new Set(before.map((e) => e.split("|")[0])).size).toBe(before.length);

    await player.reload();
    await player.getByTestId("connection").getByText("Connected").waitFor(LIVE);
    await expect.poll(() => entries(player), LIVE).toEqual(before);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const fresh = await context.newPage();
      fresh.on("pageerror", (e) => errors.push(`fresh: ${e.message}`));
      await fresh.goto(`${engine.url}/s/${sessionId}#token=${playerToken}`);
      await fresh.getByTestId("connection").getByText("Connected").waitFor(LIVE);
      await expect.poll(() => entries(fresh), LIVE).toEqual(before);
    } finally {
      await context.close();
    }
  });

  it("reads older entries of the log when the reader scrolls up, each once", async () => {
    for (let i = 0; i < 55; i++) await playerApi.request({ type: "RollDice", formula: "1d4", character_id: ids.pc });
    const log = player.getByTestId("log");
    const ids_ = () => player.getByTestId("log-entry").evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
    await expect.poll(async () => (await ids_()).length, LIVE).toBeGreaterThan(55);
    await player.reload();
    await player.getByTestId("connection").getByText("Connected").waitFor(LIVE);
    await expect.poll(async () => (await ids_()).length, LIVE).toBe(50);
    await log.evaluate((el) => (el.scrollTop = 0));
    await expect.poll(async () => (await ids_()).length, LIVE).toBeGreaterThan(55);
    const all = await ids_();
    expect(new Set(all).size).toBe(all.length);
    // Back at the start of the session: the first arrival is first.
    await log.evaluate((el) => (el.scrollTop = 0));
    await log.getByText("The start of the session.").waitFor(LIVE);
    expect(await player.getByTestId("log-entry").first().textContent()).toMatch(/Street/);
  });

  it("after a reveal, the player's page offers the NPC and the server accepts it", async () => {
    await dmApi.request({ type: "UpdateCharacter", character_id: ids.spy, data: { hidden: false } });
    await dmApi.request({
      type: "PreStageRegion",
      region_id: ids.hall,
      npcs: [
        { character_id: ids.mira, present: true },
        { character_id: ids.spy, present: true, hidden: false },
        { character_id: ids.hask, present: false },
      ],
    });
    await player.getByTestId("present").getByText("Shadow Spy").waitFor(LIVE);
    expect(await offered(player)).toEqual(["Mira", "Shadow Spy"]);
    expect(await serverSays(ids.spy)).toBe("ok");
    expect(await serverSays(ids.hask)).not.toBe("ok");
  });

  it("fits a phone; screenshots of the table (desktop and 390 px) for a look", async () => {
    // Taken into a temporary directory (GAMEPLAY_SHOTS names another) for a person to look at.
    const dir = process.env.GAMEPLAY_SHOTS ?? mkdtempSync(join(tmpdir(), "wrldbldr-gameplay-shots-"));
    for (const [p, name] of [
      [dm, "dm"],
      [player, "player"],
    ] as const) {
      await p.screenshot({ path: join(dir, `${name}-table.png`), fullPage: true });
      await p.setViewportSize({ width: 390, height: 844 });
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await p.screenshot({ path: join(dir, `${name}-table-phone.png`), fullPage: true });
      await p.setViewportSize({ width: 1280, height: 900 });
    }
    if (!process.env.GAMEPLAY_SHOTS) rmSync(dir, { recursive: true, force: true });
    expect(errors).toEqual([]);
  });
});
