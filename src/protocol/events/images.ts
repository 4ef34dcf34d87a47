import { z } from "zod";
import { AssetSchema, GenerationBatchSchema } from "../image-entities";

/** Events of images: assets go to everyone; generation batches to DMs. */
export const IMAGE_EVENTS = {
  AssetCreated: { asset: AssetSchema },
  AssetUpdated: { asset: AssetSchema },
  AssetDeleted: { asset_id: z.string() },
  GenerationQueued: { batch: GenerationBatchSchema },
  /** Images done so far out of the batch's total. */
  GenerationProgress: { batch_id: z.string(), completed: z.number().int(), total: z.number().int() },
  GenerationComplete: { batch_id: z.string(), asset_ids: z.array(z.string()) },
  /** Failed, or cancelled (reason "cancelled"); the images stored before stay. */
  GenerationFailed: { batch_id: z.string(), reason: z.string() },
} as const;
