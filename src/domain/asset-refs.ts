import { AppError, AssetSchema } from "../protocol";
import type { HandlerContext } from "../engine/context";
import { Table } from "../engine/store";

/**
 * The assets table and the check of asset references, in a module of their own so that every
 * area with images (characters, locations, scenes) can use them without an import cycle.
 */
export const assets = Table.of("assets", AssetSchema);

/**
 * Every asset reference among `data`'s fields (`*_asset_id`) must name an asset of this session:
 * NOT_FOUND naming the field otherwise. Create/Update handlers of imaged entities call it.
 */
export async function requireAssetRefs(ctx: HandlerContext, data: Record<string, unknown>, prefix = "data"): Promise<void> {
  for (const [field, value] of Object.entries(data)) {
    if (!field.endsWith("_asset_id") || typeof value !== "string") continue;
    if (!(await assets.find(ctx, value)))
      throw new AppError("NOT_FOUND", `asset '${value}' not found (${prefix}.${field})`, { id: value, field: `${prefix}.${field}` });
  }
}
