import { batch, computed, signal, type Signal } from "@preact/signals";
import {
  connect,
  IndexedDBOutboxStore,
  isReadOperation,
  isWrldbldrError,
  refreshViaHttp,
  type AnyEvent,
  type OperationType,
  type Payload,
  type ResultOf,
  type WrldbldrClient,
} from "../../src/client";
import type { Character, InventoryItem, Participant, SessionSettings, World } from "../../src/client";
import type { Goal, Location, PromptTemplate, Region, RegionConnection, Scene, StoryEvent } from "../../src/client";
import { loadInvite, saveInvite, saveToken, sessionWsUrl, tokenClaims } from "./auth";
import { describeError } from "./errors";

/** What the connection badge shows. */
export type Connection = "connecting" | "connected" | "reconnecting" | "offline";
export interface Toast {
  id: number;
  kind: "error" | "info";
  text: string;
}
type Entity = { id: string; version: number };
type Table<T> = Signal<Record<string, T>>;

const table = <T>(): Table<T> => signal<Record<string, T>>({});

function put<T extends { version: number }>(t: Table<T>, key: string, value: T, force = false): void {
  const old = t.value[key];
  // Events and answers may cross: never replace a newer version with an older one.
  if (!force && old && old.version > value.version) return;
  t.value = { ...t.value, [key]: value };
}
function drop<T>(t: Table<T>, key: string): void {
  if (!(key in t.value)) return;
  const next = { ...t.value };
  delete next[key];
  t.value = next;
}
const byId = <T extends Entity>(items: T[]) => Object.fromEntries(items.map((i) => [i.id, i]));

/**
 * One session as this participant sees it: signals the views read, kept live by the SDK's events,
 * and the actions the views call (plain requests, or optimistic edits that roll back on error).
 */
export class SessionStore {
  readonly client: WrldbldrClient;
  readonly connection = signal<Connection>("connecting");
  readonly closedReason = signal<string | null>(null);
  readonly loaded = signal(false);
  readonly you = signal<Participant | null>(null);
  readonly world = signal<World | null>(null);
  readonly settings = signal<SessionSettings | null>(null);
  readonly activeScene = signal<Scene | null>(null);
  readonly participants = table<Participant>();
  readonly characters = table<Character>();
  readonly items = table<InventoryItem>();
  readonly locations = table<Location>();
  readonly regions = table<Region>();
  readonly connections = table<RegionConnection>();
  readonly scenes = table<Scene>();
  readonly goals = table<Goal>();
  readonly storyEvents = table<StoryEvent>();
  readonly prompts = table<PromptTemplate>();
  /** The invite code (DMs): from the DM's grant or link, then from every rotation. */
  readonly invite = signal<string | null>(null);
  readonly toasts = signal<Toast[]>([]);
  /** Ids of entities whose optimistic change was just undone (the views flash them). */
  readonly rolledBack = signal<Set<string>>(new Set());

  readonly isDm = computed(() => this.you.value?.role === "dm");
  readonly myPc = computed(() => {
    const me = this.you.value?.id;
    return Object.values(this.characters.value).find((c) => c.kind === "pc" && c.owner_participant_id === me) ?? null;
  });

  private toastId = 0;
  private everOpen = false;

  constructor(
    readonly sessionId: string,
    token: string,
  ) {
    const claims = tokenClaims(token);
    this.invite.value = loadInvite(sessionId);
    this.client = connect({
      url: sessionWsUrl(sessionId),
      token,
      store: new IndexedDBOutboxStore({ dbName: `wrldbldr-${sessionId}-${claims.pid ?? "anon"}` }),
      refreshToken: refreshViaHttp({ url: location.origin, onGrant: (g) => saveToken(sessionId, g.token) }),
    });
    this.client.onStateChange(({ state, reason, error }) => {
      if (state === "open") {
        this.everOpen = true;
        this.connection.value = "connected";
      } else if (state === "closed") {
        this.connection.value = "offline";
        if (reason !== "closed_by_client") this.closedReason.value = error ? describeError(error) : reason;
      } else {
        this.connection.value = this.everOpen ? "reconnecting" : "connecting";
      }
    });
    this.client.onAnyEvent((event) => this.apply(event));
    this.client.onSnapshot(() => void this.load());
    this.client.onError((err) => {
      // A server error that answers no request is shown, except the kick's FORBIDDEN: the close
      // that follows it puts the page offline with the reason. The rest is the app's own bug.
      if (isWrldbldrError(err)) return void (err.code !== "FORBIDDEN" && this.toast("error", describeError(err)));
      console.warn("wrldbldr:", err);
    });
    void this.client.whenOpen().then(
      () => this.load(),
      () => undefined,
    );
  }

  close(): void {
    this.client.close({ keepOutbox: true });
  }

  // ------------------------------------------------------------------ loading

  private async listAll<K extends OperationType>(payload: Payload<K>): Promise<any[]> {
    const items: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = (await this.client.request({ ...payload, limit: 200, ...(cursor ? { cursor } : {}) } as Payload<K>)) as unknown as {
        items: unknown[];
        next_cursor: string | null;
      };
      items.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return items;
  }

