import { signal } from "@preact/signals";
import { Characters, Goals, Places, Prompts, Scenes, Story } from "./dm-editors";
import { DmGameplay, gameplay } from "./gameplay";
import { NeedsYou, useQueueTitle } from "./needs-you";
import { Images } from "./images";
import type { SessionStore } from "./session-store";
import { EntityForm, Section } from "./ui";
import { Participants, SceneCard, Timeline, WorldHeader } from "./world-views";

/** The DM's page: everything, with an editor per kind of world content. */

const TABS = ["Play", "Overview", "Characters", "Places", "Scenes", "Goals", "Story", "Prompts", "Images"] as const;
type Tab = (typeof TABS)[number];
/** The session opens on the table (the game log, who is where, dice, challenges). */
const tab = signal<Tab>("Play");

export function DmView({ store }: { store: SessionStore }) {
  gameplay(store); // follows stagings and challenges from the start, whichever tab is open
  useQueueTitle(store);
  return (
    <>
      <nav class="tabs" aria-label="DM sections">
        {TABS.map((t) => (
          <button type="button" key={t} class={tab.value === t ? "tab active" : "tab"} aria-pressed={tab.value === t} onClick={() => (tab.value = t)}>
            {t}
          </button>
        ))}
      </nav>
      <NeedsYou store={store} />
      {tab.value === "Overview" && (
        <div class="columns">
          <div class="column">
            <WorldHeader store={store} />
            <SceneCard store={store} />
            <Invite store={store} />
            <WorldAndSettings store={store} />
          </div>
          <div class="column">
            <Participants store={store} onKick={(id) => void store.run({ type: "KickParticipant", participant_id: id })} />
            <Timeline store={store} />
          </div>
        </div>
      )}
      {tab.value === "Play" && <DmGameplay store={store} />}
      {tab.value === "Characters" && <Characters store={store} />}
      {tab.value === "Places" && <Places store={store} />}
      {tab.value === "Scenes" && <Scenes store={store} />}
      {tab.value === "Goals" && <Goals store={store} />}
      {tab.value === "Story" && <Story store={store} />}
      {tab.value === "Prompts" && <Prompts store={store} />}
      {tab.value === "Images" && <Images store={store} />}
    </>
  );
}

function Invite({ store }: { store: SessionStore }) {
  const world = store.world.value;
  return (
    <Section title="Invite players" id="invite">
      <InviteCode store={store} />
      {world && <p class="muted small">Players open the link, pick a name and are in.</p>}
    </Section>
  );
}

/**
 * The invite code is not in the snapshot: the DM's grant carried it, and every rotation (a kick
 * rotates it too) brings the new one. Rotating shuts the old link at once.
 */
function InviteCode({ store }: { store: SessionStore }) {
  const code = store.invite.value;
  const rotate = (
    <button type="button" class="small" onClick={() => void store.rotateInvite()} data-testid="rotate-invite">
      New invite code
    </button>
  );
  if (!code) return <p class="muted">The invite code was shown when the session was created. {rotate}</p>;
  const link = `${location.origin}/join/${code}`;
  return (
    <p>
      Code <code data-testid="invite-code">{code}</code> · link{" "}
      <a href={link} data-testid="invite-link">
        {link}
      </a>{" "}
      {rotate}
    </p>
  );
}

/** The world's name and description, and the session's settings. */
function WorldAndSettings({ store }: { store: SessionStore }) {
  const world = store.world.value;
  const settings = store.settings.value;
  return (
    <Section title="World and settings" id="world-settings">
      {world && (
        <EntityForm
          key={`world-${world.version}`}
          fields={[
            { key: "name", label: "World name", required: true },
            { key: "description", label: "World description", type: "textarea" },
          ]}
          initial={world}
          submitLabel="Save world"
          onSubmit={(data) => store.run({ type: "UpdateWorld", data, expected_version: world.version })}
        />
      )}
      {settings && (
        <EntityForm
          key={`settings-${JSON.stringify(settings)}`}
          fields={[
            { key: "allow_player_characters", label: "Players may create their own character", type: "checkbox" },
            { key: "dialogue_approval", label: "Approve NPC dialogue before players see it", type: "checkbox" },
            { key: "auto_approve_staging", label: "Approve staging automatically", type: "checkbox" },
            { key: "staging_timeout_seconds", label: "Seconds before staging is approved automatically", type: "number" },
          ]}
          initial={settings}
          submitLabel="Save settings"
          onSubmit={(data) => store.run({ type: "UpdateSessionSettings", data })}
        />
      )}
      {settings?.player_stat_edits && <StatRule store={store} rule={settings.player_stat_edits} />}
    </Section>
  );
}

/** Which stats players may change on their own character, within which bounds (DMs are not bound). */
function StatRule({ store, rule }: { store: SessionStore; rule: { stats: string[]; min: number; max: number } }) {
  return (
    <EntityForm
      key={`stats-${JSON.stringify(rule)}`}
      testId="stat-rule"
      fields={[
        { key: "stats", label: "Stats players may change (comma-separated; * for all; empty for none)" },
        { key: "min", label: "Lowest value a player may set", type: "number" },
        { key: "max", label: "Highest value a player may set", type: "number" },
      ]}
      initial={{ stats: rule.stats.join(", "), min: rule.min, max: rule.max }}
      submitLabel="Save stat rule"
      onSubmit={(d) =>
        store.run(
          {
            type: "UpdateSessionSettings",
            data: {
              player_stat_edits: {
                stats: String(d.stats ?? rule.stats.join(","))
                  .split(",")
                  .map((x) => x.trim())
                  .filter(Boolean),
                min: d.min === undefined ? rule.min : Number(d.min),
                max: d.max === undefined ? rule.max : Number(d.max),
              },
            },
          },
          {
            labels: {
              "player_stat_edits.min": "Lowest value a player may set",
              "player_stat_edits.max": "Highest value a player may set",
              "player_stat_edits.stats": "Stats players may change",
            },
          },
        )
      }
    />
  );
}
