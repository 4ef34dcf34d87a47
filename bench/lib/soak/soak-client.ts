/**
 * One soak player: the SDK client (src/client) dialing through its own TCP proxy (so the fault loop
 * can cut this client's connection alone), and a ledger of what it was told: acknowledged writes,
 * writes still unanswered, events delivered by the SDK, and Event frames as the server sent them.
 */
import { connect, type RequestOutcome, type WrldbldrClient } from "../../../src/client";
import type { AuthGrant } from "../../../src/protocol/http";
import { startProxy, type TcpProxy } from "../../../scripts/tcp-proxy";
import { viaPort } from "../auth";
import { sleep } from "../bounded";
import type { Rng } from "../prng";
import { tappedWebSocket } from "./tap-websocket";

type WritePayload = Parameters<WrldbldrClient["requestWithMeta"]>[0];

export interface AckedItem {
  request_id: string;
  item_id: string;
  name: string;
}

export interface Ledger {
  participant_id: string;
  character_id?: string;
  /** Every acknowledged write's request id (CreateCharacter, AddInventoryItem, UpdateCharacter). */
  acked_writes: string[];
  acked_items: AckedItem[];
  acked_updates: number;
  /** Writes sent but not answered when the run ended (their effect may or may not exist). */
  unanswered: { request_id: string; type: string; name?: string }[];
  /** Results that came back with `replayed: true` (the server's recorded answer to a re-sent id). */
  replayed: number;
  reads: number;
  errors: string[];
  /** Seq of the first SessionJoined: every visible event after it must be delivered. */
  first_join_seq?: number;
  joins: number;
  snapshot_resumes: number;
  delivered: number[];
  raw: number[];
  /** For each entry of `raw`: the number of the socket it came on (to diagnose a violation). */
  raw_socket: number[];
  /** Event frames that arrived on a socket after the client had closed it (ignored by the SDK). */
  late_frames: number;
  /** Sockets the SDK gave up on because the heartbeat went unanswered. */
  heartbeat_timeouts: number;
}

export interface SoakClientOptions {
  enginePort: number;
  grant: AuthGrant;
  index: number;
}

export class SoakClient {
  readonly ledger: Ledger;
  private constructor(
    readonly proxy: TcpProxy,
    readonly sdk: WrldbldrClient,
    ledger: Ledger,
  ) {
    this.ledger = ledger;
  }

  static async start(opts: SoakClientOptions): Promise<SoakClient> {
    const ledger: Ledger = {
      participant_id: opts.grant.participant_id,
      acked_writes: [],
      acked_items: [],
      acked_updates: 0,
      unanswered: [],
      replayed: 0,
      reads: 0,
      errors: [],
      joins: 0,
      snapshot_resumes: 0,
      delivered: [],
      raw: [],
      raw_socket: [],
      late_frames: 0,
      heartbeat_timeouts: 0,
    };
    const proxy = await startProxy({ targetPort: opts.enginePort });
    const sdk = connect({
      url: viaPort(opts.grant.ws_url, proxy.port),
      token: opts.grant.token,
      WebSocket: tappedWebSocket({ event: (seq, socket) => (ledger.raw.push(seq), ledger.raw_socket.push(socket)), late: () => ledger.late_frames++ }),
      clientId: `soak${opts.index}`,
      requestTimeoutMs: 0, // re-sent across reconnects until answered; the run bounds the wait
      reconnect: { baseDelayMs: 100, maxDelayMs: 1_000 },
      heartbeat: { intervalMs: 5_000, timeoutMs: 5_000 },
    });
    sdk.onAnyEvent((_event, seq) => ledger.delivered.push(seq));
    sdk.onJoined((joined) => {
      ledger.joins++;
      ledger.first_join_seq ??= joined.seq;
    });
    sdk.onSnapshot(() => ledger.snapshot_resumes++);
    sdk.onStateChange((change) => change.reason === "heartbeat_timeout" && ledger.heartbeat_timeouts++);
    sdk.onError((err) => ledger.errors.push(`client: ${String(err)}`));
    return new SoakClient(proxy, sdk, ledger);
  }

  /** Creates this player's character (a write like any other: exactly once). */
  async createCharacter(): Promise<void> {
    const out = await this.write({ type: "CreateCharacter", data: { kind: "pc", name: `pc ${this.sdk.clientId}` } });
    if (out) this.ledger.character_id = out.data.id;
  }

  /** Runs random operations until `until` (ms since epoch), one at a time, with a pause between. */
  async run(rand: Rng, until: number, pauseMs: readonly [number, number]): Promise<void> {
    const characterId = this.ledger.character_id;
    if (!characterId) return;
    for (let n = 0; Date.now() < until; n++) {
      const dice = rand.next();
      if (dice < 0.35) await this.addItem(characterId, `${this.sdk.clientId}-${n}`);
      else if (dice < 0.6) await this.updateCharacter(characterId, n);
      else await this.read(characterId, dice);
      await sleep(rand.int(pauseMs[0], pauseMs[1]));
    }
  }

  /** Forgets (and records as unanswered) whatever is still pending, and closes for good. */
  close(): void {
    this.sdk.close();
  }

  private async addItem(characterId: string, name: string): Promise<void> {
    const out = await this.write({ type: "AddInventoryItem", character_id: characterId, data: { name } }, name);
    if (out) this.ledger.acked_items.push({ request_id: out.request_id, item_id: out.data.id, name });
  }

  private async updateCharacter(characterId: string, n: number): Promise<void> {
    const out = await this.write({ type: "UpdateCharacter", character_id: characterId, data: { stats: { n } } });
    if (out) this.ledger.acked_updates++;
  }

  private async read(characterId: string, dice: number): Promise<void> {
    try {
      if (dice < 0.8) {
        const c = await this.sdk.request({ type: "GetCharacter", character_id: characterId });
        // Read-your-writes: every acknowledged update is visible in the version.
        if (c.version < 1 + this.ledger.acked_updates) this.ledger.errors.push(`read ${c.version} < ${1 + this.ledger.acked_updates} acknowledged updates`);
      } else if (dice < 0.9) {
        await this.sdk.request({ type: "ListInventory", character_id: characterId, limit: 20 });
      } else {
        await this.sdk.request({ type: "Ping" });
      }
      this.ledger.reads++;
    } catch (err) {
      this.noteFailure("read", err);
    }
  }

  /** A write whose fate the ledger tracks: acknowledged (with its result), failed, or unanswered. */
  private async write(payload: WritePayload, name?: string): Promise<RequestOutcome<{ id: string }> | null> {
    const requestId = this.sdk.nextRequestId();
    const entry = { request_id: requestId, type: payload.type, name };
    this.ledger.unanswered.push(entry);
    try {
      const out = (await this.sdk.requestWithMeta(payload, { requestId })) as RequestOutcome<{ id: string }>;
      this.ledger.unanswered.splice(this.ledger.unanswered.indexOf(entry), 1);
      this.ledger.acked_writes.push(requestId);
      if (out.replayed) this.ledger.replayed++;
      return out;
    } catch (err) {
      if (isClosedByClient(err)) return null; // stays unanswered
      this.ledger.unanswered.splice(this.ledger.unanswered.indexOf(entry), 1);
      this.noteFailure(payload.type, err);
      return null;
    }
  }

  private noteFailure(what: string, err: unknown): void {
    if (!isClosedByClient(err)) this.ledger.errors.push(`${what}: ${String(err)}`);
  }
}

function isClosedByClient(err: unknown): boolean {
  return (err as { details?: { reason?: unknown } } | null)?.details?.reason === "closed_by_client";
}
