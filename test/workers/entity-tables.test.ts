import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
// Importing the registry loads every area, hence every table it declares.
import "../../src/domain/registry";
import "../../src/engine/jobs";
import "../../src/engine/participants";
import { declaredTables } from "../../src/engine/store";

type ColumnInfo = { name: string; type: string; notnull: number };

async function tableInfo(name: string): Promise<ColumnInfo[]> {
  const { results } = await env.DB.prepare(`SELECT name, type, "notnull" FROM pragma_table_info(?)`).bind(name).all<ColumnInfo>();
  return results;
}

/**
 * The columns each table declaration derives from its zod entity (engine/entity.ts) against the
 * migrated D1 schema: a field added to an entity without a migration, or a column added by a
 * migration without its field, fails here rather than at the first write.
 */
describe("entity tables", () => {
  const tables = declaredTables();

  it("every versioned table of the migrations is declared", async () => {
    const { results } = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations' ORDER BY name",
    ).all<{ name: string }>();
    const versioned: string[] = [];
    for (const { name } of results) if ((await tableInfo(name)).some((c) => c.name === "version")) versioned.push(name);
    // sessions is the engine's own row (the session's settings and sequence), not an entity table.
    expect(tables.map((t) => t.name).sort()).toEqual(versioned.filter((n) => n !== "sessions"));
  });

  it.each(tables.map((t) => [t.name, t] as const))("%s: the declared columns are the migrated ones", async (name, table) => {
    const info = await tableInfo(name);
    expect(info.length, `no table '${name}' in the migrations`).toBeGreaterThan(0);
    expect(info.map((c) => c.name).sort()).toEqual([...table.columns].sort());
    // JSON is stored as text and booleans as 0/1 integers.
    for (const c of info) {
      const kind = table.kindOf(c.name);
      if (kind === "json") expect(c.type, `${name}.${c.name} holds JSON`).toBe("TEXT");
      if (kind === "bool") expect(c.type, `${name}.${c.name} holds a boolean`).toBe("INTEGER");
    }
  });
});