  /** Everything the views show, from scratch (first join, a snapshot resume, a world import). */
  async load(): Promise<void> {
    try {
      const snap = await this.client.request({ type: "GetSessionSnapshot" });
      const dm = snap.you.role === "dm";
      const [locations, regions, connections, scenes, goals, storyEvents, prompts] = await Promise.all([
        this.listAll({ type: "ListLocations" }),
        this.listAll({ type: "ListRegions" }),
        this.listAll({ type: "ListRegionConnections" }),
        this.listAll({ type: "ListScenes" }),
        this.listAll({ type: "ListGoals" }),
        this.listAll({ type: "ListStoryEvents" }),
        dm ? this.listAll({ type: "ListPromptTemplates" }) : Promise.resolve([]),
      ]);
      batch(() => {
        this.you.value = snap.you;
        this.world.value = snap.world;
        this.settings.value = snap.session.settings;
        this.activeScene.value = snap.current_scene;
        this.participants.value = byId(snap.participants);
        this.characters.value = byId(snap.characters);
        this.locations.value = byId(locations);
        this.regions.value = byId(regions);
        this.connections.value = byId(connections);
        this.scenes.value = byId(scenes);
        this.goals.value = byId(goals);
        this.storyEvents.value = byId(storyEvents);
        this.prompts.value = Object.fromEntries((prompts as PromptTemplate[]).map((p) => [p.key, p]));
        this.items.value = {};
        this.loaded.value = true;
      });
      const pc = this.myPc.value;
      if (pc) await this.loadInventory(pc.id);
    } catch (err) {
      this.toast("error", `Could not load the session: ${describeError(err)}`);
    }
  }

  async loadInventory(characterId: string): Promise<void> {
    try {
      const items = (await this.listAll({ type: "ListInventory", character_id: characterId })) as InventoryItem[];
      const others = Object.values(this.items.value).filter((i) => i.character_id !== characterId);
      this.items.value = byId([...others, ...items]);
    } catch (err) {
      this.toast("error", `Could not load the inventory: ${describeError(err)}`);
    }
  }

  // ------------------------------------------------------------------ live events

  /** Every event the server sends this participant; what it may not see never arrives. */
  private apply(event: AnyEvent): void {
    const e = event as AnyEvent & Record<string, any>;
    switch (e.type) {
      case "ParticipantJoined":
        return put(this.participants, e.participant.id, e.participant, true);
      case "ParticipantLeft":
      case "ParticipantKicked": {
        const p = this.participants.value[e.participant_id];
        if (p) put(this.participants, p.id, { ...p, online: false, kicked: p.kicked || e.type === "ParticipantKicked" }, true);
        return;
      }
      case "SessionSettingsUpdated":
        this.settings.value = e.settings;
        return;
      case "InviteCodeRotated":
        return this.rememberInvite(e.invite_code);
      case "WorldUpdated":
        this.world.value = e.world;
        return;
      case "WorldImported":
        return void this.load();
      case "SceneChanged":
        this.activeScene.value = e.scene;
        if (e.scene) put(this.scenes, e.scene.id, e.scene);
        return;
      case "LocationDeleted":
        drop(this.locations, e.location_id);
        for (const id of e.region_ids as string[]) drop(this.regions, id);
        return;
      case "InventoryItemRemoved":
        return drop(this.items, e.item_id);
      case "ItemGiven":
        put(this.items, e.to.id, e.to);
        if (e.from) return put(this.items, e.from.id, e.from);
        // The giver's whole stack went: its inventory is read again, if it is shown.
        if (Object.values(this.items.value).some((i) => i.character_id === e.from_character_id)) void this.loadInventory(e.from_character_id);
        return;
    }
    const upsert = UPSERTS[e.type];
    if (upsert) {
      const [name, field] = upsert;
      const value = e[field];
      put(this[name] as Table<any>, name === "prompts" ? value.key : value.id, value);
      if (name === "scenes" && this.activeScene.value?.id === value.id) this.activeScene.value = value;
      return;
    }
    const removal = REMOVALS[e.type];
    if (removal) drop(this[removal[0]] as Table<unknown>, e[removal[1]]);
  }

  // ------------------------------------------------------------------ actions

  rememberInvite(code: string): void {
    saveInvite(this.sessionId, code);
    this.invite.value = code;
  }

  /** A new invite code; the old one stops admitting anyone at once. */
  async rotateInvite(): Promise<void> {
    const result = await this.run({ type: "RotateInviteCode" });
    if (result) this.rememberInvite(result.invite_code);
  }

  toast(kind: Toast["kind"], text: string): void {
    const id = ++this.toastId;
    this.toasts.value = [...this.toasts.value, { id, kind, text }];
    setTimeout(() => this.dismiss(id), kind === "error" ? 8000 : 3000);
  }

  dismiss(id: number): void {
    this.toasts.value = this.toasts.value.filter((t) => t.id !== id);
  }

