import { signal, type Signal } from "@preact/signals";
import { useState } from "preact/hooks";
import type { ChallengeAttempt, Challenge, DiceRoll, PresentNpc, Staging } from "../../src/client";
import type { SessionStore } from "./session-store";
import { EntityForm, Section } from "./ui";

/**
 * Gameplay panels: dice for everyone, the player's challenge prompts and staging wait, the DM's
 * staging approvals and challenges. Their state lives beside the SessionStore (one per store),
 * fed by the SDK's events; what a participant may not see never arrives.
 */

interface GameplayState {
  rolls: Signal<DiceRoll[]>;
  /** Player: attempts it was prompted for, by id (resolved ones carry their outcome text). */
  attempts: Signal<Record<string, ChallengeAttempt & { challenge_name: string; outcome_text?: string }>>;
  /** Player: the staging it waits for, if any. */
  waiting: Signal<{ staging_id: string; region_name: string } | null>;
  /** Player: who its PC sees in its region (the last PcSceneChanged). */
  seen: Signal<{ region_id: string; npcs: PresentNpc[] } | null>;
  /** DM: pending stagings by id. */
  pending: Signal<Record<string, Staging & { region_name?: string }>>;
  /** DM: the challenges. */
  challenges: Signal<Record<string, Challenge>>;
}

const states = new WeakMap<SessionStore, GameplayState>();

/** The gameplay state of a store, created (and subscribed to events) on first use: call it when a view mounts. */
export function gameplay(store: SessionStore): GameplayState {
  let s = states.get(store);
  if (s) return s;
  const st: GameplayState = {
    rolls: signal([]),
    attempts: signal({}),
    waiting: signal(null),
    seen: signal(null),
    pending: signal({}),
    challenges: signal({}),
  };
  states.set(store, st);
  s = st;
  const c = store.client;
  const without = <T,>(rec: Record<string, T>, id: string) => Object.fromEntries(Object.entries(rec).filter(([k]) => k !== id));
  c.on("DiceRolled", (e) => (st.rolls.value = [e.roll, ...st.rolls.value].slice(0, 10)));
  c.on("ChallengePrompt", (e) => (st.attempts.value = { ...st.attempts.value, [e.attempt.id]: { ...e.attempt, challenge_name: e.challenge.name } }));
  c.on("ChallengeRollSubmitted", (e) => {
    const prior = st.attempts.value[e.attempt.id];
    st.attempts.value = { ...st.attempts.value, [e.attempt.id]: { ...e.attempt, challenge_name: prior?.challenge_name ?? st.challenges.value[e.attempt.challenge_id]?.name ?? "Challenge" } };
  });
  c.on("ChallengeResolved", (e) => {
    st.attempts.value = { ...st.attempts.value, [e.attempt.id]: { ...e.attempt, challenge_name: e.challenge_name, outcome_text: e.outcome_text } };
  });
  c.on("StagingPending", (e) => (st.waiting.value = { staging_id: e.staging_id, region_name: e.region_name }));
  c.on("PcSceneChanged", (e) => {
    st.seen.value = { region_id: e.region.id, npcs: e.npcs_present };
    st.waiting.value = null;
  });
  c.on("StagingApprovalRequest", (e) => (st.pending.value = { ...st.pending.value, [e.staging.id]: { ...e.staging, region_name: e.region_name } }));
  c.on("StagingApproved", (e) => (st.pending.value = without(st.pending.value, e.staging_id)));
  for (const type of ["ChallengeCreated", "ChallengeUpdated"] as const) c.on(type, (e) => (st.challenges.value = { ...st.challenges.value, [e.challenge.id]: e.challenge }));
  c.on("ChallengeDeleted", (e) => (st.challenges.value = without(st.challenges.value, e.challenge_id)));
  // What was pending before this page loaded.
  void c.whenOpen().then(async () => {
    const snap = await store.run({ type: "GetSessionSnapshot" });
    if (snap?.pending_stagings) st.pending.value = Object.fromEntries(snap.pending_stagings.map((p) => [p.id, { ...p, ...st.pending.value[p.id] }]));
    const list = await store.run({ type: "ListChallenges", limit: 200 });
    if (list) st.challenges.value = Object.fromEntries(list.items.map((x) => [x.id, x]));
    if (snap?.you.role !== "dm") return;
    const open = await store.run({ type: "ListChallengeAttempts", open_only: true, limit: 200 });
    const name = (a: ChallengeAttempt) => st.challenges.value[a.challenge_id]?.name ?? "Challenge";
    if (open) st.attempts.value = { ...Object.fromEntries(open.items.map((a) => [a.id, { ...a, challenge_name: name(a) }])), ...st.attempts.value };
  });
  return st;
}

const dice = (r: DiceRoll) => r.terms.flatMap((t) => t.dice.map((d) => (d.kept ? String(d.value) : `(${d.value})`))).join(" ");

