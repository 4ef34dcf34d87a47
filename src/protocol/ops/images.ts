import { z } from "zod";
import { PageParams, pageOf } from "../entities";
import {
  AssetFieldsSchema,
  AssetSchema,
  AssetViewSchema,
  EntityRefSchema,
  GenerationBatchSchema,
  GenerationRequestSchema,
  GenerationStatusSchema,
  ImageEntityKindSchema,
  ImageSlotSchema,
} from "../image-entities";
import { Deleted, ExpectedVersion, Id, op } from "./define";

/** Every event that clearing or setting an entity's image may cause. */
const ENTITY_UPDATES = ["CharacterUpdated", "LocationUpdated", "RegionUpdated", "SceneUpdated"] as const;

/**
 * Images: assets (bytes uploaded over HTTP, POST /assets; served by signed URLs) and their
 * generation. See docs/images.md.
 */
export const IMAGE_OPS = {
  /** The session's assets, each with a fresh signed URL, newest first. */
  ListAssets: op({
    access: "read",
    input: { depicts_kind: ImageEntityKindSchema.optional(), depicts_id: Id.optional(), ...PageParams },
    output: pageOf(AssetViewSchema),
  }),
  /** One asset with a fresh signed URL (also how clients refresh an expired link). */
  GetAsset: op({ access: "read", input: { asset_id: Id }, output: AssetViewSchema }),
  UpdateAsset: op({
    access: "dm",
    write: true,
    events: ["AssetUpdated"],
    input: { asset_id: Id, data: AssetFieldsSchema.partial().strict(), ...ExpectedVersion },
    output: AssetSchema,
  }),
  /** The R2 object goes too; every entity showing it has the reference cleared (its Updated event). */
  DeleteAsset: op({
    access: "dm",
    write: true,
    events: ["AssetDeleted", ...ENTITY_UPDATES],
    input: { asset_id: Id, ...ExpectedVersion },
    output: Deleted,
  }),
  /** Sets (or clears, asset_id null) an entity's portrait, sprite, backdrop or map → its Updated event. */
  SetEntityImage: op({
    access: "dm",
    write: true,
    events: [...ENTITY_UPDATES],
    input: { entity: EntityRefSchema, image: ImageSlotSchema, asset_id: Id.nullable() },
    output: z.object({ entity: EntityRefSchema, image: ImageSlotSchema, asset_id: z.string().nullable() }),
  }),
  /** DM: queues a batch (IMAGE_PROVIDER: comfyui or offline) → GenerationQueued, then progress and its end. */
  StartGeneration: op({
    access: "dm",
    write: true,
    events: ["GenerationQueued", "JobUpdated"],
    input: GenerationRequestSchema.shape,
    output: GenerationBatchSchema,
  }),
  CancelGeneration: op({
    access: "dm",
    write: true,
    events: ["GenerationFailed", "JobUpdated"],
    input: { batch_id: Id },
    output: GenerationBatchSchema,
  }),
  ListGenerationBatches: op({
    access: "dm",
    input: { status: GenerationStatusSchema.optional(), ...PageParams },
    output: pageOf(GenerationBatchSchema),
  }),
} as const;
