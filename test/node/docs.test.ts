import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DOC_PATH, KINDS_PATH, renderOperationKinds, renderOperationsDoc } from "../../scripts/gen-docs";
import { OPERATIONS, type OperationType } from "../../src/protocol";
import { OPERATION_KINDS, isReadOperation } from "../../src/protocol/generated/operation-kinds";

describe("docs/operations.md", () => {
  it("is generated from the current schemas (run `npm run docs` after changing them)", () => {
    const doc = renderOperationsDoc();
    expect(doc).toContain("### `CreateCharacter`");
    expect(readFileSync(DOC_PATH, "utf8")).toBe(doc);
  });

  it("says for each operation who may call it, read or write, its frame cap and its events", () => {
    const doc = renderOperationsDoc();
    expect(doc).toContain("### `CreateGoal`\n\nWho: DM · write · frame ≤ 64 KiB (`MAX_FRAME_BYTES`) · events: `GoalCreated`\n");
    expect(doc).toContain("### `ListCharacters`\n\nWho: everyone · read · frame ≤ 64 KiB (`MAX_FRAME_BYTES`) · events: none\n");
    expect(doc).toMatch(/### `ImportWorld`\n\nWho: DM · write · frame ≤ 1024 KiB \(`MAX_BATCH_FRAME_BYTES`\) · events: `WorldImported`\n/);
  });
});

describe("src/protocol/generated/operation-kinds.ts", () => {
  it("is generated from the current registry (run `npm run docs` after changing it)", () => {
    expect(readFileSync(KINDS_PATH, "utf8")).toBe(renderOperationKinds());
  });

  it("imports nothing, so the client SDK can use it without zod", () => {
    expect(readFileSync(KINDS_PATH, "utf8")).not.toMatch(/^\s*(import|export .* from)\b/m);
  });

  it("tells reads from writes as the registry does", () => {
    expect(Object.keys(OPERATION_KINDS).sort()).toEqual(Object.keys(OPERATIONS).sort());
    for (const [type, def] of Object.entries(OPERATIONS)) expect(isReadOperation(type), type).toBe(!def.write);
    // Reads the old name pattern missed, and writes it could not tell apart.
    expect(isReadOperation("ExportWorld")).toBe(true);
    expect(isReadOperation("Batch")).toBe(false);
    expect(isReadOperation("NoSuchOperation")).toBe(false);
  });
});

describe("docs/world.md", () => {
  it("states each operation's access as the registry declares it", () => {
    const says = { DM: "dm", read: "read", play: "play" } as Record<string, string>;
    const rows = readFileSync("docs/world.md", "utf8")
      .split("\n")
      .filter((line) => /^\| `[A-Z]\w+/.test(line))
      .map((line) => line.split(/(?<!\\)\|/).map((cell) => cell.trim()));
    expect(rows.length).toBeGreaterThan(30);
    const wrong = rows
      .map(([, op, access]) => [/`([A-Z]\w+)/.exec(op!)![1]!, access!.split(" ")[0]!] as const)
      .filter(([op, access]) => !(op in OPERATIONS) || says[access] !== OPERATIONS[op as OperationType].access)
      .map(([op, access]) => `${op}: docs say '${access}', registry '${OPERATIONS[op as OperationType]?.access}'`);
    expect(wrong).toEqual([]);
  });
});
