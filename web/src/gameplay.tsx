import { effect, signal, type Signal } from "@preact/signals";
import { useState } from "preact/hooks";
import type { ChallengeAttempt, Challenge, ChallengeOutcome, DiceRoll, PresentNpc, RegionPresence, Staging, DialogueExchange } from "../../src/client";
import type { SessionStore } from "./session-store";
import { EntityForm, Section } from "./ui";
import { GameLog } from "./game-log";
import { SceneCard } from "./world-views";

/**
 * Gameplay panels: dice for everyone, the player's challenge prompts and staging wait, the DM's
 * staging approvals and challenges. Their state lives beside the SessionStore (one per store),
 * fed by the SDK's events; what a participant may not see never arrives.
 */

interface GameplayState {
  rolls: Signal<{ roll: DiceRoll; character_id: string | null }[]>;
  /** Player: attempts it was prompted for, by id (resolved ones carry their outcome text). */
  attempts: Signal<Record<string, ChallengeAttempt & { challenge_name: string; outcome_text?: string }>>;
  /** Player: the staging it waits for, if any. */
  waiting: Signal<{ staging_id: string; region_name: string } | null>;
  /** Player: who its PC sees in its region (the last PcSceneChanged). */
  seen: Signal<{ region_id: string; npcs: PresentNpc[] } | null>;
  /**
   * Who is present, by region, exactly as the server says (read, then its events): never derived
   * from the NPCs' own region. `pending`: the DM has not decided yet — nobody is offered.
   */
  presence: Signal<Record<string, Presence>>;
  /** DM: pending stagings by id. */
  pending: Signal<Record<string, Staging & { region_name?: string }>>;
  /** DM: the challenges. */
  challenges: Signal<Record<string, Challenge>>;
  /** Dialogue exchanges waiting, from the first read (ListDmQueue / ListMyWaits): the dialogue state takes them. */
  drafts: Signal<DialogueExchange[]>;
  /** Reads a region's presence from the server. */
  loadPresence: (regionId: string) => Promise<void>;
}

/** A region's presence exactly as the server gives it (GetRegionPresence, RegionPresenceChanged). */
export type Presence = RegionPresence;

const states = new WeakMap<SessionStore, GameplayState>();

/** Resolves once the store has loaded the session (the role is known then). */
export function loaded(store: SessionStore): Promise<void> {
  return new Promise((resolve) => {
    const stop = effect(() => {
      if (!store.loaded.value) return;
      resolve();
      queueMicrotask(() => stop());
    });
  });
}

