/**
 * `npm start`: applies the local D1 migrations, serves the engine on 127.0.0.1 (local D1, R2 and
 * Durable Objects, persisted under .wrangler/state), prepares a demo session, prints how to use it.
 * The demo session is kept across restarts (.wrangler/demo-session.json).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, ensureDevVars, startEngine, type Engine } from "./engine";
import { llmVars, parseDotEnv } from "./llm-vars";
import { seedAsDm, seedAsPlayer, seedImages, type Requester } from "./demo";
import { WebSocket } from "ws";
import { connect } from "../src/client";
import type { AnyPayloadInput } from "../src/protocol";

const DEMO_FILE = join(ROOT, ".wrangler", "demo-session.json");

interface Demo {
  session_id: string;
  ws_url: string;
  invite_code: string;
  dm_token: string;
  player_token: string;
}

async function post(engine: Engine, path: string, body: unknown, token?: string): Promise<any> {
  const res = await fetch(`${engine.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

/** Reuses the saved demo session (tokens refreshed), or creates and seeds a new one. */
async function demoSession(engine: Engine): Promise<{ demo: Demo; created: boolean }> {
  if (existsSync(DEMO_FILE)) {
    try {
      const saved: Demo = JSON.parse(readFileSync(DEMO_FILE, "utf8"));
      const dm = await post(engine, "/auth/refresh", {}, saved.dm_token);
      const player = await post(engine, "/auth/refresh", {}, saved.player_token);
      const demo = { ...saved, ws_url: dm.ws_url, dm_token: dm.token, player_token: player.token };
      writeFileSync(DEMO_FILE, JSON.stringify(demo, null, 2));
      return { demo, created: false };
    } catch (err) {
      console.log(`(saved demo session not usable: ${(err as Error).message}; creating a new one)`);
    }
  }
  const dm = await post(engine, "/auth/sessions", { world_name: "Emberfall", dm_name: "Demo DM" });
  const player = await post(engine, "/auth/join", { invite_code: dm.invite_code, name: "Demo Player" });
  // Seeded through the client SDK, as an application would build a world.
  const dmClient = connect({ url: dm.ws_url, token: dm.token, WebSocket });
  const playerClient = connect({ url: player.ws_url, token: player.token, WebSocket });
  const as =
    (client: typeof dmClient): Requester =>
    (payload) =>
      client.request(payload as AnyPayloadInput);
  try {
    const { npcs } = await seedAsDm(as(dmClient));
    await seedAsPlayer(as(playerClient));
    await seedImages(as(dmClient), (bytes, opts) => dmClient.uploadAsset(bytes, opts), npcs);
  } finally {
    dmClient.close();
    playerClient.close();
  }
  const demo: Demo = { session_id: dm.session_id, ws_url: dm.ws_url, invite_code: dm.invite_code, dm_token: dm.token, player_token: player.token };
  writeFileSync(DEMO_FILE, JSON.stringify(demo, null, 2));
  return { demo, created: true };
}

async function main(): Promise<void> {
  ensureDevVars();
  const port = Number(process.env.PORT ?? 8787);
  console.log("Applying local D1 migrations and starting the engine…");
  // `npm start` keeps the per-address /auth limits of a deployment (10/30/60 a minute by default).
  const llm = llmVars(ROOT);
  // Image generation settings from the environment win over .dev.vars (which wrangler reads too).
  const imageVars = Object.fromEntries(["IMAGE_PROVIDER", "COMFYUI_URL", "COMFYUI_CHECKPOINT"].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
  const engine = await startEngine({
    port,
    persistDir: join(ROOT, ".wrangler", "state"),
    vars: { AUTH_RATE_LIMITS: "on", LOG_REQUESTS: "all", ...llm.vars, ...imageVars },
  });
  const devVars = existsSync(join(ROOT, ".dev.vars")) ? parseDotEnv(readFileSync(join(ROOT, ".dev.vars"), "utf8")) : {};
  const imageProvider = imageVars.IMAGE_PROVIDER ?? devVars.IMAGE_PROVIDER ?? "offline";
  const images =
    imageProvider === "comfyui"
      ? `Image provider: ComfyUI at ${imageVars.COMFYUI_URL ?? devVars.COMFYUI_URL ?? "(COMFYUI_URL not set)"}`
      : "Image provider: offline (labelled placeholder pictures, no GPU; IMAGE_PROVIDER=comfyui COMFYUI_URL=… to use ComfyUI, docs/images.md)";
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await engine.stop();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const { demo, created } = await demoSession(engine);
  // The token travels in the URL fragment, which the browser never sends to the server.
  const page = (token: string, extra = "") => `${engine.url}/s/${demo.session_id}#token=${token}${extra}`;
  console.log(`
WrldBldr Edge is running at ${engine.url}  (local D1/R2 in .wrangler/state; Ctrl-C stops)
${llm.summary}
${images}

Open the web client (one browser tab each; docs/web.md):
  as the DM:      ${page(demo.dm_token, `&invite=${demo.invite_code}`)}
  as the player:  ${page(demo.player_token)}
  new session:    ${engine.url}/   (or join: ${engine.url}/join/${demo.invite_code})

  health:        ${engine.url}/health
  metrics:       ${engine.url}/metrics
  demo session:  ${demo.session_id}  (${created ? "created and seeded now" : "kept from an earlier start"})
  WebSocket:     ${demo.ws_url}
  DM token:      ${demo.dm_token}
  player token:  ${demo.player_token}
  invite code:   ${demo.invite_code}   (POST ${engine.url}/auth/join {"invite_code":"${demo.invite_code}","name":"You"})

Try it:
  the client SDK, as the demo player (Ctrl-C stops; restart npm start meanwhile to see it resume):
    npx tsx examples/client.ts '${demo.ws_url}' '${demo.player_token}'
  or raw frames: npx wscat -c '${demo.ws_url}?token=<a token>', then {"type":"JoinSession"} and
    {"type":"Request","request_id":"1","payload":{"type":"ListCharacters"}}
  Tokens last an hour; restart npm start (or POST /auth/refresh) for fresh ones. SDK: docs/client.md.
Request log lines follow.
`);
  // wrangler's startup noise stays unprinted; from here on its output (request logs) is shown.
  let printed = engine.output().length;
  setInterval(() => {
    const out = engine.output();
    if (out.length > printed) {
      process.stdout.write(out.slice(printed));
      printed = out.length;
    }
  }, 500);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
