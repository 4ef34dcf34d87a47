import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DOC_PATH, renderOperationsDoc } from "../../scripts/gen-docs";

describe("docs/operations.md", () => {
  it("is generated from the current schemas (run `npm run docs` after changing them)", () => {
    const doc = renderOperationsDoc();
    expect(doc).toContain("### `CreateCharacter`");
    expect(readFileSync(DOC_PATH, "utf8")).toBe(doc);
  });
});