/** The gameplay state of a store, created (and subscribed to events) on first use: call it when a view mounts. */
export function gameplay(store: SessionStore): GameplayState {
  let s = states.get(store);
  if (s) return s;
  const st: GameplayState = {
    rolls: signal([]),
    attempts: signal({}),
    waiting: signal(null),
    seen: signal(null),
    presence: signal({}),
    pending: signal({}),
    challenges: signal({}),
    loadPresence: async () => undefined,
    drafts: signal([]),
  };
  states.set(store, st);
  s = st;
  const c = store.client;
  const without = <T,>(rec: Record<string, T>, id: string) => Object.fromEntries(Object.entries(rec).filter(([k]) => k !== id));
  c.on("DiceRolled", (e) => (st.rolls.value = [{ roll: e.roll, character_id: e.character_id }, ...st.rolls.value].slice(0, 10)));
  c.on("ChallengePrompt", (e) => (st.attempts.value = { ...st.attempts.value, [e.attempt.id]: { ...e.attempt, challenge_name: e.challenge.name } }));
  c.on("ChallengeRollSubmitted", (e) => {
    const prior = st.attempts.value[e.attempt.id];
    st.attempts.value = {
      ...st.attempts.value,
      [e.attempt.id]: { ...e.attempt, challenge_name: prior?.challenge_name ?? st.challenges.value[e.attempt.challenge_id]?.name ?? "Challenge" },
    };
  });
  c.on("ChallengeResolved", (e) => {
    st.attempts.value = { ...st.attempts.value, [e.attempt.id]: { ...e.attempt, challenge_name: e.challenge_name, outcome_text: e.outcome_text } };
  });
  // Presence: the server's word only. Each event stamps its region, so a read sent before it cannot overwrite it.
  const stamps = new Map<string, number>();
  let clock = 0;
  const expiries = new Map<string, ReturnType<typeof setTimeout>>();
  const setPresence = (p: RegionPresence) => {
    stamps.set(p.region_id, ++clock);
    st.presence.value = { ...st.presence.value, [p.region_id]: p };
    // No event says that a staging ran out: read the region again when it does.
    clearTimeout(expiries.get(p.region_id));
    if (p.expires_at)
      expiries.set(
        p.region_id,
        setTimeout(() => void loadPresence(p.region_id), Math.max(0, Math.min(p.expires_at - Date.now() + 500, 2 ** 31 - 1))),
      );
  };
  const loadPresence = async (regionId: string) => {
    const sent = clock;
    const r = await store.run({ type: "GetRegionPresence", region_id: regionId });
    if (!r || (stamps.get(regionId) ?? 0) > sent) return;
    setPresence(r);
  };
  st.loadPresence = loadPresence;
  c.on("RegionPresenceChanged", (e) => setPresence(e.presence));
  c.on("StagingPending", (e) => (st.waiting.value = { staging_id: e.staging_id, region_name: e.region_name }));
  c.on("PcSceneChanged", (e) => {
    st.seen.value = { region_id: e.region.id, npcs: e.npcs_present };
    st.waiting.value = null;
  });
  c.on("StagingApprovalRequest", (e) => (st.pending.value = { ...st.pending.value, [e.staging.id]: { ...e.staging, region_name: e.region_name } }));
  c.on("StagingApproved", (e) => {
    st.pending.value = without(st.pending.value, e.staging_id);
    if (st.waiting.value?.staging_id === e.staging_id) st.waiting.value = null;
  });
  // The PC's region (players) or every region with a PC (DMs): read its presence when it changes.
  const asked = new Set<string>();
  effect(() => {
    const regions = store.isDm.value
      ? Object.values(store.characters.value)
          .filter((ch) => ch.kind === "pc" && ch.region_id)
          .map((ch) => ch.region_id!)
      : [store.myPc.value?.region_id].filter((r): r is string => !!r);
    for (const r of regions) {
      if (asked.has(r)) continue;
      asked.add(r);
      void c.whenOpen().then(() => loadPresence(r));
    }
  });
  c.onSnapshot(() => {
    asked.clear();
    st.presence.value = {};
  });
  for (const type of ["ChallengeCreated", "ChallengeUpdated"] as const)
    c.on(type, (e) => (st.challenges.value = { ...st.challenges.value, [e.challenge.id]: e.challenge }));
  c.on("ChallengeDeleted", (e) => (st.challenges.value = without(st.challenges.value, e.challenge_id)));
  // What was waiting before this page loaded: the DM's queue, or what the player waits for / must do.
  const attemptOf = (v: { attempt: ChallengeAttempt; challenge_name: string }) => [v.attempt.id, { ...v.attempt, challenge_name: v.challenge_name }] as const;
  void c.whenOpen().then(async () => {
    const list = await store.run({ type: "ListChallenges", limit: 200 });
    if (list) st.challenges.value = Object.fromEntries(list.items.map((x) => [x.id, x]));
    await loaded(store);
    if (store.isDm.peek()) {
      const q = await store.run({ type: "ListDmQueue" });
      if (!q) return;
      st.pending.value = { ...Object.fromEntries(q.stagings.map((p) => [p.staging.id, { ...p.staging, region_name: p.region_name }])), ...st.pending.value };
      st.attempts.value = { ...Object.fromEntries(q.challenge_rolls.map(attemptOf)), ...st.attempts.value };
      st.drafts.value = q.dialogue_drafts;
      return;
    }
    const w = await store.run({ type: "ListMyWaits" });
    if (!w) return;
    st.attempts.value = { ...Object.fromEntries(w.challenges.map(attemptOf)), ...st.attempts.value };
    const s0 = w.stagings[0];
    if (s0 && !st.waiting.value) st.waiting.value = { staging_id: s0.staging_id, region_name: s0.region_name };
    st.drafts.value = w.dialogues;
  });
  return st;
}

