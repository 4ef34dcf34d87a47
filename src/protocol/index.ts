export * from "./errors";
export * from "./entities";
export * from "./world-entities";
export * from "./operations";
export * from "./events";
export * from "./envelope";
export * from "./http";
export * from "./jobs";
