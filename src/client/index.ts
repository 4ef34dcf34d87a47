/**
 * WrldbldrEdge client SDK: `import { connect } from "wrldbldr-edge/client"`. See docs/client.md.
 */
export { connect, WrldbldrClient, type RestoredOutcome } from "./client";
export { WrldbldrError, isWrldbldrError } from "./errors";
export { MemoryOutboxStore, type OutboxEntry, type OutboxStore } from "./store";
export { IndexedDBOutboxStore, type IDBFactoryLike, type IndexedDBOutboxOptions } from "./indexeddb-store";
export { refreshGrant, refreshViaHttp, tokenExpiry, type RefreshOptions } from "./token";
export { backoffDelay, type BackoffOptions } from "./backoff";
export { AssetUrls, uploadAsset, engineOrigin, type UploadAssetOptions } from "./assets";
export { streamDeltas, type StreamOptions, type StreamSource } from "./streams";
export type { WebSocketConstructor, WebSocketLike } from "./socket";
export type * from "./types";
export type { AnyEvent, EventOf, EventType } from "../protocol/events";
export type { OperationType, PayloadInput, ResultOf } from "../protocol/operations";
export type { ErrorCode, ErrorBody } from "../protocol/errors";
export type { AuthGrant } from "../protocol/http";
export { approveDialogue, followDialogue, speakToNpc, type DialogueClient, type DialogueFollow, type DialogueOutcome } from "./dialogue";
export type { DialogueExchange, DialogueTurn, DialogueDecision } from "../protocol/dialogue-entities";
export { isReadOperation } from "../protocol/generated/operation-kinds";
/** The entities the protocol carries, for apps (the web client imports only this module). */
export type { Character, InventoryItem, Participant, SessionSettings, World } from "../protocol/entities";
export type { Goal, Location, PromptTemplate, Region, RegionConnection, Scene, StoryEvent } from "../protocol/world-entities";
export type { Challenge, ChallengeAttempt, ChallengeOutcome, DiceRoll, PresentNpc, Staging, StagedNpc } from "../protocol/gameplay-entities";
export type { AssetView } from "../protocol/image-entities";
export type { PlayLogEntry, PlayLogKind, RegionPresence, PresenceStatus, DmQueue, MyWaits } from "../protocol/play-entities";
