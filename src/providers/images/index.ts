import type { Env } from "../../env";
import { AppError } from "../../protocol";
import { comfyuiProvider } from "./comfyui";
import { offlineProvider } from "./offline";
import type { ImageProvider } from "./provider";

export type { ImageJob, ImageProvider, PollResult } from "./provider";
export { sleep } from "./provider";

export const IMAGE_PROVIDERS = ["offline", "comfyui"] as const;

/** The provider named by IMAGE_PROVIDER (default offline); comfyui needs COMFYUI_URL. */
export function imageProvider(env: Env, name = env.IMAGE_PROVIDER || "offline"): ImageProvider {
  if (name === "offline") return offlineProvider;
  if (name === "comfyui") {
    if (!env.COMFYUI_URL) throw new AppError("UNAVAILABLE", "IMAGE_PROVIDER is comfyui but COMFYUI_URL is not set", { reason: "provider_not_configured" });
    return comfyuiProvider(env.COMFYUI_URL, env.COMFYUI_CHECKPOINT || undefined);
  }
  throw new AppError("UNAVAILABLE", `unknown IMAGE_PROVIDER '${name}' (offline or comfyui)`, { reason: "provider_not_configured" });
}
