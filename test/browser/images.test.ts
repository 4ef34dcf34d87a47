import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../src/client";
import { startEngine, type Engine } from "../../scripts/engine";
import { launchChromium } from "./chromium";

const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
const LIVE = { timeout: 15_000 };

/** The DM's Images tab in a real Chromium: upload through POST /assets, thumbnails by signed URL, generation with progress. */
describe("web client: images", () => {
  let engine: Engine;
  let browser: Browser;
  let persistDir: string;

  beforeAll(async () => {
    persistDir = mkdtempSync(join(tmpdir(), "wrldbldr-web-images-"));
    const launching = launchChromium();
    engine = await startEngine({ persistDir, vars: { GENERATION_POLL_MS: "100" } });
    browser = await launching;
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await engine?.stop();
    rmSync(persistDir, { recursive: true, force: true });
  });

  it("uploads an image, shows it, and generates more with a progress bar", async () => {
    const res = await fetch(`${engine.url}/auth/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ world_name: "Pictures", dm_name: "DM" }),
    });
    const grant = await res.json();
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${engine.url}/s/${grant.session_id}#token=${grant.token}`);
    await page.getByRole("button", { name: "Images" }).click();
    await page.getByTestId("image-upload").setInputFiles({ name: "mira.png", mimeType: "image/png", buffer: PNG });
    const first = page.getByTestId("asset").first();
    await expect.poll(() => first.locator("figcaption").textContent(), LIVE).toBe("mira.png");
    await expect.poll(() => first.locator("img").evaluate((img) => (img as HTMLImageElement).naturalWidth), LIVE).toBe(1);

    await page.getByTestId("generation-prompt").fill("a lighthouse in a storm");
    await page.getByLabel("Number of images").selectOption("2");
    await page.getByRole("button", { name: "Generate" }).click();
    const batch = page.getByTestId("generation-batch");
    await expect.poll(() => batch.textContent(), LIVE).toContain("2/2 · done");
    expect(await batch.locator("progress").getAttribute("value")).toBe("2");
    await expect.poll(() => page.getByTestId("asset").count(), LIVE).toBe(3);
    const sizes = await page.locator("[data-testid=asset] img").evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
    expect(sizes.every((w) => w > 0)).toBe(true);
    expect(errors).toEqual([]);
  }, 60_000);

  it("shows the active scene's backdrop and NPC portraits through signed URLs", async () => {
    const res = await fetch(`${engine.url}/auth/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ world_name: "Faces", dm_name: "DM" }),
    });
    const grant = await res.json();
    const dm = connect({ url: grant.ws_url, token: grant.token, WebSocket });
    try {
      const npc = await dm.request({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } });
      const { asset } = await dm.uploadAsset(PNG, { label: "mira.png" });
      await dm.request({ type: "SetEntityImage", entity: { kind: "character", id: npc.id }, image: "portrait", asset_id: asset.id });
      const scene = await dm.request({ type: "CreateScene", data: { name: "Harbour at dawn" } });
      await dm.request({ type: "SetSceneBackdrop", scene_id: scene.id, backdrop_asset_id: asset.id });
      await dm.request({ type: "SetActiveScene", scene_id: scene.id });
      const page = await (await browser.newContext()).newPage();
      await page.goto(`${engine.url}/s/${grant.session_id}#token=${grant.token}`);
      const loaded = (alt: string) => page.getByAltText(alt).evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth);
      await expect.poll(() => loaded("Backdrop of Harbour at dawn"), LIVE).toBe(1);
      expect(await page.getByAltText("Backdrop of Harbour at dawn").getAttribute("src")).toMatch(/\/assets\/.+sig=/);
      await page.getByRole("button", { name: "Characters" }).click();
      await expect.poll(() => loaded("Portrait of Mira"), LIVE).toBe(1);
    } finally {
      dm.close();
    }
  }, 60_000);
});
