import { z } from "zod";
import { AppError, invalidField, type DialogueExchange, type DialogueTurn, type StoryEvent } from "../protocol";
import { authorize } from "../engine/authorize";
import { defineHandlers, type HandlerContext, type SessionServices } from "../engine/context";
import { defineJobKind, jobs, type JobRow } from "../engine/jobs";
import { Table, bump, checkVersion, conditions, create, type WriteScope } from "../engine/store";
import { ALL, DMS, Tx } from "../engine/tx";
import { checkLlmAvailable, generate, llmConfig, llmProvider } from "../providers/llm";
import { emitChange, requireVisible } from "./changes";
import { CHARACTER, characters } from "./characters";
import { AnswerSplitter, AnswerStream } from "./dialogue-answer";
import { buildDialoguePrompt } from "./dialogue-prompt";
import { absenceMessage, npcAbsence } from "./presence";
import { REGION, STORY_EVENT } from "./world-tables";
import { LOG_ALL, LOG_DMS, logPlay } from "./play-log";

export const dialogueExchanges = new Table<DialogueExchange>(
  "dialogue_exchanges",
  [
    "world_id",
    "npc_id",
    "character_id",
    "participant_id",
    "player_text",
    "status",
    "approval",
    "job_id",
    "attempts",
    "text",
    "source",
    "provider",
    "model",
    "error",
    "dm_draft",
    "dm_reasoning",
    "dm_feedback",
  ],
  { json: ["error"], bool: ["approval"] },
);

export const dialogueTurns = new Table<DialogueTurn>("dialogue_turns", ["world_id", "exchange_id", "npc_id", "character_id", "speaker", "text", "provider"]);

export const DIALOGUE_JOB = "dialogue.reply";
const OPEN_STATUSES = ["generating", "awaiting_approval"] as const;

/** What a job's outcome and a handler both write with. */
type Scope = WriteScope & { session: SessionServices; now: number };

/** The breaker and provider scope: one per session object (docs/dialogue.md). */
const llmScope = (session: { sessionId: string }) => session.sessionId;

/** The window of the call budgets (DIALOGUE_*CALLS_PER_MINUTE). */
const BUDGET_WINDOW_MS = 60_000;

/**
 * The budget of outside work: every LLM call (SpeakToNpc, ApproveDialogue reject) is a
 * `dialogue.reply` job, so the jobs table is the ledger — durable, and exact within a Batch or a
 * group commit (jobs started earlier in the same Tx are pending rows). Per participant and per
 * session: calls started in the last 60 s, and answers being drafted now. Over budget →
 * RATE_LIMITED with `details.reason`, `limit` and `retry_after_ms`; nothing is recorded.
 */
async function checkDialogueBudget(ctx: HandlerContext): Promise<void> {
  const l = ctx.limits;
  const since = ctx.now - BUDGET_WINDOW_MS;
  const open = (j: JobRow) => j.status === "queued" || j.status === "running";
  const rows = await jobs.rows(ctx, {
    sql: "kind = ? AND (created_at > ? OR status IN ('queued', 'running'))",
    params: [DIALOGUE_JOB, since],
    match: (j) => j.kind === DIALOGUE_JOB && (j.created_at > since || open(j)),
  });
  const me = ctx.actor.participant_id;
  const mine = rows.filter((j) => j.started_by === me);
  const refuse = (reason: string, limit: number, retryAfterMs: number, what: string): never => {
    throw new AppError("RATE_LIMITED", `too many NPC answers ${what}; try again in ${Math.ceil(retryAfterMs / 1000)} s`, {
      reason,
      limit,
      retry_after_ms: Math.max(1, Math.ceil(retryAfterMs)),
    });
  };
  // When the oldest call of the window leaves it, one more fits.
  const windowWait = (calls: JobRow[], limit: number) => {
    const times = calls
      .filter((j) => j.created_at > since)
      .map((j) => j.created_at)
      .sort((a, b) => a - b);
    return times[times.length - limit]! + BUDGET_WINDOW_MS - ctx.now;
  };
  const recent = (calls: JobRow[]) => calls.filter((j) => j.created_at > since).length;
  if (l.dialogueMaxConcurrent > 0 && mine.filter(open).length >= l.dialogueMaxConcurrent) {
    refuse("dialogue_concurrency", l.dialogueMaxConcurrent, 1000, `being drafted for you at once (at most ${l.dialogueMaxConcurrent})`);
  }
  if (l.dialogueSessionMaxConcurrent > 0 && rows.filter(open).length >= l.dialogueSessionMaxConcurrent) {
    refuse(
      "dialogue_session_concurrency",
      l.dialogueSessionMaxConcurrent,
      1000,
      `being drafted in this session at once (at most ${l.dialogueSessionMaxConcurrent})`,
    );
  }
  if (l.dialogueCallsPerMinute > 0 && recent(mine) >= l.dialogueCallsPerMinute) {
    refuse(
      "dialogue_budget",
      l.dialogueCallsPerMinute,
      windowWait(mine, l.dialogueCallsPerMinute),
      `asked for by you (at most ${l.dialogueCallsPerMinute} a minute)`,
    );
  }
  if (l.dialogueSessionCallsPerMinute > 0 && recent(rows) >= l.dialogueSessionCallsPerMinute) {
    refuse(
      "dialogue_session_budget",
      l.dialogueSessionCallsPerMinute,
      windowWait(rows, l.dialogueSessionCallsPerMinute),
      `asked for in this session (at most ${l.dialogueSessionCallsPerMinute} a minute)`,
    );
  }
}

