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
import { dialogueReplyJob } from "./dialogue";
import { GENERATE } from "./generation";
import { stagingOnCharacterChange, stagingOnRegionEntry, stagingTimeout } from "./staging";
import type { CharacterChangeHook, HandlerMap, Hooks, RegionEntryHook } from "../engine/context";
import type { JobKind } from "../engine/jobs";
import type { TimerKind } from "../engine/timers";
import { Registry, mergeOnce } from "../engine/registry";

/**
 * The domain in one place: every operation's handler, job kind, timer kind and hook. Each is
 * declared by its area's module and listed here — nothing registers itself as a side effect of an
 * import — and a name given twice throws when this module loads. The registry test checks that no
 * operation lacks its handler.
 */
export const HANDLERS = mergeOnce("handler", [
  sessionHandlers,
  characterHandlers,
  worldHandlers,
  locationHandlers,
  sceneHandlers,
  goalHandlers,
  storyHandlers,
  promptHandlers,
  jobHandlers,
  diceHandlers,
  actantialHandlers,
  challengeHandlers,
  stagingHandlers,
  dialogueHandlers,
  assetHandlers,
  generationHandlers,
  playHandlers,
  playLogHandlers,
] as const) as unknown as typeof sessionHandlers &
  typeof characterHandlers &
  typeof worldHandlers &
  typeof locationHandlers &
  typeof sceneHandlers &
  typeof goalHandlers &
  typeof storyHandlers &
  typeof promptHandlers &
  typeof jobHandlers &
  typeof diceHandlers &
  typeof actantialHandlers &
  typeof challengeHandlers &
  typeof stagingHandlers &
  typeof dialogueHandlers &
  typeof assetHandlers &
  typeof generationHandlers &
  typeof playHandlers &
  typeof playLogHandlers;
HANDLERS satisfies HandlerMap;

/** Long-running work, by kind name (src/session/jobs.ts runs it). */
export const JOB_KINDS = new Registry<JobKind<any, any>>("job kind", (k) => k.kind, [dialogueReplyJob, GENERATE]);

/** Timed domain work, by kind name (src/session/timers.ts fires it). */
export const TIMER_KINDS = new Registry<TimerKind<any>>("timer kind", (k) => k.kind, [stagingTimeout]);

/** What handlers call at moments of the game (ctx.hooks), in this order. */
export const HOOKS = {
  regionEntry: new Registry<RegionEntryHook>("region-entry hook", (h) => h.name, [stagingOnRegionEntry]),
  characterChange: new Registry<CharacterChangeHook>("character-change hook", (h) => h.name, [stagingOnCharacterChange]),
} satisfies Hooks;