/** Everyone who plays: roll a formula on the server; the last rolls this participant received. */
export function DicePanel({ store }: { store: SessionStore }) {
  const st = gameplay(store);
  const names = (id: string) => store.participants.value[id]?.name ?? "someone";
  return (
    <Section title="Dice" id="dice">
      {store.you.value?.role !== "spectator" && (
        <EntityForm
          fields={[{ key: "formula", label: "Dice formula", required: true }]}
          initial={{ formula: "1d20" }}
          submitLabel="Roll"
          testId="dice-form"
          onSubmit={(data) => store.run({ type: "RollDice", formula: String(data.formula ?? "1d20") })}
        />
      )}
      <ul class="list" data-testid="dice-rolls">
        {st.rolls.value.map((r) => (
          <li key={r.id}>
            <strong>{r.total}</strong> <span class="muted">· {r.formula} · {dice(r)} · {names(r.roller_participant_id)}</span>
          </li>
        ))}
        {st.rolls.value.length === 0 && <li class="muted">No rolls yet.</li>}
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
      <Section title="Presence" id="presence">
        {st.waiting.value && <p data-testid="staging-pending">The DM is deciding who is in {st.waiting.value.region_name}…</p>}
        <ul class="list" data-testid="staged-present">
          {(st.seen.value?.npcs ?? []).map((n) => (
            <li key={n.character_id}>{n.name}</li>
          ))}
          {!st.waiting.value && (st.seen.value?.npcs.length ?? 0) === 0 && <li class="muted">Nobody you can see.</li>}
        </ul>
      </Section>
      {mine.length > 0 && (
        <Section title="Challenges" id="challenge-prompts">
          <ul class="list" data-testid="challenge-prompts">
            {mine.map((a) => (
              <li key={a.id}>
                <strong>{a.challenge_name}</strong>{" "}
                {a.status === "prompted" && (
                  <button onClick={() => store.run({ type: "SubmitChallengeRoll", challenge_id: a.challenge_id })}>Roll {a.suggested_dice}</button>
                )}
                {a.status === "rolled" && <span class="muted">rolled {a.total}; the DM decides…</span>}
                {a.status === "resolved" && (
                  <span data-testid="challenge-outcome">
                    {a.outcome}
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
        <StagingApprovals store={store} />
        <DicePanel store={store} />
      </div>
      <div class="column">
        <Challenges store={store} />
      </div>
    </div>
  );
}

function StagingApprovals({ store }: { store: SessionStore }) {
  const st = gameplay(store);
  const pending = Object.values(st.pending.value);
  return (
    <Section title="Staging approvals" id="staging">
      <ul class="list" data-testid="staging-requests">
        {pending.map((s) => (
          <StagingRequest key={s.id} store={store} staging={s} />
        ))}
        {pending.length === 0 && <li class="muted">Nothing to approve.</li>}
      </ul>
    </Section>
  );
}

function StagingRequest({ store, staging }: { store: SessionStore; staging: Staging & { region_name?: string } }) {
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
              <input type="checkbox" checked={!!present[n.character_id]} onChange={(e) => setPresent({ ...present, [n.character_id]: e.currentTarget.checked })} />
              {name(n.character_id)} <span class="muted">({n.reasoning}{n.hidden ? ", hidden" : ""})</span>
            </label>
          </li>
        ))}
        {staging.proposal.length === 0 && <li class="muted">No NPC has a tie to this region.</li>}
      </ul>
      <button onClick={approve}>Approve staging for {region}</button>
    </li>
  );
}

function Challenges({ store }: { store: SessionStore }) {
  const st = gameplay(store);
  const pcs = Object.values(store.characters.value).filter((c) => c.kind === "pc" && c.owner_participant_id);
  const rolled = Object.values(st.attempts.value).filter((a) => a.status === "rolled");
  const [pc, setPc] = useState("");
  const target = pc || pcs[0]?.id || "";
  return (
    <Section title="Challenges" id="challenges">
      <h3>Rolls to resolve</h3>
      <ul class="list" data-testid="challenge-rolls">
        {rolled.map((a) => (
          <li key={a.id}>
            <strong>{a.challenge_name}</strong> · {store.characters.value[a.character_id]?.name ?? "a PC"} rolled <strong>{a.total}</strong>{" "}
            <span class="muted">(suggested: {a.suggested_outcome})</span>{" "}
            <button onClick={() => store.run({ type: "ResolveChallenge", attempt_id: a.id })}>Accept {a.suggested_outcome}</button>
            {(["success", "failure"] as const)
              .filter((o) => o !== a.suggested_outcome)
              .map((o) => (
                <button key={o} class="small" onClick={() => store.run({ type: "ResolveChallenge", attempt_id: a.id, outcome: o })}>
                  {o}
                </button>
              ))}
          </li>
        ))}
        {rolled.length === 0 && <li class="muted">None.</li>}
      </ul>
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
            <strong>{c.name}</strong> <span class="muted">· {c.difficulty.kind === "narrative" ? "narrative" : `${c.difficulty.kind} ${c.difficulty.value}`}{c.hidden ? " · hidden" : ""}</span>{" "}
            <button disabled={!target} onClick={() => store.run({ type: "TriggerChallenge", challenge_id: c.id, character_id: target })}>
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
          { key: "success", label: "On success", type: "textarea" },
          { key: "failure", label: "On failure", type: "textarea" },
        ]}
        initial={{ dc: 12 }}
        submitLabel="Create challenge"
        testId="challenge-new"
        onSubmit={(d) =>
          store.run({
            type: "CreateChallenge",
            data: {
              name: String(d.name),
              ...(d.check_stat ? { check_stat: String(d.check_stat) } : {}),
              difficulty: { kind: "dc", value: Number(d.dc ?? 12) || 12 },
              outcomes: { success: String(d.success ?? ""), failure: String(d.failure ?? "") },
            },
          })
        }
      />
    </Section>
  );
}