/** Saves a new state of an exchange in the Tx (statement + pending row). */
function saveExchange(s: Scope, before: DialogueExchange, patch: Partial<DialogueExchange>): DialogueExchange {
  return dialogueExchanges.save(s, bump(before, patch, s.now));
}

/**
 * Says the answer to the table: the exchange answered, both turns stored, a `dialogue_exchange`
 * story event, and NpcSpeaks to everyone (to DMs only if the NPC has been hidden meanwhile).
 */
async function sayAnswer(
  s: Scope,
  ex: DialogueExchange,
  answer: { text: string; source: NonNullable<DialogueExchange["source"]>; provider: string | null; model: string | null; reasoning?: string | null },
): Promise<DialogueExchange> {
  const npc = await characters.find(s, ex.npc_id);
  const pc = await characters.find(s, ex.character_id);
  const after = saveExchange(s, ex, {
    status: "answered",
    text: answer.text,
    source: answer.source,
    provider: answer.provider,
    model: answer.model,
    error: null,
    ...(answer.reasoning !== undefined ? { dm_reasoning: answer.reasoning } : {}),
  });
  const turn = (speaker: DialogueTurn["speaker"], text: string, provider: string | null) =>
    dialogueTurns.add(
      s,
      create<DialogueTurn>(
        { world_id: s.session.worldId, exchange_id: ex.id, npc_id: ex.npc_id, character_id: ex.character_id, speaker, text, provider },
        s.now,
      ),
    );
  // Words a DM wrote (edited or their own) are the DM's, whatever model drafted them first.
  const turns = [turn("pc", ex.player_text, null), turn("npc", answer.text, answer.source === "llm" ? answer.provider : "dm")];
  const hidden = !npc || npc.hidden;
  const story = create<StoryEvent>(
    {
      world_id: s.session.worldId,
      kind: "dialogue_exchange",
      summary: `${pc?.name ?? "Someone"} spoke with ${npc?.name ?? "someone"}`,
      details: { exchange_id: ex.id, player_text: ex.player_text, text: answer.text, provider: answer.provider },
      character_ids: [ex.character_id, ex.npc_id],
      location_id: null,
      region_id: pc?.region_id ?? null,
      scene_id: null,
      game_time: null,
      tags: ["dialogue"],
      hidden,
      created_by: ex.participant_id,
    },
    s.now,
  );
  STORY_EVENT.table.add(s, story);
  emitChange(s.tx, STORY_EVENT, null, story);
  s.tx.emit({ type: "NpcSpeaks", exchange: after, turns }, hidden ? DMS : ALL);
  if (npc && pc) {
    const sourceLabel = answer.source === "llm" ? (answer.provider ?? "the model") : "the DM";
    logPlay(
      s,
      {
        kind: "dialogue",
        text: `${npc.name}: “${answer.text}”`,
        participant_id: null,
        character_id: npc.id,
        character_name: npc.name,
        dialogue: {
          exchange_id: ex.id,
          npc_id: npc.id,
          npc_name: npc.name,
          pc_id: pc.id,
          pc_name: pc.name,
          speaker: "npc",
          words: answer.text,
          source_label: sourceLabel,
        },
      },
      hidden ? LOG_DMS : LOG_ALL,
    );
  }
  return after;
}

/**
 * Why the NPC of an exchange is not there for its PC now (null: it is), from committed rows (and
 * `tx`'s pending ones) — what the job checks while its answer streams and before it is said.
 * npcAbsence reads only db, session, tx.pending and now of its context.
 */