/** The server's presence of a region (null while unknown). */
export function usePresence(store: SessionStore, regionId: string | null | undefined): Presence | null {
  const st = gameplay(store);
  return regionId ? (st.presence.value[regionId] ?? null) : null;
}

/** Every die of a roll, dropped ones in brackets: "3 5 (1)". */
export const diceOf = (r: DiceRoll) => r.terms.flatMap((t) => t.dice.map((d) => (d.kept ? String(d.value) : `(${d.value})`))).join(" ");

/** A roll's breakdown: "2d6+1: 3 + 5, +1 = 9". */
export function breakdown(r: DiceRoll, modifier = 0): string {
  const parts = r.terms.map((t) =>
    t.kind === "constant"
      ? `${t.sign < 0 ? "−" : "+"}${Math.abs(t.value)}`
      : `${t.sign < 0 ? "−" : ""}[${t.dice.map((d) => (d.kept ? d.value : `(${d.value})`)).join(", ")}]`,
  );
  const mod = modifier ? ` ${modifier < 0 ? "−" : "+"}${Math.abs(modifier)} (stat)` : "";
  return `${r.formula}: ${parts.join(" ")}${mod} = ${r.total + modifier}`;
}

/** Everyone who plays: roll a formula on the server, for a character, openly or for the DM's eyes. */
export function DicePanel({ store }: { store: SessionStore }) {
  const st = gameplay(store);
  const dm = store.isDm.value;
  const mine = store.myPc.value;
  const chars = dm ? Object.values(store.characters.value) : mine ? [mine] : [];
  const [formula, setFormula] = useState("1d20");
  const [who, setWho] = useState("");
  const [secret, setSecret] = useState(false);
  const character = dm ? who : (mine?.id ?? "");
  const names = (id: string) => store.participants.value[id]?.name ?? "someone";
  const roll = async (e: Event) => {
    e.preventDefault();
    if (!formula.trim()) return;
    await store.run(
      { type: "RollDice", formula: formula.trim(), ...(secret ? { visibility: "dm" as const } : {}), ...(character ? { character_id: character } : {}) },
      { labels: { formula: "Dice" } },
    );
  };
  if (store.you.value?.role === "spectator") return null;
  return (
    <Section title="Dice" id="dice">
      <form class="form dice-form" onSubmit={roll} data-testid="dice-form">
        <div class="field">
          <label for="dice-formula">Dice</label>
          <input
            id="dice-formula"
            value={formula}
            maxLength={100}
            placeholder="2d6+1"
            aria-describedby="dice-hint"
            onInput={(e) => setFormula(e.currentTarget.value)}
          />
          <span id="dice-hint" class="muted small">
            Write them like 2d6+1, 1d20+5 or 4d6kh3.
          </span>
        </div>
        {dm && (
          <div class="field">
            <label for="dice-for">For</label>
            <select id="dice-for" value={who} onChange={(e) => setWho(e.currentTarget.value)}>
              <option value="">Nobody in particular</option>
              {chars.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
        )}
        <label class="check">
          <input type="checkbox" checked={secret} onChange={(e) => setSecret(e.currentTarget.checked)} />
          {dm ? "Secret roll (only DMs see it)" : "Only the DM sees it"}
        </label>
        <div class="actions">
          <button type="submit" disabled={!formula.trim()}>
            {secret ? "Roll secretly" : "Roll"}
          </button>
        </div>
      </form>
      <ul class="list" data-testid="dice-rolls">
        {st.rolls.value.slice(0, 5).map(({ roll: r, character_id }) => (
          <li key={r.id}>
            <strong>{r.total}</strong>{" "}
            <span class="muted">
              ·{" "}
              {character_id
                ? `${store.characters.value[character_id]?.name ?? "a character"} (${names(r.roller_participant_id)})`
                : names(r.roller_participant_id)}{" "}
              · {r.formula} · {diceOf(r)}
            </span>
            {r.visibility !== "public" && <span class="tag">{dm ? "secret" : "DM only"}</span>}
          </li>
        ))}
      </ul>
    </Section>
  );
}

/** The player's side: a staging being decided, who the PC sees, challenges to roll. */
export function PlayerGameplay({ store }: { store: SessionStore }) {
  const st = gameplay(store);
  const mine = Object.values(st.attempts.value).filter((a) => a.participant_id === store.you.value?.id);
  return (
    <>
      {mine.length > 0 && (
        <Section title="Challenges" id="challenge-prompts">
          <ul class="list" data-testid="challenge-prompts">
            {mine.map((a) => (
              <li key={a.id}>
                <strong>{a.challenge_name}</strong>{" "}
                {a.status === "prompted" && (
                  <button type="button" onClick={() => store.run({ type: "SubmitChallengeRoll", challenge_id: a.challenge_id })}>
                    Roll {a.suggested_dice}
                  </button>
                )}
                {a.status === "rolled" && (
                  <span class="muted" data-testid="challenge-waiting">
                    rolled {a.total}
                    {a.roll ? ` (${breakdown(a.roll, a.modifier)})` : ""}; the DM is deciding the outcome…
                  </span>
                )}
                {a.status === "resolved" && a.outcome && (
                  <span data-testid="challenge-outcome">
                    {OUTCOME_WORDS[a.outcome]}
                    {a.outcome_text ? `: ${a.outcome_text}` : ""}
                    {a.narration ? ` — ${a.narration}` : ""}
                  </span>
                )}
              </li>
            ))}
          </ul>
        </Section>
      )}
    </>
  );
}

/** The DM's play tab: pending stagings to approve, challenges to create, trigger and resolve. */
export function DmGameplay({ store }: { store: SessionStore }) {
  return (
    <div class="columns">
      <div class="column">
        <SceneCard store={store} />
        <GameLog store={store} />
      </div>
      <div class="column">
        <DmPresence store={store} />
        <DicePanel store={store} />
        <Challenges store={store} />
      </div>
    </div>
  );
}

export function StagingRequest({ store, staging }: { store: SessionStore; staging: Staging & { region_name?: string } }) {
  const [present, setPresent] = useState<Record<string, boolean>>(() => Object.fromEntries(staging.proposal.map((n) => [n.character_id, n.present])));
  const name = (id: string) => store.characters.value[id]?.name ?? id;
  const region = staging.region_name ?? store.regions.value[staging.region_id]?.name ?? "a region";
  const approve = () =>
    store.run({
      type: "ApproveStaging",
      staging_id: staging.id,
      npcs: staging.proposal.map((n) => ({ character_id: n.character_id, present: !!present[n.character_id], hidden: n.hidden })),
    });
  return (
    <li data-testid="staging-request">
      <strong>{region}</strong>
      {staging.auto_approve_at && <span class="muted"> · approved automatically at {new Date(staging.auto_approve_at).toLocaleTimeString()}</span>}
      <ul class="list">
        {staging.proposal.map((n) => (
          <li key={n.character_id}>
            <label class="check">
              <input
                type="checkbox"
                checked={!!present[n.character_id]}
                onChange={(e) => setPresent({ ...present, [n.character_id]: e.currentTarget.checked })}
              />
              {name(n.character_id)}{" "}
              <span class="muted">
                ({n.reasoning}
                {n.hidden ? ", hidden" : ""})
              </span>
            </label>
          </li>
        ))}
        {staging.proposal.length === 0 && <li class="muted">No NPC has a tie to this region.</li>}
      </ul>
      <button type="button" onClick={approve}>
        Approve staging for {region}
      </button>
    </li>
  );
}

/** The DM's view of presence: each region with a player character, who the server says is there. */
function DmPresence({ store }: { store: SessionStore }) {
  const st = gameplay(store);
  const pcs = Object.values(store.characters.value).filter((c) => c.kind === "pc" && c.region_id);
  const regions = [...new Set(pcs.map((c) => c.region_id!))];
  return (
    <Section title="Who is where" id="dm-presence">
      <ul class="list" data-testid="dm-presence">
        {regions.map((r) => {
          const p = st.presence.value[r];
          const region = store.regions.value[r];
          return (
            <li key={r}>
              <strong>{region?.name ?? "A region"}</strong>{" "}
              <span class="muted">
                ·{" "}
                {pcs
                  .filter((c) => c.region_id === r)
                  .map((c) => c.name)
                  .join(", ")}
              </span>
              <div class="small">
                {!p ? (
                  <span class="muted">…</span>
                ) : p.status === "pending" ? (
                  <span class="waiting">Waiting for you to set who is here (see Needs you).</span>
                ) : p.npcs_present.length === 0 ? (
                  <span class="muted">No NPC{p.status === "fallback" ? " (not staged: NPCs placed here)" : ""}.</span>
                ) : (
                  p.npcs_present.map((n, i) => (
                    <span key={n.character_id}>
                      {i > 0 && ", "}
                      {n.name}
                      {n.hidden && <span class="tag">hidden</span>}
                    </span>
                  ))
                )}
                {p && p.status === "fallback" && p.npcs_present.length > 0 && <span class="muted"> (not staged: placed here)</span>}
              </div>
            </li>
          );
        })}
        {regions.length === 0 && <li class="muted">No player character is anywhere yet.</li>}
      </ul>
    </Section>
  );
}

function Challenges({ store }: { store: SessionStore }) {
  const st = gameplay(store);
  const pcs = Object.values(store.characters.value).filter((c) => c.kind === "pc" && c.owner_participant_id);
  const [pc, setPc] = useState("");
  const target = pc || pcs[0]?.id || "";
  return (
    <Section title="Challenges" id="challenges">
      <h3>Trigger</h3>
      <label class="field">
        <span>Player character</span>
        <select value={target} onChange={(e) => setPc(e.currentTarget.value)}>
          {pcs.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <ul class="list" data-testid="challenge-list">
        {Object.values(st.challenges.value).map((c) => (
          <li key={c.id}>
            <strong>{c.name}</strong>{" "}
            <span class="muted">
              · {c.difficulty.kind === "narrative" ? "narrative" : `${c.difficulty.kind} ${c.difficulty.value}`}
              {c.hidden ? " · hidden" : ""}
            </span>{" "}
            <button type="button" disabled={!target} onClick={() => store.run({ type: "TriggerChallenge", challenge_id: c.id, character_id: target })}>
              Trigger {c.name}
            </button>
          </li>
        ))}
      </ul>
      <h3>New challenge</h3>
      <EntityForm
        fields={[
          { key: "name", label: "Challenge name", required: true },
          { key: "check_stat", label: "Check (stat or skill)", nullable: true },
          { key: "dc", label: "DC", type: "number" },
          { key: "critical", label: "On a critical success", type: "textarea" },
          { key: "success", label: "On success", type: "textarea" },
          { key: "partial", label: "On a partial success", type: "textarea" },
          { key: "failure", label: "On failure", type: "textarea" },
          { key: "critical_failure", label: "On a critical failure", type: "textarea" },
        ]}
        initial={{ dc: 12 }}
        submitLabel="Create challenge"
        testId="challenge-new"
        onSubmit={(d) =>
          store.run(
            {
              type: "CreateChallenge",
              data: {
                name: String(d.name),
                ...(d.check_stat ? { check_stat: String(d.check_stat) } : {}),
                difficulty: { kind: "dc", value: Number(d.dc ?? 12) || 12 },
                outcomes: {
                  critical: String(d.critical ?? ""),
                  success: String(d.success ?? ""),
                  partial: String(d.partial ?? ""),
                  failure: String(d.failure ?? ""),
                  critical_failure: String(d.critical_failure ?? ""),
                },
              },
            },
            { labels: { name: "Challenge name", "difficulty.value": "DC", check_stat: "Check (stat or skill)" } },
          )
        }
      />
    </Section>
  );
}

export const OUTCOMES = ["critical", "success", "partial", "failure", "critical_failure"] as const;
export const OUTCOME_WORDS: Record<ChallengeOutcome, string> = {
  critical: "Critical success",
  success: "Success",
  partial: "Partial success",
  failure: "Failure",
  critical_failure: "Critical failure",
};

const difficultyWords = (c: Challenge | undefined) =>
  !c ? "" : c.difficulty.kind === "dc" ? `DC ${c.difficulty.value}` : c.difficulty.kind === "percentage" ? `${c.difficulty.value}%` : "narrative";

/**
 * A roll to resolve (DM): the roll's breakdown against the difficulty, the four outcome tiers with
 * their texts (the suggested one chosen), the DM's narration; one click accepts the suggestion.
 */
export function RollToResolve({ store, attempt: a }: { store: SessionStore; attempt: ChallengeAttempt & { challenge_name: string } }) {
  const st = gameplay(store);
  const challenge = st.challenges.value[a.challenge_id];
  const [outcome, setOutcome] = useState<ChallengeOutcome>(a.suggested_outcome ?? "success");
  const [narration, setNarration] = useState("");
  const who = store.characters.value[a.character_id]?.name ?? "A player character";
  const resolve = (o: ChallengeOutcome) =>
    store.run(
      { type: "ResolveChallenge", attempt_id: a.id, outcome: o, ...(narration.trim() ? { narration: narration.trim() } : {}) },
      { labels: { narration: "Narration" } },
    );
  const group = `outcome-${a.id}`;
  return (
    <div class="resolve" data-testid="roll-to-resolve">
      <div>
        <strong>{a.challenge_name}</strong> · {who} rolled <strong>{a.total}</strong>
        {challenge && <span class="muted"> against {difficultyWords(challenge)}</span>}
      </div>
      {a.roll && (
        <div class="muted small" data-testid="roll-breakdown">
          {breakdown(a.roll, a.modifier)}
          {a.modifier ? ` (${challenge?.check_stat ?? "stat"} ${a.modifier >= 0 ? "+" : ""}${a.modifier})` : ""}
        </div>
      )}
      <fieldset class="outcomes">
        <legend>Outcome{a.suggested_outcome ? ` (suggested: ${OUTCOME_WORDS[a.suggested_outcome].toLowerCase()})` : ""}</legend>
        {OUTCOMES.map((o) => {
          const text = challenge?.outcomes?.[o];
          return (
            <label key={o} class="check outcome">
              <input type="radio" name={group} value={o} checked={outcome === o} onChange={() => setOutcome(o)} />
              <span>
                {OUTCOME_WORDS[o]}
                {text ? <span class="muted small"> — {text}</span> : <span class="muted small"> (no text)</span>}
              </span>
            </label>
          );
        })}
      </fieldset>
      <label class="field">
        <span>Narration (what the table hears)</span>
        <textarea rows={2} value={narration} maxLength={5000} onInput={(e) => setNarration(e.currentTarget.value)} />
      </label>
      <div class="buttons">
        <button type="button" onClick={() => resolve(outcome)}>
          Resolve: {OUTCOME_WORDS[outcome].toLowerCase()}
        </button>
        {a.suggested_outcome && outcome !== a.suggested_outcome && (
          <button type="button" class="small" onClick={() => resolve(a.suggested_outcome!)}>
            Accept {OUTCOME_WORDS[a.suggested_outcome].toLowerCase()}
          </button>
        )}
      </div>
    </div>
  );
}
