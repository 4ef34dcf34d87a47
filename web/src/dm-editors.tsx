import type { Character } from "../../src/client";
import type { Scene } from "../../src/client";
import { ListEditor, locationOptions, opts, regionOptions, sorted } from "./list-editor";
import { Inventory } from "./player";
import type { SessionStore } from "./session-store";
import { Editable, EntityForm, Section, type FieldSpec } from "./ui";
import { CharacterLine, regionLabel } from "./world-views";

/** The DM's editors, one per tab: characters, places, scenes, goals, story events, prompt templates. */
function characterFields(store: SessionStore): FieldSpec[] {
  const players = Object.values(store.participants.value).filter((p) => p.role === "player" && !p.kicked);
  return [
    { key: "name", label: "Name", required: true },
    { key: "description", label: "Description", type: "textarea" },
    { key: "archetype", label: "Archetype", nullable: true },
    { key: "region_id", label: "Region", type: "select", options: regionOptions(store, "— nowhere —") },
    {
      key: "owner_participant_id",
      label: "Played by",
      type: "select",
      options: opts(
        players.map((p) => [p.id, p.name]),
        "— nobody —",
      ),
    },
    { key: "dm_notes", label: "DM notes (never shown to players)", type: "textarea" },
    { key: "hidden", label: "Hidden from players (NPCs only)", type: "checkbox" },
    { key: "is_alive", label: "Alive", type: "checkbox" },
    { key: "is_active", label: "Active", type: "checkbox" },
  ];
}

export function Characters({ store }: { store: SessionStore }) {
  const fields = characterFields(store);
  return (
    <ListEditor<Character>
      store={store}
      title="Characters"
      id="characters"
      items={sorted(Object.values(store.characters.value))}
      label={(c) => (
        <>
          <CharacterLine c={c} store={store} /> <span class="muted small">· {c.kind.toUpperCase()}</span>
        </>
      )}
      fields={fields}
      createFields={[
        {
          key: "kind",
          label: "Kind",
          type: "select",
          options: [
            ["npc", "NPC"],
            ["pc", "Player character"],
          ],
        },
        { key: "name", label: "Name", required: true },
        { key: "description", label: "Description", type: "textarea" },
        { key: "dm_notes", label: "DM notes (never shown to players)", type: "textarea" },
        { key: "hidden", label: "Hidden from players (NPCs only)", type: "checkbox" },
      ]}
      create={(data) => store.run({ type: "CreateCharacter", data: { ...data, kind: (data.kind as "npc" | "pc") ?? "npc", name: String(data.name) } })}
      update={(c, data) => store.edit(store.characters, c.id, data, { type: "UpdateCharacter", character_id: c.id, data, expected_version: c.version })}
      remove={(c) => store.run({ type: "DeleteCharacter", character_id: c.id })}
      extra={(c) => <CharacterExtras store={store} c={c} />}
      onOpen={(c) => void store.loadInventory(c.id)}
    />
  );
}

/** Stats and inventory of one character (the inventory is read when the editor opens). */
function CharacterExtras({ store, c }: { store: SessionStore; c: Character }) {
  const items = Object.values(store.items.value).filter((i) => i.character_id === c.id);
  return (
    <div class="extras">
      <h3>Stats</h3>
      <p class="muted small">
        {Object.entries(c.stats)
          .map(([k, v]) => `${k} ${v}`)
          .join(" · ") || "none"}
      </p>
      <EntityForm
        fields={[
          { key: "stat", label: "Stat", required: true },
          { key: "value", label: "Value (empty removes it)" },
        ]}
        submitLabel="Set stat"
        onSubmit={(data) => {
          const stat = String(data.stat);
          const value = data.value === "" || data.value === undefined ? null : Number(data.value);
          return store.run({ type: "SetCharacterStat", character_id: c.id, stat, value });
        }}
      />
      <h3>Inventory</h3>
      <Inventory store={store} characterId={c.id} items={items} />
    </div>
  );
}

