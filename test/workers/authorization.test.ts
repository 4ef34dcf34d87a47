import { describe, expect, it } from "vitest";
import { TestSocket, joinSession, table } from "./helpers";

type Role = "dm" | "player" | "spectator";
type Expect = "ok" | "FORBIDDEN" | "NOT_FOUND";

/**
 * The authorization matrix: every operation of the foundation × every role. Each row builds its
 * payload from a fresh fixture (an NPC, the player's PC with an item, the other PC) so that the
 * outcome depends on the role alone.
 */
interface Fixture {
  npc: string;
  playerPc: string;
  playerItem: string;
  otherPc: string;
  otherItem: string;
  spectatorId: string;
}

const rows: { op: string; payload: (f: Fixture) => Record<string, unknown>; expect: Record<Role, Expect> }[] = [
  { op: "Ping", payload: () => ({}), expect: { dm: "ok", player: "ok", spectator: "ok" } },
  { op: "GetSessionSnapshot", payload: () => ({}), expect: { dm: "ok", player: "ok", spectator: "ok" } },
  { op: "ListParticipants", payload: () => ({}), expect: { dm: "ok", player: "ok", spectator: "ok" } },
  { op: "UpdateSessionSettings", payload: () => ({ data: { dialogue_approval: false } }), expect: { dm: "ok", player: "FORBIDDEN", spectator: "FORBIDDEN" } },
  { op: "RotateInviteCode", payload: () => ({}), expect: { dm: "ok", player: "FORBIDDEN", spectator: "FORBIDDEN" } },
  { op: "KickParticipant", payload: (f) => ({ participant_id: f.spectatorId }), expect: { dm: "ok", player: "FORBIDDEN", spectator: "FORBIDDEN" } },
  { op: "ListCharacters", payload: () => ({}), expect: { dm: "ok", player: "ok", spectator: "ok" } },
  { op: "GetCharacter", payload: (f) => ({ character_id: f.npc }), expect: { dm: "ok", player: "ok", spectator: "ok" } },
  { op: "CreateCharacter", payload: () => ({ data: { kind: "npc", name: "New NPC" } }), expect: { dm: "ok", player: "FORBIDDEN", spectator: "FORBIDDEN" } },
  {
    op: "UpdateCharacter",
    payload: (f) => ({ character_id: f.npc, data: { description: "x" } }),
    expect: { dm: "ok", player: "FORBIDDEN", spectator: "FORBIDDEN" },
  },
  {
    op: "UpdateCharacter",
    payload: (f) => ({ character_id: f.playerPc, data: { description: "mine" } }),
    expect: { dm: "ok", player: "ok", spectator: "FORBIDDEN" },
  },
  {
    op: "UpdateCharacter",
    payload: (f) => ({ character_id: f.otherPc, data: { description: "theirs" } }),
    expect: { dm: "ok", player: "FORBIDDEN", spectator: "FORBIDDEN" },
  },
  {
    op: "SetCharacterStat",
    payload: (f) => ({ character_id: f.playerPc, stat: "str", value: 12 }),
    expect: { dm: "ok", player: "ok", spectator: "FORBIDDEN" },
  },
  {
    op: "SetCharacterStat",
    payload: (f) => ({ character_id: f.npc, stat: "str", value: 12 }),
    expect: { dm: "ok", player: "FORBIDDEN", spectator: "FORBIDDEN" },
  },
  { op: "DeleteCharacter", payload: (f) => ({ character_id: f.otherPc }), expect: { dm: "ok", player: "FORBIDDEN", spectator: "FORBIDDEN" } },
  { op: "DeleteCharacter", payload: (f) => ({ character_id: f.playerPc }), expect: { dm: "ok", player: "ok", spectator: "FORBIDDEN" } },
  { op: "ListInventory", payload: (f) => ({ character_id: f.otherPc }), expect: { dm: "ok", player: "ok", spectator: "ok" } },
  {
    op: "AddInventoryItem",
    payload: (f) => ({ character_id: f.playerPc, data: { name: "Rope" } }),
    expect: { dm: "ok", player: "ok", spectator: "FORBIDDEN" },
  },
  {
    op: "AddInventoryItem",
    payload: (f) => ({ character_id: f.npc, data: { name: "Rope" } }),
    expect: { dm: "ok", player: "FORBIDDEN", spectator: "FORBIDDEN" },
  },
  {
    op: "UpdateInventoryItem",
    payload: (f) => ({ item_id: f.playerItem, data: { equipped: true } }),
    expect: { dm: "ok", player: "ok", spectator: "FORBIDDEN" },
  },
  {
    op: "UpdateInventoryItem",
    payload: (f) => ({ item_id: f.otherItem, data: { equipped: true } }),
    expect: { dm: "ok", player: "FORBIDDEN", spectator: "FORBIDDEN" },
  },
  { op: "RemoveInventoryItem", payload: (f) => ({ item_id: f.playerItem }), expect: { dm: "ok", player: "ok", spectator: "FORBIDDEN" } },
  { op: "RemoveInventoryItem", payload: (f) => ({ item_id: f.otherItem }), expect: { dm: "ok", player: "FORBIDDEN", spectator: "FORBIDDEN" } },
  { op: "GiveItem", payload: (f) => ({ item_id: f.playerItem, to_character_id: f.otherPc }), expect: { dm: "ok", player: "ok", spectator: "FORBIDDEN" } },
  {
    op: "GiveItem",
    payload: (f) => ({ item_id: f.otherItem, to_character_id: f.playerPc }),
    expect: { dm: "ok", player: "FORBIDDEN", spectator: "FORBIDDEN" },
  },
  {
    op: "Batch",
    payload: (f) => ({ operations: [{ type: "Ping" }, { type: "UpdateCharacter", character_id: f.npc, data: { description: "b" } }] }),
    expect: { dm: "ok", player: "FORBIDDEN", spectator: "FORBIDDEN" },
  },
];

