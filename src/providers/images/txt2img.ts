import type { ImageJob } from "./provider";

/**
 * The txt2img workflow shipped with the engine, in ComfyUI's API format (the default graph:
 * checkpoint → prompts → empty latent → KSampler → VAE decode → SaveImage), filled from a request.
 * Node "9" (SaveImage) is the output the engine downloads.
 */
export const TXT2IMG_OUTPUT_NODE = "9";

export function txt2imgWorkflow(job: ImageJob, checkpoint: string): Record<string, { class_type: string; inputs: Record<string, unknown> }> {
  return {
    "3": {
      class_type: "KSampler",
      inputs: {
        seed: job.seed,
        steps: 20,
        cfg: 7,
        sampler_name: "euler",
        scheduler: "normal",
        denoise: 1,
        model: ["4", 0],
        positive: ["6", 0],
        negative: ["7", 0],
        latent_image: ["5", 0],
      },
    },
    "4": { class_type: "CheckpointLoaderSimple", inputs: { ckpt_name: checkpoint } },
    "5": { class_type: "EmptyLatentImage", inputs: { width: job.width, height: job.height, batch_size: 1 } },
    "6": { class_type: "CLIPTextEncode", inputs: { text: job.prompt, clip: ["4", 1] } },
    "7": { class_type: "CLIPTextEncode", inputs: { text: job.negative_prompt, clip: ["4", 1] } },
    "8": { class_type: "VAEDecode", inputs: { samples: ["3", 0], vae: ["4", 2] } },
    "9": { class_type: "SaveImage", inputs: { filename_prefix: "wrldbldr", images: ["8", 0] } },
  };
}
