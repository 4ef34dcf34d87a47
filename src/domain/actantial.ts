import { AppError, WantEntity, invalidField, type ActantialView, type Character, type Want, type WantTarget } from "../protocol";
import { checkVersion, bump } from "../engine/store";
import { defineHandlers, type HandlerContext } from "../engine/context";
import { DMS } from "../engine/tx";
import { deleteEntity, emitChange, insertEntity, updateEntity } from "./changes";
import { characters, inventory } from "./characters";
import { ACTANTIAL_VIEW, WANT, actantialViews, wants } from "./gameplay-tables";
import { goals } from "./world-tables";

/**
 * The actantial model: what an NPC wants (with intensity, visibility, tells, deflection, a
 * target) and how it sees other characters per want (helper, opponent, sender, receiver).
 * DM material through and through: every operation is DM-only (reads too) and every event goes to
 * DMs only (WANT and ACTANTIAL_VIEW are dmOnly kinds).
 */

async function requireNpc(ctx: HandlerContext, id: string): Promise<Character> {
  const c = await characters.require(ctx, id, "character");
  if (c.kind !== "npc") throw invalidField("character_id", `'${c.name}' is a player character; wants belong to NPCs`);
  return c;
}

/** A target must name something of this world (NOT_FOUND otherwise). */
async function checkTarget(ctx: HandlerContext, target: WantTarget | null | undefined): Promise<void> {
  if (!target || target.type === "text") return;
  const table = { character: characters, item: inventory, goal: goals }[target.type] as typeof characters;
  await table.require(ctx, target.id, target.type);
}

/** The name of a want's target, for GetActantialContext (null for text or a target gone since). */
async function targetName(ctx: HandlerContext, target: WantTarget | null): Promise<string | null> {
  if (!target) return null;
  if (target.type === "text") return target.text;
  const table = { character: characters, item: inventory, goal: goals }[target.type] as typeof characters;
  return (await table.find(ctx, target.id))?.name ?? null;
}

export const actantialHandlers = defineHandlers({
  ListWants: {
    async handle(ctx, p) {
      await requireNpc(ctx, p.npc_id);
      const items = await wants.rows(ctx, wants.where({ character_id: p.npc_id }));
      return { items: items.sort((a, b) => a.priority - b.priority) };
    },
  },

  CreateWant: {
    async handle(ctx, p) {
      await requireNpc(ctx, p.npc_id);
      await checkTarget(ctx, p.target);
      return insertEntity(ctx, WANT, { world_id: ctx.session.worldId, character_id: p.npc_id, ...WantEntity.complete(p.data), target: p.target ?? null });
    },
  },

  UpdateWant: {
    async handle(ctx, p) {
      const before = await wants.require(ctx, p.want_id, "want");
      return updateEntity(ctx, WANT, before, p.data, p.expected_version);
    },
  },

  DeleteWant: {
    async handle(ctx, p) {
      const before = await wants.require(ctx, p.want_id, "want");
      actantialViews.removeWhere(ctx, actantialViews.where({ want_id: before.id }));
      return deleteEntity(ctx, WANT, before, p.expected_version, { character_id: before.character_id });
    },
  },

  SetWantTarget: {
    async handle(ctx, p) {
      const before = await wants.require(ctx, p.want_id, "want");
      checkVersion(before, p.expected_version, "want");
      await checkTarget(ctx, p.target);
      const after = wants.save(ctx, bump(before, { target: p.target } as Partial<Want>, ctx.now));
      ctx.tx.emit({ type: p.target ? "WantTargetSet" : "WantTargetRemoved", want: after }, DMS);
      return after;
    },
  },

  AddActantialView: {
    async handle(ctx, p) {
      const want = await wants.require(ctx, p.want_id, "want");
      const target = await characters.require(ctx, p.target_character_id, "character");
      if (target.id === want.character_id) throw invalidField("target_character_id", "an NPC does not view itself");
      const existing = await actantialViews.rows(ctx, actantialViews.where({ want_id: want.id, target_character_id: target.id, role: p.role }));
      if (existing.length > 0) {
        throw new AppError("CONFLICT", `'${target.name}' is already a ${p.role} of this want`, {
          reason: "already_exists",
          actantial_view_id: existing[0]!.id,
        });
      }
      return insertEntity(ctx, ACTANTIAL_VIEW, {
        world_id: ctx.session.worldId,
        character_id: want.character_id,
        want_id: want.id,
        target_character_id: target.id,
        role: p.role,
        reason: p.reason ?? "",
      });
    },
  },

  RemoveActantialView: {
    async handle(ctx, p) {
      const before = await actantialViews.require(ctx, p.actantial_view_id, "actantial view");
      actantialViews.remove(ctx, before.id);
      emitChange(ctx.tx, ACTANTIAL_VIEW, before, null, { want_id: before.want_id });
      return { deleted: true as const };
    },
  },

  GetActantialContext: {
    async handle(ctx, p) {
      const npc = await requireNpc(ctx, p.npc_id);
      const [ws, views] = await Promise.all([
        wants.rows(ctx, wants.where({ character_id: npc.id })),
        actantialViews.rows(ctx, actantialViews.where({ character_id: npc.id })),
      ]);
      const ids = [...new Set(views.map((v) => v.target_character_id))];
      const known = new Map<string, Character>();
      for (const id of ids) {
        const c = await characters.find(ctx, id);
        if (c) known.set(id, c);
      }
      // Views of characters deleted since are left out.
      const actor = (v: ActantialView) => {
        const c = known.get(v.target_character_id)!;
        return { id: c.id, name: c.name, actor_type: c.kind, reason: v.reason };
      };
      const live = views.filter((v) => known.has(v.target_character_id));
      const ofRole = (wantId: string, role: ActantialView["role"]) => live.filter((v) => v.want_id === wantId && v.role === role).map(actor);
      const merged = (role: "helper" | "opponent") => {
        const by = new Map<string, { id: string; name: string; actor_type: "npc" | "pc"; reasons: string[] }>();
        for (const v of live.filter((x) => x.role === role)) {
          const a = actor(v);
          const entry = by.get(a.id) ?? { id: a.id, name: a.name, actor_type: a.actor_type, reasons: [] };
          if (a.reason) entry.reasons.push(a.reason);
          by.set(a.id, entry);
        }
        return [...by.values()];
      };
      const sorted = ws.sort((a, b) => a.priority - b.priority);
      return {
        npc_id: npc.id,
        npc_name: npc.name,
        wants: await Promise.all(
          sorted.map(async (w) => ({
            ...w,
            target_name: await targetName(ctx, w.target),
            helpers: ofRole(w.id, "helper"),
            opponents: ofRole(w.id, "opponent"),
            senders: ofRole(w.id, "sender"),
            receivers: ofRole(w.id, "receiver"),
          })),
        ),
        social_views: { allies: merged("helper"), enemies: merged("opponent") },
      };
    },
  },
});
