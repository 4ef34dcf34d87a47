import {
  AppError,
  CharacterEntity,
  CharacterSchema,
  InventoryItemEntity,
  InventoryItemSchema,
  invalidField,
  type Character,
  type InventoryItem,
} from "../protocol";
import { requireAssetRefs } from "./asset-refs";
import { authorize, isDm } from "../engine/authorize";
import { ALL, DMS } from "../engine/tx";
import { deleteEntity, insertEntity, requireVisible, updateEntity, type EntityKind } from "./changes";
import { requireParticipant } from "../engine/participants";
import { Table, bump, checkVersion, conditions, create } from "../engine/store";
import { defineHandlers, type HandlerContext } from "../engine/context";
import { npcRegionRelationships, regions } from "./world-tables";
import { actantialViews, wants } from "./gameplay-tables";
import { checkPlayerStats } from "./stat-rule";

export const characters = Table.of("characters", CharacterSchema);
export const inventory = Table.of("inventory_items", InventoryItemSchema);

/** Characters as an entity kind: hidden NPCs exist for DMs only (see changes.ts). */
export const CHARACTER: EntityKind<Character> = {
  table: characters,
  what: "character",
  events: { created: "CharacterCreated", updated: "CharacterUpdated", deleted: "CharacterDeleted", key: "character", idKey: "character_id" },
  hidden: (c) => c.hidden,
};

/** Fields only a DM may set on a character. */
const DM_FIELDS = ["owner_participant_id", "hidden", "dm_notes"] as const;

/** A character the actor may edit: DMs any, a player only its own PC. */
async function editableCharacter(ctx: HandlerContext, id: string): Promise<Character> {
  const c = await requireVisible(ctx, CHARACTER, id);
  authorize(ctx.actor, "own", c, "edit a character that is not its own");
  return c;
}

/** Inventory is as visible as the character who holds it. */
const audienceOf = (...cs: Character[]) => (cs.some((c) => c.hidden) ? DMS : ALL);

function forbidDmFields(ctx: HandlerContext, data: Record<string, unknown>): void {
  if (isDm(ctx.actor)) return;
  const field = DM_FIELDS.find((f) => data[f] !== undefined);
  if (field) throw new AppError("FORBIDDEN", `only a DM may set '${field}'`, { field });
  // Walking follows connections and locks, and writes the story: MoveToRegion alone moves a PC.
  if (data.region_id !== undefined) {
    throw new AppError("FORBIDDEN", "a player moves its character with MoveToRegion, not by setting 'region_id'", { field: "region_id" });
  }
}

/** A region a character is placed in must exist in this world. */
async function checkRegion(ctx: HandlerContext, regionId: string | null | undefined): Promise<void> {
  if (!regionId) return;
  const region = await ctx.reads.get(`regions:${regionId}`, () => regions.get(ctx.db, ctx.session.sessionId, regionId));
  if (!region) throw new AppError("NOT_FOUND", `region '${regionId}' not found (data.region_id)`, { id: regionId, field: "data.region_id" });
}

function checkOwner(ctx: HandlerContext, ownerId: string | null | undefined): void {
  if (!ownerId) return;
  requireParticipant(ctx.session, ownerId);
}

function checkHiddenKind(kind: Character["kind"], hidden: boolean): void {
  if (kind === "pc" && hidden) throw invalidField("data.hidden", "only NPCs can be hidden");
}

/** The character-change hooks (src/domain/registry.ts), after a create, update or delete in its Tx. */
async function changed(ctx: HandlerContext, before: Character | null, after: Character | null): Promise<void> {
  for (const hook of ctx.hooks.characterChange) await hook.run(ctx, before, after);
}