  /**
   * A request whose failure is shown to the user; resolves with the result, or undefined. Writes
   * wait without a timeout, as `mutate` does: made offline, they are sent after the rejoin (the
   * outbox makes that exactly once) rather than reported as failed and perhaps applied later.
   */
  async run<K extends OperationType>(payload: Payload<K>, opts: RunOptions = {}): Promise<ResultOf<K> | undefined> {
    const read = isReadOperation(payload.type);
    try {
      const result = await this.client.request(payload, read ? {} : { timeout: 0 });
      const done = opts.done ?? (read ? undefined : doneWords(payload as { type: string; scene_id?: unknown }));
      if (done) this.toast("info", done);
      return result;
    } catch (err) {
      this.toast("error", describeError(err, opts.labels));
      return undefined;
    }
  }

  /**
   * An optimistic edit of one entity: shown at once, replaced by the server's answer, undone
   * visibly (a flash and a message) when the server refuses it.
   */
  async edit<K extends OperationType, T extends Entity>(t: Table<T>, id: string, patch: Partial<T>, payload: Payload<K>): Promise<boolean> {
    const before = t.value[id];
    if (!before) return false;
    try {
      await this.client.mutate(payload, {
        apply: () => put(t, id, { ...before, ...patch }, true),
        confirm: (result) => {
          put(t, id, result as unknown as T);
          this.toast("info", "Saved.");
        },
        rollback: (err) => {
          put(t, id, before, true);
          this.flash(id);
          this.toast("error", `Change undone. ${describeError(err)}`);
        },
      });
      return true;
    } catch {
      return false;
    }
  }

  private flash(id: string): void {
    this.rolledBack.value = new Set([...this.rolledBack.value, id]);
    setTimeout(() => {
      const next = new Set(this.rolledBack.value);
      next.delete(id);
      this.rolledBack.value = next;
    }, 2500);
  }
}

export interface RunOptions {
  /** The words shown when it worked (default: from the operation, see doneWords; "" shows nothing). */
  done?: string;
  /** Field path → the label the form shows, for validation errors in words. */
  labels?: Record<string, string>;
}

/** What a write that worked says; the ones whose result shows by itself in the page say nothing. */
const DONE: Record<string, string> = {
  RollDice: "",
  SpeakToNpc: "",
  MoveToRegion: "",
  SubmitChallengeRoll: "",
  ApproveDialogue: "",
  RotateInviteCode: "New invite code made; the old one no longer works.",
  KickParticipant: "The participant was removed.",
  TriggerChallenge: "Challenge sent to the player.",
  ResolveChallenge: "Outcome sent to the table.",
  ApproveStaging: "Staging approved: the players see who is here.",
  PreStageRegion: "Region staged.",
  UpdateSessionSettings: "Settings saved.",
  UpdateWorld: "World saved.",
  SetPromptTemplate: "Prompt saved.",
  ResetPromptTemplate: "Prompt reset to the default.",
  StartGeneration: "Generation started.",
  AddInventoryItem: "Item added.",
  GiveItem: "Item given.",
};

export function doneWords(payload: { type: string; scene_id?: unknown }): string | undefined {
  if (payload.type === "SetActiveScene") return payload.scene_id ? "Scene made active: the players see it now." : "No scene is active now.";
  if (payload.type in DONE) return DONE[payload.type] || undefined;
  if (/^Create/.test(payload.type)) return "Created.";
  if (/^(Delete|Remove)/.test(payload.type)) return "Deleted.";
  if (/^(Update|Set)/.test(payload.type)) return "Saved.";
  return undefined;
}

type TableName = "characters" | "items" | "locations" | "regions" | "connections" | "scenes" | "goals" | "storyEvents" | "prompts";

/** `<Entity>Created/Updated` events: the table they update and the field carrying the entity. */
const UPSERTS: Record<string, [TableName, string]> = {
  CharacterCreated: ["characters", "character"],
  CharacterUpdated: ["characters", "character"],
  InventoryItemAdded: ["items", "item"],
  InventoryItemUpdated: ["items", "item"],
  LocationCreated: ["locations", "location"],
  LocationUpdated: ["locations", "location"],
  RegionCreated: ["regions", "region"],
  RegionUpdated: ["regions", "region"],
  RegionConnectionCreated: ["connections", "region_connection"],
  RegionConnectionUpdated: ["connections", "region_connection"],
  SceneCreated: ["scenes", "scene"],
  SceneUpdated: ["scenes", "scene"],
  SceneUpdate: ["scenes", "scene"],
  GoalCreated: ["goals", "goal"],
  GoalUpdated: ["goals", "goal"],
  StoryEventCreated: ["storyEvents", "story_event"],
  StoryEventUpdated: ["storyEvents", "story_event"],
  PromptTemplateUpdated: ["prompts", "prompt_template"],
};

/** `<Entity>Deleted` events: the table and the field carrying the id. */
const REMOVALS: Record<string, [TableName, string]> = {
  CharacterDeleted: ["characters", "character_id"],
  RegionDeleted: ["regions", "region_id"],
  RegionConnectionDeleted: ["connections", "region_connection_id"],
  SceneDeleted: ["scenes", "scene_id"],
  GoalDeleted: ["goals", "goal_id"],
  StoryEventDeleted: ["storyEvents", "story_event_id"],
};