async function absenceNow(db: D1Database, session: SessionServices, ex: DialogueExchange, tx: Tx = new Tx()): Promise<string | null> {
  const scope = { db, session, tx, now: Date.now() } as unknown as HandlerContext;
  const npc = await characters.find(scope, ex.npc_id);
  const pc = await characters.find(scope, ex.character_id);
  if (!npc || !pc) return "deleted";
  return npcAbsence(scope, pc, npc);
}

/** Stream and job audience of a draft: DMs while it awaits approval, everyone when it needs none. */
const draftAudience = (ex: Pick<DialogueExchange, "approval">) => (ex.approval ? DMS : ALL);

const ReplyInputSchema = z.object({ exchange_id: z.string(), npc_id: z.string(), character_id: z.string() });
type ReplyInput = z.infer<typeof ReplyInputSchema>;
const replyInput = (ex: DialogueExchange): ReplyInput => ({ exchange_id: ex.id, npc_id: ex.npc_id, character_id: ex.character_id });

/** The longest provider text a DM may see of a failure (`details.dm_detail`). */
export const MAX_DM_ERROR_DETAIL = 300;
/** The details of a failure players may see: short scalars our own code sets, never a provider's text. */
const PUBLIC_ERROR_DETAILS = ["reason", "status", "attempts", "provider", "retry_after_ms", "by"] as const;

/**
 * A failed answer as the table learns it: a provider's error text may echo the prompt (the NPC's
 * wants, its DM notes), so players get a fixed message and the known short details; the DM also
 * gets the original text, capped, as `details.dm_detail` (a DM-only key, stripped from player frames).
 */
export function publicDialogueError(error: AppError): AppError {
  const details: Record<string, unknown> = {};
  for (const k of PUBLIC_ERROR_DETAILS) {
    const v = error.details?.[k];
    if (typeof v === "number" || typeof v === "boolean" || (typeof v === "string" && v.length <= 80)) details[k] = v;
  }
  const detail = error.message.length > MAX_DM_ERROR_DETAIL ? `${error.message.slice(0, MAX_DM_ERROR_DETAIL - 1)}…` : error.message;
  details.dm_detail = detail;
  const message =
    details.reason === "cancelled"
      ? "the answer was cancelled"
      : error.code === "TIMEOUT"
        ? "the NPC took too long to answer; try again"
        : error.code === "UNAVAILABLE"
          ? "the NPC could not answer just now; try again"
          : "the NPC could not answer";
  return new AppError(error.code, message, details);
}

interface ReplyOutput {
  exchange_id: string;
  text: string;
  reasoning: string | null;
  provider: string;
  model: string;
}

/**
 * The job that drafts an NPC's answer, outside the write queue: builds the prompt, streams the
 * provider's tokens (only what the NPC says; the DM-only reasons after `[DM]` never stream), and
 * commits the draft for approval or says it to everyone. A failure ends the stream and commits
 * DialogueFailed; no turn of a failed answer is stored.
 */