export const characterHandlers = defineHandlers({
  ListCharacters: {
    async handle(ctx, p) {
      const filter = conditions(!isDm(ctx.actor) && ["hidden = 0"], p.kind && ["kind = ?", p.kind]);
      return characters.page(ctx.db, ctx.session.sessionId, { ...filter, cursor: p.cursor, limit: p.limit });
    },
  },

  GetCharacter: {
    handle: (ctx, p) => requireVisible(ctx, CHARACTER, p.character_id),
  },

  CreateCharacter: {
    async handle(ctx, p) {
      await requireAssetRefs(ctx, p.data);
      const { kind, ...data } = p.data;
      forbidDmFields(ctx, data);
      if (!isDm(ctx.actor)) {
        if (kind !== "pc") throw new AppError("FORBIDDEN", "players may create only their own player character");
        if (!ctx.session.settings.allow_player_characters) {
          throw new AppError("FORBIDDEN", "player character creation is turned off in this session's settings");
        }
        const [owned] = await characters.rows(ctx, characters.where({ kind: "pc", owner_participant_id: ctx.actor.participant_id }));
        if (owned) throw new AppError("CONFLICT", "you already have a player character", { character_id: owned.id });
      }
      checkHiddenKind(kind, data.hidden ?? false);
      checkPlayerStats(ctx, null, data.stats ?? {});
      checkOwner(ctx, data.owner_participant_id);
      await checkRegion(ctx, data.region_id);
      const created = insertEntity(ctx, CHARACTER, {
        world_id: ctx.session.worldId,
        kind,
        ...CharacterEntity.complete(data),
        owner_participant_id: isDm(ctx.actor) ? (data.owner_participant_id ?? null) : ctx.actor.participant_id,
      });
      await changed(ctx, null, created);
      return created;
    },
  },

  UpdateCharacter: {
    async handle(ctx, p) {
      await requireAssetRefs(ctx, p.data);
      const before = await editableCharacter(ctx, p.character_id);
      forbidDmFields(ctx, p.data);
      if (p.data.stats) checkPlayerStats(ctx, before.stats, p.data.stats);
      checkHiddenKind(before.kind, p.data.hidden ?? before.hidden);
      checkOwner(ctx, p.data.owner_participant_id);
      await checkRegion(ctx, p.data.region_id);
      const after = updateEntity(ctx, CHARACTER, before, p.data, p.expected_version);
      await changed(ctx, before, after);
      return after;
    },
  },

  DeleteCharacter: {
    async handle(ctx, p) {
      const before = await editableCharacter(ctx, p.character_id);
      // What belongs to the character goes with it, in the same commit. (DMs drop relationships
      // naming a deleted character on CharacterDeleted; they are DM material and have no events here.)
      const result = deleteEntity(ctx, CHARACTER, before, p.expected_version);
      inventory.removeWhere(ctx, inventory.where({ character_id: before.id }));
      npcRegionRelationships.removeWhere(ctx, npcRegionRelationships.where({ character_id: before.id }));
      // Its wants and every actantial view of or about it (DM material, no events: as above).
      wants.removeWhere(ctx, wants.where({ character_id: before.id }));
      actantialViews.removeWhere(ctx, {
        sql: "character_id = ? OR target_character_id = ?",
        params: [before.id, before.id],
        match: (v) => v.character_id === before.id || v.target_character_id === before.id,
      });
      await changed(ctx, before, null);
      return result;
    },
  },

  SetCharacterStat: {
    async handle(ctx, p) {
      const before = await editableCharacter(ctx, p.character_id);
      const stats = { ...before.stats };
      if (p.value === null) delete stats[p.stat];
      else stats[p.stat] = p.value;
      checkPlayerStats(ctx, before.stats, { ...before.stats, [p.stat]: p.value });
      return updateEntity(ctx, CHARACTER, before, { stats }, p.expected_version);
    },
  },

  ListInventory: {
    async handle(ctx, p) {
      await requireVisible(ctx, CHARACTER, p.character_id);
      return inventory.page(ctx.db, ctx.session.sessionId, { where: "character_id = ?", params: [p.character_id], cursor: p.cursor, limit: p.limit });
    },
  },

  AddInventoryItem: {
    async handle(ctx, p) {
      const owner = await editableCharacter(ctx, p.character_id);
      const item = create<InventoryItem>({ character_id: owner.id, ...InventoryItemEntity.complete(p.data) }, ctx.now);
      inventory.add(ctx, item);
      ctx.tx.emit({ type: "InventoryItemAdded", item }, audienceOf(owner));
      return item;
    },
  },

  UpdateInventoryItem: {
    async handle(ctx, p) {
      const { item: before, owner } = await editableItem(ctx, p.item_id);
      checkVersion(before, p.expected_version, "inventory item");
      const after = bump(before, p.data, ctx.now);
      inventory.save(ctx, after);
      ctx.tx.emit({ type: "InventoryItemUpdated", item: after }, audienceOf(owner));
      return after;
    },
  },

  RemoveInventoryItem: {
    async handle(ctx, p) {
      const { item, owner } = await editableItem(ctx, p.item_id);
      checkVersion(item, p.expected_version, "inventory item");
      inventory.remove(ctx, item.id);
      ctx.tx.emit({ type: "InventoryItemRemoved", item_id: item.id, character_id: owner.id }, audienceOf(owner));
      return { deleted: true as const };
    },
  },

  GiveItem: {
    async handle(ctx, p) {
      const { item, owner } = await editableItem(ctx, p.item_id);
      const target = await requireVisible(ctx, CHARACTER, p.to_character_id);
      if (target.id === owner.id) throw invalidField("to_character_id", "the item already belongs to that character");
      const quantity = p.quantity ?? item.quantity;
      if (quantity > item.quantity) throw invalidField("quantity", `only ${item.quantity} available`);
      let from: InventoryItem | null = null;
      let to: InventoryItem;
      if (quantity === item.quantity) {
        to = bump(item, { character_id: target.id, equipped: false }, ctx.now);
        inventory.save(ctx, to);
      } else {
        from = bump(item, { quantity: item.quantity - quantity }, ctx.now);
        const { id: _id, version: _v, created_at: _c, updated_at: _u, ...fields } = item;
        to = create<InventoryItem>({ ...fields, character_id: target.id, quantity, equipped: false }, ctx.now);
        inventory.save(ctx, from);
        inventory.add(ctx, to);
      }
      ctx.tx.emit({ type: "ItemGiven", from_character_id: owner.id, to_character_id: target.id, quantity, from, to }, audienceOf(owner, target));
      return { from, to };
    },
  },
});

async function editableItem(ctx: HandlerContext, itemId: string): Promise<{ item: InventoryItem; owner: Character }> {
  const item = await inventory.find(ctx, itemId);
  const owner = item && (await characters.find(ctx, item.character_id));
  if (!item || !owner || (owner.hidden && !isDm(ctx.actor))) throw new AppError("NOT_FOUND", `inventory item '${itemId}' not found`, { id: itemId });
  authorize(ctx.actor, "own", owner, "change another character's inventory");
  return { item, owner };
}
