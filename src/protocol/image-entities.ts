import { z } from "zod";
import { EntityBase } from "./entities";

/** Images (DESIGN.md §3, §4): assets whose bytes live in R2, and the batches that generate them. */

/** The image formats accepted, recognised by their magic bytes (never SVG: it can carry scripts). */
export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"] as const;
export const ImageContentTypeSchema = z.enum(IMAGE_TYPES);

/** The world entities that carry images. */
export const ImageEntityKindSchema = z.enum(["character", "location", "region", "scene"]);
export type ImageEntityKind = z.infer<typeof ImageEntityKindSchema>;
export const EntityRefSchema = z.object({ kind: ImageEntityKindSchema, id: z.string().min(1).max(100) });
export type EntityRef = z.infer<typeof EntityRefSchema>;

/** Which image of an entity: characters have portrait and sprite; locations backdrop and map; regions and scenes a backdrop. */
export const ImageSlotSchema = z.enum(["portrait", "sprite", "backdrop", "map"]);
export type ImageSlot = z.infer<typeof ImageSlotSchema>;

export const AssetSourceSchema = z.enum(["upload", "generated", "import"]);

export const AssetSchema = z.object({
  ...EntityBase,
  world_id: z.string(),
  content_type: ImageContentTypeSchema,
  /** Bytes. */
  size: z.number().int(),
  /** Hex SHA-256 of the bytes. */
  sha256: z.string(),
  /** Pixels, when the header tells them cheaply (else null). */
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  label: z.string(),
  tags: z.array(z.string()),
  /** The entity it shows, if any. */
  depicts: EntityRefSchema.nullable(),
  source: AssetSourceSchema,
  /** The participant who uploaded it or started its generation (null: the session). */
  created_by: z.string().nullable(),
  /** The generation batch that made it. */
  generation_id: z.string().nullable(),
});
export type Asset = z.infer<typeof AssetSchema>;

export const AssetFieldsSchema = z.object({
  label: z.string().max(200),
  tags: z.array(z.string().trim().min(1).max(40)).max(20),
  depicts: EntityRefSchema.nullable(),
});

/** An asset with a signed, expiring download URL (GET /assets/:id?s=&exp=&sig=). */
export const AssetViewSchema = AssetSchema.extend({
  url: z.string(),
  /** When the URL stops working (seconds since epoch): ask GetAsset for a fresh one. */
  url_expires_at: z.number().int(),
});
export type AssetView = z.infer<typeof AssetViewSchema>;

/** POST /assets answers with the stored asset and a URL to show it. */
export const UploadResultSchema = z.object({ asset: AssetSchema, url: z.string(), url_expires_at: z.number().int() });
export type UploadResult = z.infer<typeof UploadResultSchema>;

export const GenerationStatusSchema = z.enum(["queued", "running", "succeeded", "failed", "cancelled"]);

/** What StartGeneration asks for (kept on the batch). */
export const GenerationRequestSchema = z.object({
  prompt: z.string().trim().min(1).max(2000),
  negative_prompt: z.string().max(2000).optional(),
  count: z.number().int().min(1).max(4).optional(),
  image: ImageSlotSchema,
  /** Set the first generated image as this entity's `image` when done. */
  target: EntityRefSchema.optional(),
  /** A workflow template shipped with the engine (default: txt2img). */
  workflow: z.enum(["txt2img"]).optional(),
  width: z.number().int().min(64).max(2048).multipleOf(8).optional(),
  height: z.number().int().min(64).max(2048).multipleOf(8).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
});
export type GenerationRequest = z.infer<typeof GenerationRequestSchema>;

export const GenerationBatchSchema = z.object({
  ...EntityBase,
  status: GenerationStatusSchema,
  provider: z.string(),
  request: GenerationRequestSchema,
  completed: z.number().int(),
  total: z.number().int(),
  asset_ids: z.array(z.string()),
  reason: z.string().nullable(),
  created_by: z.string().nullable(),
});
export type GenerationBatch = z.infer<typeof GenerationBatchSchema>;