export const dialogueReplyJob = defineJobKind({
  kind: DIALOGUE_JOB,
  input: ReplyInputSchema,
  events: ["NpcSpeaks", "StoryEventCreated", "DialogueApprovalRequired", "DialogueFailed", "PlayLogged"],
  // An answer cut by a restart is drafted again from the start (its stream restarts at index 0).
  onRestart: "resume",
  async run({ exchange_id }, ctx): Promise<ReplyOutput> {
    const { sessionId, worldId } = ctx.session;
    const db = ctx.env.DB;
    const ex = await dialogueExchanges.get(db, sessionId, exchange_id);
    if (ex?.status !== "generating") throw new AppError("CONFLICT", `dialogue '${exchange_id}' is no longer being drafted`, { id: exchange_id });
    const npc = await characters.get(db, sessionId, ex.npc_id);
    const pc = await characters.get(db, sessionId, ex.character_id);
    if (!npc || !pc) throw new AppError("NOT_FOUND", "the NPC or the character of this dialogue was deleted", { id: exchange_id });
    const cfg = llmConfig(ctx.env);
    const provider = llmProvider(ctx.env, cfg);
    const prompt = await buildDialoguePrompt({ db, sessionId, worldId }, ex, npc, pc, cfg.historyTokens);
    const splitter = new AnswerSplitter();
    const out = new AnswerStream(ctx.stream, {
      maxFrames: ctx.limits.dialogueMaxStreamFrames,
      playersHear: !ex.approval,
      seq: () => ctx.session.seq,
      playersMayHear: async () => (await absenceNow(db, ctx.session, ex)) === null,
    });
    // An answer is bounded: past the cap the provider's call is stopped and the words kept so far said.
    const max = ctx.limits.dialogueMaxAnswerChars;
    const enough = new AppError("PAYLOAD_TOO_LARGE", `answer longer than ${max} characters`, { reason: "answer_too_long" });
    const call = new AbortController();
    const onAbort = () => call.abort(ctx.signal.reason);
    if (ctx.signal.aborted) onAbort();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    let taken = 0;
    try {
      await generate(
        ctx.env,
        llmScope(ctx.session),
        prompt,
        (d) => {
          if (call.signal.aborted) return;
          const piece = d.slice(0, max - taken);
          taken += piece.length;
          out.push(splitter.push(piece));
          if (taken >= max) call.abort(enough);
        },
        call.signal,
        provider,
      );
    } catch (err) {
      if (err !== enough) {
        // The words that came before the failure still go out (those waiting on a presence look).
        if (!ctx.signal.aborted) await out.finish().catch(() => undefined);
        throw err;
      }
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
    }
    const { rest, text: said, reasoning } = splitter.finish();
    out.push(rest);
    await out.finish();
    const text = taken >= max && !reasoning ? `${said}…` : said;
    if (!said)
      throw new AppError("UNAVAILABLE", `${provider.name} answered only reasons, no words for ${npc.name}`, {
        reason: "empty_answer",
        provider: provider.name,
      });
    return { exchange_id, text, reasoning, provider: provider.name, model: provider.model };
  },
  // Failures are kept and told without the provider's words (they may echo the prompt).
  publicError: publicDialogueError,
  // The job row is readable by the player who spoke: the draft stays in the exchange (DM-only keys).
  storedOutput: (o: ReplyOutput) => ({ exchange_id: o.exchange_id, provider: o.provider, model: o.model }),
  async complete(ctx, o) {
    const ex = await dialogueExchanges.get(ctx.db, ctx.session.sessionId, o.exchange_id);
    if (ex?.status !== "generating") return;
    const s: Scope = { db: ctx.db, tx: ctx.tx, session: ctx.session, now: ctx.now };
    // Said to the table only if the NPC is still there for it; one hidden or staged away while it
    // answered leaves its draft to the DMs instead (approval, whatever the session's setting).
    if (!ex.approval && (await absenceNow(ctx.db, ctx.session, ex, ctx.tx)) === null) {
      await sayAnswer(s, ex, { text: o.text, source: "llm", provider: o.provider, model: o.model, reasoning: o.reasoning });
      return;
    }
    const after = saveExchange(s, ex, {
      status: "awaiting_approval",
      approval: true,
      dm_draft: o.text,
      dm_reasoning: o.reasoning,
      provider: o.provider,
      model: o.model,
    });
    ctx.tx.emit({ type: "DialogueApprovalRequired", exchange: after }, DMS);
  },
  /**
   * No answer (provider failure, stream cut, timeout, cancellation): the exchange is failed in the
   * same commit, everyone learns it, and nothing of the partial answer is kept. Synchronous (a
   * cancellation runs it inside the CancelJob handler), hence a guarded UPDATE by id.
   */
  failed(ctx, error) {
    const input = ctx.job.input as ReplyInput;
    ctx.tx
      .write(
        ctx.db
          .prepare(
            "UPDATE dialogue_exchanges SET status = 'failed', error = ?, version = version + 1, updated_at = ? WHERE session_id = ? AND id = ? AND status = 'generating'",
          )
          .bind(JSON.stringify(error.toBody()), ctx.now, ctx.session.sessionId, input.exchange_id),
      )
      .emit({ type: "DialogueFailed", exchange_id: input.exchange_id, npc_id: input.npc_id, character_id: input.character_id, error: error.toBody() }, ALL);
  },
});

