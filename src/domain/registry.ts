import { characterHandlers } from "./characters";
import { sessionHandlers } from "./session";
import type { HandlerMap } from "./types";

/** Every operation's handler, in one place. The registry test checks none is missing. */
export const HANDLERS = {
  ...sessionHandlers,
  ...characterHandlers,
} satisfies HandlerMap;