describe("authorization matrix (DM / player / spectator × each operation)", () => {
  for (const role of ["dm", "player", "spectator"] as const) {
    it(`as ${role}`, async () => {
      const t = await table();
      const other = await t.dm.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Someone Else's PC" } });
      const otherItem = await t.dm.ok({ type: "AddInventoryItem", character_id: other.id, data: { name: "Their coin" } });
      const npc = await t.dm.ok({ type: "CreateCharacter", data: { kind: "npc", name: "Guard" } });
      const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Mine" } });
      expect(pc.owner_participant_id).toBe(t.playerGrant.participant_id);
      const item = await t.player.ok({ type: "AddInventoryItem", character_id: pc.id, data: { name: "My coin" } });
      const fixture: Fixture = {
        npc: npc.id,
        playerPc: pc.id,
        playerItem: item.id,
        otherPc: other.id,
        otherItem: otherItem.id,
        spectatorId: t.spectatorGrant.participant_id,
      };
      const socket = t[role];
      const outcomes: string[] = [];
      // Each row is judged on its own: the matrix asserts the decision, not the data.
      for (const row of rows) {
        const r = await socket.request({ type: row.op, ...row.payload(fixture) });
        const got = r.status === "success" ? "ok" : r.code;
        const want = row.expect[role];
        // A permitted write may still fail for data reasons once an earlier row consumed the
        // fixture (e.g. the item was given away): only NOT_FOUND is tolerated there, never FORBIDDEN.
        const consumed = want === "ok" && got === "NOT_FOUND";
        outcomes.push(`${row.op}#${rows.indexOf(row)}: ${consumed ? "ok" : got}`);
        if (!consumed) expect(`${row.op}#${rows.indexOf(row)}: ${got}`).toBe(`${row.op}#${rows.indexOf(row)}: ${want}`);
      }
      expect(outcomes.filter((o) => o.endsWith("FORBIDDEN")).length).toBe(rows.filter((r) => r.expect[role] === "FORBIDDEN").length);
      t.close();
    });
  }

  it("a player may create one PC of its own, never an NPC, and not when the DM turned it off", async () => {
    const t = await table();
    expect((await t.player.request({ type: "CreateCharacter", data: { kind: "npc", name: "Sneaky" } })).code).toBe("FORBIDDEN");
    expect((await t.player.request({ type: "CreateCharacter", data: { kind: "pc", name: "X", dm_notes: "no" } })).code).toBe("FORBIDDEN");
    expect((await t.player.request({ type: "CreateCharacter", data: { kind: "pc", name: "X", owner_participant_id: t.dmGrant.participant_id } })).code).toBe(
      "FORBIDDEN",
    );
    await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "First" } });
    expect((await t.player.request({ type: "CreateCharacter", data: { kind: "pc", name: "Second" } })).code).toBe("CONFLICT");
    await t.dm.ok({ type: "UpdateSessionSettings", data: { allow_player_characters: false } });
    const late = await joinSession(t.dmGrant.invite_code, "Latecomer");
    const s = await TestSocket.open(late);
    expect((await s.request({ type: "CreateCharacter", data: { kind: "pc", name: "Late" } })).code).toBe("FORBIDDEN");
    s.close();
    t.close();
  });

  it("players may not change DM-only fields of their own PC", async () => {
    const t = await table();
    const pc = await t.player.ok({ type: "CreateCharacter", data: { kind: "pc", name: "Mine" } });
    for (const data of [{ dm_notes: "x" }, { owner_participant_id: null }, { hidden: true }]) {
      expect((await t.player.request({ type: "UpdateCharacter", character_id: pc.id, data })).code).toBe("FORBIDDEN");
    }
    expect((await t.dm.request({ type: "UpdateCharacter", character_id: pc.id, data: { hidden: true } })).code).toBe("VALIDATION_ERROR");
    t.close();
  });
});
