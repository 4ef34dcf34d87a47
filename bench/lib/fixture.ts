/** A fresh game session for one workload: its DM on a joined socket, and one NPC to read and write. */
import type { AuthGrant } from "../../src/protocol/http";
import { createSession } from "./auth";
import { WireClient } from "./wire-client";

export interface BenchSession {
  grant: AuthGrant & { invite_code: string };
  dm: WireClient;
  characterId: string;
}

export async function openBenchSession(baseUrl: string, name: string): Promise<BenchSession> {
  const grant = await createSession(baseUrl, name);
  const dm = await WireClient.open(grant.ws_url, grant.token, "dm");
  await dm.join();
  const character = await dm.call<{ id: string }>({ type: "CreateCharacter", data: { kind: "npc", name: "Bench NPC" } });
  return { grant, dm, characterId: character.id };
}