export function Places({ store }: { store: SessionStore }) {
  const regions = Object.values(store.regions.value);
  return (
    <div class="columns">
      <div class="column">
        <ListEditor
          store={store}
          title="Locations"
          id="locations"
          items={sorted(Object.values(store.locations.value))}
          label={(l) => <strong>{l.name}</strong>}
          fields={[
            { key: "name", label: "Name", required: true },
            {
              key: "location_type",
              label: "Type",
              type: "select",
              options: [
                ["interior", "Interior"],
                ["exterior", "Exterior"],
                ["abstract", "Abstract"],
              ],
            },
            { key: "description", label: "Description", type: "textarea" },
            { key: "atmosphere", label: "Atmosphere", nullable: true },
            { key: "default_region_id", label: "Default region", type: "select", options: regionOptions(store, "— none —") },
          ]}
          create={(data) => store.run({ type: "CreateLocation", data: { ...data, name: String(data.name) } })}
          update={(l, data) => store.edit(store.locations, l.id, data, { type: "UpdateLocation", location_id: l.id, data, expected_version: l.version })}
          remove={(l) => store.run({ type: "DeleteLocation", location_id: l.id })}
        />
        <ListEditor
          store={store}
          title="Regions"
          id="regions"
          items={[...regions].sort((a, b) => regionLabel(store, a).localeCompare(regionLabel(store, b)))}
          label={(r) => <strong>{regionLabel(store, r)}</strong>}
          fields={[
            { key: "name", label: "Name", required: true },
            { key: "description", label: "Description", type: "textarea" },
            { key: "atmosphere", label: "Atmosphere", nullable: true },
            { key: "sort_order", label: "Order", type: "number" },
            { key: "is_spawn_point", label: "Players may start here", type: "checkbox" },
          ]}
          createFields={[
            { key: "location_id", label: "Location", type: "select", options: locationOptions(store), required: true },
            { key: "name", label: "Name", required: true },
            { key: "description", label: "Description", type: "textarea" },
            { key: "is_spawn_point", label: "Players may start here", type: "checkbox" },
          ]}
          create={({ location_id, ...data }) =>
            store.run({ type: "CreateRegion", location_id: String(location_id ?? ""), data: { ...data, name: String(data.name) } })
          }
          update={(r, data) => store.edit(store.regions, r.id, data, { type: "UpdateRegion", region_id: r.id, data, expected_version: r.version })}
          remove={(r) => store.run({ type: "DeleteRegion", region_id: r.id })}
        />
      </div>
      <div class="column">
        <ListEditor
          store={store}
          title="Connections"
          id="connections"
          items={Object.values(store.connections.value)}
          label={(w) => (
            <>
              {regionLabel(store, store.regions.value[w.from_region_id])} {w.bidirectional ? "↔" : "→"}{" "}
              {regionLabel(store, store.regions.value[w.to_region_id])}
              {w.is_locked && <span class="tag">locked</span>}
            </>
          )}
          fields={[
            { key: "bidirectional", label: "Both ways", type: "checkbox" },
            { key: "is_locked", label: "Locked", type: "checkbox" },
            { key: "lock_description", label: "Why it is locked", nullable: true },
          ]}
          createFields={[
            { key: "from_region_id", label: "From", type: "select", options: regionOptions(store), required: true },
            { key: "to_region_id", label: "To", type: "select", options: regionOptions(store), required: true },
            { key: "bidirectional", label: "Both ways", type: "checkbox" },
            { key: "is_locked", label: "Locked", type: "checkbox" },
          ]}
          create={(data) =>
            store.run({
              type: "CreateRegionConnection",
              data: { ...data, from_region_id: String(data.from_region_id ?? ""), to_region_id: String(data.to_region_id ?? "") },
            })
          }
          update={(w, data) =>
            store.edit(store.connections, w.id, data, { type: "UpdateRegionConnection", region_connection_id: w.id, data, expected_version: w.version })
          }
          remove={(w) => store.run({ type: "DeleteRegionConnection", region_connection_id: w.id })}
        />
      </div>
    </div>
  );
}

export function Scenes({ store }: { store: SessionStore }) {
  const active = store.activeScene.value?.id;
  const fields: FieldSpec[] = [
    { key: "name", label: "Name", required: true },
    { key: "location_id", label: "Location", type: "select", options: locationOptions(store, "— none —") },
    { key: "time_context", label: "Time" },
    { key: "description", label: "Description", type: "textarea" },
    { key: "directorial_notes", label: "Directorial notes (DM only)", type: "textarea" },
  ];
  return (
    <ListEditor<Scene>
      store={store}
      title="Scenes"
      id="scenes"
      items={sorted(Object.values(store.scenes.value))}
      label={(s) => (
        <>
          <strong>{s.name}</strong>
          {s.id === active && <span class="tag on">active</span>}
        </>
      )}
      fields={fields}
      create={(data) => store.run({ type: "CreateScene", data: { ...data, name: String(data.name) } })}
      update={(s, data) => store.edit(store.scenes, s.id, data, { type: "UpdateScene", scene_id: s.id, data, expected_version: s.version })}
      remove={(s) => store.run({ type: "DeleteScene", scene_id: s.id })}
      extra={(s) => (
        <div class="extras">
          <div class="buttons">
            <button type="button" disabled={s.id === active} onClick={() => void store.run({ type: "SetActiveScene", scene_id: s.id })}>
              Make active
            </button>
            {s.id === active && (
              <button type="button" onClick={() => void store.run({ type: "SetActiveScene", scene_id: null })}>
                End scene
              </button>
            )}
          </div>
          <EntityForm
            key={`backdrop-${s.id}-${s.version}`}
            fields={[{ key: "backdrop_asset_id", label: "Backdrop image (asset id)", nullable: true }]}
            initial={s}
            submitLabel="Set backdrop"
            onSubmit={(data) => store.run({ type: "SetSceneBackdrop", scene_id: s.id, backdrop_asset_id: (data.backdrop_asset_id as string | null) ?? null })}
          />
        </div>
      )}
    />
  );
}

