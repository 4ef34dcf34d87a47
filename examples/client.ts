/**
 * Try the client SDK against a running engine (`npm start` prints this command with real values):
 *
 *   npx tsx examples/client.ts <ws_url> <token>
 *
 * Connects, loads the session snapshot, lists the characters you may see, then stays connected and
 * prints every event (with its seq) until Ctrl-C. Cut your network or restart `npm start` meanwhile:
 * the client reconnects and resumes without losing or repeating an event.
 */
import { WebSocket } from "ws";
import { connect, refreshViaHttp, WrldbldrError } from "wrldbldr-edge/client";

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error("usage: npx tsx examples/client.ts <ws_url> <token>   (npm start prints both)");
  process.exit(2);
}

const client = connect({ url, token, WebSocket, refreshToken: refreshViaHttp({ url }) });
client.onStateChange((s) => console.log(`[connection] ${s.state}${s.reason ? ` (${s.reason})` : ""}`));
client.onAnyEvent((event, seq) => console.log(`[event #${seq}] ${event.type}`));

try {
  const snapshot = await client.request({ type: "GetSessionSnapshot" });
  console.log(`world "${snapshot.world.name}", you are ${snapshot.you.name} (${snapshot.you.role}); seq ${snapshot.session.seq}`);
  const { items } = await client.request({ type: "ListCharacters" });
  for (const c of items) console.log(`  ${c.kind.toUpperCase()} ${c.name}${c.dm_notes ? `  — DM notes: ${c.dm_notes}` : ""}`);
  console.log("listening for events; Ctrl-C to stop");
} catch (err) {
  if (err instanceof WrldbldrError) console.error(`request failed: ${err.code}: ${err.message}`);
  else console.error(err);
  client.close();
  process.exit(1);
}

process.on("SIGINT", () => {
  client.close();
  process.exit(0);
});