export const dialogueHandlers = defineHandlers({
  SpeakToNpc: {
    async handle(ctx, p) {
      const pc = await requireVisible(ctx, CHARACTER, p.character_id);
      if (pc.kind !== "pc") throw invalidField("character_id", `'${pc.name}' is not a player character`);
      authorize(ctx.actor, "own", pc, "speak for a character that is not its own");
      const npc = await requireVisible(ctx, CHARACTER, p.npc_id);
      if (npc.kind !== "npc") throw invalidField("npc_id", `'${npc.name}' is not an NPC`);
      const absence = await npcAbsence(ctx, pc, npc);
      if (absence) {
        // Its own reason (not a CONFLICT: nobody changed anything at the same time), in words.
        const region = pc.region_id ? await REGION.table.find(ctx, pc.region_id) : null;
        throw new AppError("FORBIDDEN", absenceMessage(absence, npc, pc, region?.name ?? null), {
          reason: "not_here",
          absence,
          npc_id: npc.id,
          character_id: pc.id,
          region_id: pc.region_id,
        });
      }
      const open = await dialogueExchanges.rows(ctx, {
        sql: "character_id = ? AND npc_id = ? AND status IN ('generating', 'awaiting_approval')",
        params: [pc.id, npc.id],
        match: (e) => e.character_id === pc.id && e.npc_id === npc.id && (OPEN_STATUSES as readonly string[]).includes(e.status),
      });
      if (open[0]) throw new AppError("CONFLICT", `${npc.name} is still answering ${pc.name}`, { reason: "dialogue_in_progress", exchange_id: open[0].id });
      checkLlmAvailable(ctx.env, llmScope(ctx.session));
      await checkDialogueBudget(ctx);

      const ex = create<DialogueExchange>(
        {
          world_id: ctx.session.worldId,
          npc_id: npc.id,
          character_id: pc.id,
          participant_id: ctx.actor.participant_id,
          player_text: p.text,
          status: "generating",
          approval: ctx.session.settings.dialogue_approval,
          job_id: null,
          attempts: 1,
          text: null,
          source: null,
          provider: null,
          model: null,
          error: null,
          dm_draft: null,
          dm_reasoning: null,
          dm_feedback: null,
        },
        ctx.now,
      );
      ex.job_id = ctx.jobs.start(dialogueReplyJob, replyInput(ex), { audience: draftAudience(ex) }).id;
      dialogueExchanges.add(ctx, ex);
      ctx.tx.emit({ type: "DialogueStarted", exchange: ex }, ALL);
      logPlay(ctx, {
        kind: "dialogue",
        text: `${pc.name} to ${npc.name}: “${p.text}”`,
        character_id: pc.id,
        character_name: pc.name,
        dialogue: { exchange_id: ex.id, npc_id: npc.id, npc_name: npc.name, pc_id: pc.id, pc_name: pc.name, speaker: "pc", words: p.text, source_label: null },
      });
      return ex;
    },
  },

  ApproveDialogue: {
    async handle(ctx, p) {
      const ex = await dialogueExchanges.require(ctx, p.exchange_id, "dialogue");
      checkVersion(ex, p.expected_version, "dialogue");
      if (ex.status !== "awaiting_approval") {
        throw new AppError("CONFLICT", `dialogue '${ex.id}' is not awaiting approval (${ex.status})`, { reason: "not_awaiting_approval", current: ex });
      }
      switch (p.decision) {
        case "accept":
          return sayAnswer(ctx, ex, { text: ex.dm_draft ?? "", source: "llm", provider: ex.provider, model: ex.model });
        case "edit":
          if (!p.text) throw invalidField("text", "an edit needs the new text");
          return sayAnswer(ctx, ex, { text: p.text, source: "dm_edit", provider: ex.provider, model: ex.model });
        case "take_over":
          if (!p.text) throw invalidField("text", "taking over needs the DM's own words");
          return sayAnswer(ctx, ex, { text: p.text, source: "dm", provider: "dm", model: null });
        case "reject": {
          checkLlmAvailable(ctx.env, llmScope(ctx.session));
          await checkDialogueBudget(ctx);
          const job = ctx.jobs.start(dialogueReplyJob, replyInput(ex), { audience: DMS });
          const after = saveExchange(ctx, ex, { status: "generating", attempts: ex.attempts + 1, job_id: job.id, dm_feedback: p.feedback ?? "" });
          ctx.tx.emit({ type: "DialogueRegenerating", exchange: after }, DMS);
          return after;
        }
      }
    },
  },

  ListPendingDialogues: {
    async handle(ctx, p) {
      return dialogueExchanges.page(ctx.db, ctx.session.sessionId, {
        where: "status IN ('generating', 'awaiting_approval')",
        cursor: p.cursor,
        limit: p.limit,
      });
    },
  },

  ListDialogueTurns: {
    async handle(ctx, p) {
      // A hidden NPC's conversations do not exist for players (NOT_FOUND, as the NPC itself).
      await requireVisible(ctx, CHARACTER, p.npc_id);
      const where = conditions(["npc_id = ?", p.npc_id], p.character_id && ["character_id = ?", p.character_id]);
      return dialogueTurns.page(ctx.db, ctx.session.sessionId, { ...where, cursor: p.cursor, limit: p.limit, order: "desc" });
    },
  },
});
