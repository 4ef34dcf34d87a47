import { characterHandlers } from "./characters";
import { sessionHandlers } from "./session";
import { worldHandlers } from "./world";
import { locationHandlers } from "./locations";
import { sceneHandlers } from "./scenes";
import { goalHandlers } from "./goals";
import { storyHandlers } from "./story";
import { promptHandlers } from "./prompts";
import { jobHandlers } from "./jobs";
import { assetHandlers } from "./assets";
import { generationHandlers } from "./generation";
import type { HandlerMap } from "../engine/context";

/** Every operation's handler, in one place. The registry test checks none is missing. */
export const HANDLERS = {
  ...sessionHandlers,
  ...characterHandlers,
  ...worldHandlers,
  ...locationHandlers,
  ...sceneHandlers,
  ...goalHandlers,
  ...storyHandlers,
  ...promptHandlers,
  ...jobHandlers,
  ...assetHandlers,
  ...generationHandlers,
} satisfies HandlerMap;
