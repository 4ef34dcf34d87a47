import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  EntityBase,
  GoalEntity,
  GoalSchema,
  LocationEntity,
  RegionConnectionSchema,
  SceneEntity,
  SceneSchema,
  StoryEventSchema,
  WantSchema,
  defineEntity,
} from "../../src/protocol";
import { columnsOf } from "../../src/engine/entity";

/** An entity declared once (src/protocol/entity.ts, src/engine/entity.ts): what is derived from it. */
describe("entity declarations", () => {
  it("Create requires the fields without a default, fills none in, and refuses unknown keys", () => {
    expect(GoalEntity.create.safeParse({}).success).toBe(false);
    expect(GoalEntity.create.parse({ name: " Map " })).toEqual({ name: "Map" });
    expect(GoalEntity.create.safeParse({ name: "x", colour: "red" }).success).toBe(false);
    expect(GoalEntity.update.parse({})).toEqual({});
    expect(GoalEntity.update.safeParse({ name: "" }).success).toBe(false);
  });

  it("defaults stay out of the wire schemas", () => {
    for (const schema of [LocationEntity.create, LocationEntity.update, LocationEntity.fields]) {
      expect(JSON.stringify(z.toJSONSchema(schema, { io: "input" }))).not.toContain('"default"');
    }
  });

  it("complete() fills in fresh defaults, in the fields' order", () => {
    const a = SceneEntity.complete({ name: "Dawn" });
    expect(a).toEqual({
      name: "Dawn",
      description: "",
      location_id: null,
      time_context: "",
      featured_character_ids: [],
      backdrop_asset_id: null,
      directorial_notes: "",
    });
    expect(Object.keys(SceneEntity.complete({ directorial_notes: "n", name: "Dawn" })).slice(0, 2)).toEqual(["name", "description"]);
    a.featured_character_ids.push("x");
    expect(SceneEntity.complete({ name: "Dusk" }).featured_character_ids).toEqual([]);
    expect(LocationEntity.defaults()).toMatchObject({ location_type: "exterior", default_region_id: null });
  });

  it("a writable field must be a field of the entity", () => {
    expect(() => defineEntity({ name: "Goal", plural: "Goals", key: "goal", schema: GoalSchema, fields: { colour: z.string() } as never })).toThrow(
      /'colour' is not a field of the entity/,
    );
  });

  it("columns, JSON and 0/1 columns are read off the schema", () => {
    expect(columnsOf(GoalSchema)).toEqual({ fields: ["world_id", "name", "description"], json: [], bool: [] });
    expect(columnsOf(SceneSchema).json).toEqual(["featured_character_ids"]);
    expect(columnsOf(RegionConnectionSchema).bool).toEqual(["bidirectional", "is_locked"]);
    expect(columnsOf(StoryEventSchema)).toMatchObject({ json: ["details", "character_ids", "tags"], bool: ["hidden"] });
    // A nullable discriminated union of objects is JSON too.
    expect(columnsOf(WantSchema).json).toEqual(["tells", "target"]);
    expect(columnsOf(z.object({ ...EntityBase, a: z.boolean().optional(), b: z.unknown() }))).toEqual({ fields: ["a", "b"], json: ["b"], bool: ["a"] });
  });
});
