import { characterHandlers } from "./characters";
import { sessionHandlers } from "./session";
import { worldHandlers } from "./world";
import { locationHandlers } from "./locations";
import { sceneHandlers } from "./scenes";
import { goalHandlers } from "./goals";
import { storyHandlers } from "./story";
import { promptHandlers } from "./prompts";
import { jobHandlers } from "./jobs";
import { diceHandlers } from "./dice";
import { actantialHandlers } from "./actantial";
import { challengeHandlers } from "./challenges";
import { stagingHandlers } from "./staging";
import { dialogueHandlers } from "./dialogue";
import { assetHandlers } from "./assets";
import { generationHandlers } from "./generation";
import { playHandlers } from "./play";
import { playLogHandlers } from "./play-log";
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
  ...diceHandlers,
  ...actantialHandlers,
  ...challengeHandlers,
  ...stagingHandlers,
  ...dialogueHandlers,
  ...assetHandlers,
  ...generationHandlers,
  ...playHandlers,
  ...playLogHandlers,
} satisfies HandlerMap;