export function Goals({ store }: { store: SessionStore }) {
  return (
    <ListEditor
      store={store}
      title="Goals"
      id="goals"
      items={sorted(Object.values(store.goals.value))}
      label={(g) => <strong>{g.name}</strong>}
      fields={[
        { key: "name", label: "Name", required: true },
        { key: "description", label: "Description", type: "textarea" },
      ]}
      create={(data) => store.run({ type: "CreateGoal", data: { ...data, name: String(data.name) } })}
      update={(g, data) => store.edit(store.goals, g.id, data, { type: "UpdateGoal", goal_id: g.id, data, expected_version: g.version })}
      remove={(g) => store.run({ type: "DeleteGoal", goal_id: g.id })}
    />
  );
}

export function Story({ store }: { store: SessionStore }) {
  const events = Object.values(store.storyEvents.value).sort((a, b) => b.created_at - a.created_at);
  return (
    <ListEditor
      store={store}
      title="Story events"
      id="story"
      items={events}
      label={(e) => (
        <>
          {e.summary}
          {e.hidden && <span class="tag">hidden</span>}
        </>
      )}
      fields={[
        { key: "summary", label: "Summary", type: "textarea", required: true },
        { key: "game_time", label: "In-game time", nullable: true },
      ]}
      createFields={[
        { key: "summary", label: "Summary", type: "textarea", required: true },
        { key: "game_time", label: "In-game time", nullable: true },
        { key: "hidden", label: "Hidden from players", type: "checkbox" },
      ]}
      create={(data) => store.run({ type: "CreateStoryEvent", data: { ...data, summary: String(data.summary) } })}
      update={(e, data) => store.edit(store.storyEvents, e.id, data, { type: "UpdateStoryEvent", story_event_id: e.id, data, expected_version: e.version })}
      remove={(e) => store.run({ type: "DeleteStoryEvent", story_event_id: e.id })}
      extra={(e) => (
        <button
          type="button"
          onClick={() =>
            void store.edit(
              store.storyEvents,
              e.id,
              { hidden: !e.hidden },
              { type: "SetStoryEventVisibility", story_event_id: e.id, hidden: !e.hidden, expected_version: e.version },
            )
          }
        >
          {e.hidden ? "Reveal to players" : "Hide from players"}
        </button>
      )}
    />
  );
}

export function Prompts({ store }: { store: SessionStore }) {
  const templates = Object.values(store.prompts.value).sort((a, b) => a.key.localeCompare(b.key));
  return (
    <Section title="Prompt templates" id="prompts">
      <ul class="list">
        {templates.map((t) => (
          <li key={t.key}>
            <Editable
              title={
                <>
                  <strong>{t.label}</strong>{" "}
                  <span class="muted small">
                    · {t.category}
                    {t.override !== null ? " · customised" : ""}
                  </span>
                </>
              }
            >
              <p class="muted small">{t.description}</p>
              <p class="muted small">Placeholders: {t.placeholders.map((p) => `{${p}}`).join(" ") || "none"}</p>
              <EntityForm
                key={`${t.key}-${t.version}`}
                fields={[{ key: "value", label: "Text", type: "textarea", required: true }]}
                initial={t}
                submitLabel="Save"
                onSubmit={(data) => store.run({ type: "SetPromptTemplate", key: t.key, value: String(data.value), expected_version: t.version })}
              >
                <button type="button" disabled={t.override === null} onClick={() => void store.run({ type: "ResetPromptTemplate", key: t.key })}>
                  Reset to default
                </button>
              </EntityForm>
            </Editable>
          </li>
        ))}
      </ul>
    </Section>
  );
}
