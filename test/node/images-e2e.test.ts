import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEngine, type Engine } from "../../scripts/engine";
import { uploadAsset } from "../../src/client/assets";
import { WireClient, postJson } from "./wire";

const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");

/** A PNG chunk (CRC left zero). */
function chunk(type: string, text: string): Buffer {
  const data = Buffer.from(text, "latin1");
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  return Buffer.concat([head, data, Buffer.alloc(4)]);
}

/** An image as ComfyUI saves it: PNG with its prompt and workflow in tEXt chunks. */
const withPrompt = (prompt: unknown) =>
  Buffer.concat([
    PNG.subarray(0, 33),
    chunk("tEXt", `prompt\0${JSON.stringify(prompt)}`),
    chunk("tEXt", `workflow\0${JSON.stringify({ nodes: [prompt] })}`),
    PNG.subarray(33),
  ]);

/** A ComfyUI on 127.0.0.1 speaking the HTTP API the engine uses; each prompt is done after two looks at /history. */
function comfyServer() {
  const prompts: { prompt_id: string; prompt: any }[] = [];
  const looks = new Map<string, number>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const json = (status: number, body: unknown) => (res.writeHead(status, { "content-type": "application/json" }), res.end(JSON.stringify(body)));
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", () => {
      if (req.method === "POST" && url.pathname === "/prompt") {
        const body = JSON.parse(raw);
        prompts.push(body);
        return json(200, { prompt_id: body.prompt_id, number: prompts.length, node_errors: {} });
      }
      if (url.pathname.startsWith("/history/")) {
        const id = url.pathname.slice("/history/".length);
        const n = (looks.get(id) ?? 0) + 1;
        looks.set(id, n);
        if (!prompts.some((p) => p.prompt_id === id) || n < 2) return json(200, {});
        return json(200, {
          [id]: {
            outputs: { "9": { images: [{ filename: `${id}.png`, subfolder: "", type: "output" }] } },
            status: { status_str: "success", completed: true, messages: [] },
          },
        });
      }
      if (url.pathname === "/queue") {
        const pending = prompts.filter((p) => (looks.get(p.prompt_id) ?? 0) < 2).map((p, i) => [i, p.prompt_id, p.prompt, {}, ["9"]]);
        return json(200, { queue_running: [], queue_pending: pending });
      }
      if (url.pathname === "/view") {
        const id = url.searchParams.get("filename")?.replace(/\.png$/, "");
        return (res.writeHead(200, { "content-type": "image/png" }), res.end(withPrompt(prompts.find((p) => p.prompt_id === id)?.prompt ?? {})));
      }
      json(404, {});
    });
  });
  return { server, prompts };
}

/**
 * Images end to end from Node: a real engine (wrangler dev) with IMAGE_PROVIDER=comfyui against a
 * ComfyUI-speaking server on 127.0.0.1, uploads through the SDK, downloads through signed URLs.
 */
describe("images end to end (Node ↔ wrangler dev ↔ ComfyUI API)", () => {
  const persistDir = mkdtempSync(join(tmpdir(), "wrldbldr-images-"));
  const comfy = comfyServer();
  let engine: Engine;

  beforeAll(async () => {
    await new Promise<void>((r) => comfy.server.listen(0, "127.0.0.1", r));
    const { port } = comfy.server.address() as AddressInfo;
    engine = await startEngine({
      persistDir,
      vars: {
        AUTH_SECRET: "images-e2e-secret-0123456789abcdef",
        IMAGE_PROVIDER: "comfyui",
        COMFYUI_URL: `http://127.0.0.1:${port}`,
        GENERATION_POLL_MS: "100",
      },
    });
  });
  afterAll(async () => {
    await engine?.stop();
    await new Promise((r) => (comfy.server as Server).close(r));
    rmSync(persistDir, { recursive: true, force: true });
  });

  it("generates through ComfyUI, uploads through the SDK, serves both by signed URL", async () => {
    const dm = await postJson(`${engine.url}/auth/sessions`, { world_name: "Images", dm_name: "DM" });
    const a = await WireClient.open(dm.body.ws_url, dm.body.token);
    await a.join();
    const npc = (await a.request({ type: "CreateCharacter", data: { kind: "npc", name: "Mira" } })).data;

    const batch = (
      await a.request({ type: "StartGeneration", prompt: "Mira, innkeeper", count: 2, image: "portrait", target: { kind: "character", id: npc.id } })
    ).data;
    expect(batch.provider).toBe("comfyui");
    const done = await a.waitFor((f) => f.type === "Event" && f.event.type === "GenerationComplete", 30_000);
    expect(done.event.asset_ids).toHaveLength(2);
    expect(comfy.prompts.map((p) => p.prompt_id).sort()).toEqual([...done.event.asset_ids].sort());
    expect(comfy.prompts[0]!.prompt["6"].inputs.text).toBe("Mira, innkeeper");
    expect(a.events("GenerationProgress").map((e) => e.event.completed)).toEqual([1, 2]);
    expect((await a.request({ type: "GetCharacter", character_id: npc.id })).data.portrait_asset_id).toBe(done.event.asset_ids[0]);

    const generated = (await a.request({ type: "GetAsset", asset_id: done.event.asset_ids[0] })).data;
    const image = await fetch(`${engine.url}${generated.url}`);
    expect(image.status).toBe(200);
    // ComfyUI's PNG carried the prompt and workflow in tEXt chunks: stored without them.
    expect(Buffer.from(await image.arrayBuffer()).equals(PNG)).toBe(true);
    // A player sees neither the prompt as a label nor in the bytes it downloads.
    const joined = await postJson(`${engine.url}/auth/join`, { invite_code: dm.body.invite_code, name: "Player" });
    const p = await WireClient.open(joined.body.ws_url, joined.body.token);
    await p.join();
    const seen = (await p.request({ type: "GetAsset", asset_id: generated.id })).data;
    expect(generated.label).toBe("Mira, innkeeper");
    expect(seen.label).toBe("");
    const bytes = Buffer.from(await (await fetch(`${engine.url}${seen.url}`)).arrayBuffer());
    expect(bytes.toString("latin1")).not.toContain("innkeeper");
    p.close();
    expect((await fetch(`${engine.url}${generated.url}`, { headers: { "if-none-match": image.headers.get("etag")! } })).status).toBe(304);

    const uploaded = await uploadAsset(dm.body.ws_url, dm.body.token, new Uint8Array(PNG), { label: "by the SDK" });
    expect(uploaded.asset).toMatchObject({ label: "by the SDK", content_type: "image/png", width: 1, height: 1 });
    expect(uploaded.url.startsWith(engine.url)).toBe(true);
    expect((await fetch(uploaded.url)).status).toBe(200);
    const svg = await uploadAsset(dm.body.ws_url, dm.body.token, new TextEncoder().encode("<svg/>"), { contentType: "image/svg+xml" }).catch((e) => e);
    expect(svg.code).toBe("VALIDATION_ERROR");
    a.close();
  }, 60_000);
});
