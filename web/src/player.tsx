import type { Character, InventoryItem } from "../../src/client";
import type { SessionStore } from "./session-store";
import { EntityForm, Section } from "./ui";
import { DicePanel, PlayerGameplay, gameplay, usePresence } from "./gameplay";
import { DialoguePanel } from "./dialogue-panel";
import { PlayerWaits } from "./needs-you";
import { GameLog } from "./game-log";
import { CharacterLine, Npcs, Participants, regionLabel, SceneCard, Timeline, WorldHeader } from "./world-views";

/** The player's page: the world, the scene, where its PC is, its sheet, who and what it may see. */
export function PlayerView({ store }: { store: SessionStore }) {
  const pc = store.myPc.value;
  const spectator = store.you.value?.role === "spectator";
  gameplay(store); // follows prompts and presence from the start
  return (
    <>
      <PlayerWaits store={store} />
      <div class="columns">
        <div class="column">
          <WorldHeader store={store} />
          <SceneCard store={store} />
          <GameLog store={store} />
        </div>
        <div class="column">
          {pc ? <Whereabouts store={store} pc={pc} /> : !spectator && <CreatePc store={store} />}
          {pc && <DialoguePanel store={store} pc={pc} />}
          {pc && <PlayerGameplay store={store} />}
          <DicePanel store={store} />
          {pc && <Sheet store={store} pc={pc} />}
          <Npcs store={store} />
          <Timeline store={store} />
          <Participants store={store} />
        </div>
      </div>
    </>
  );
}

function CreatePc({ store }: { store: SessionStore }) {
  if (store.settings.value && !store.settings.value.allow_player_characters) {
    return (
      <Section title="Your character" id="sheet">
        <p class="muted">The DM creates player characters in this session.</p>
      </Section>
    );
  }
  return (
    <Section title="Create your character" id="sheet">
      <EntityForm
        fields={[
          { key: "name", label: "Name", required: true },
          { key: "description", label: "Description", type: "textarea" },
        ]}
        submitLabel="Create character"
        onSubmit={(data) => store.run({ type: "CreateCharacter", data: { kind: "pc", name: String(data.name), description: String(data.description ?? "") } })}
      />
    </Section>
  );
}

/** The PC's region, who is present there, and the ways out. */
function Whereabouts({ store, pc }: { store: SessionStore; pc: Character }) {
  const region = pc.region_id ? store.regions.value[pc.region_id] : undefined;
  const ways = Object.values(store.connections.value)
    .filter((w) => region && (w.from_region_id === region.id || (w.bidirectional && w.to_region_id === region.id)))
    .map((w) => ({ way: w, to: store.regions.value[w.from_region_id === region!.id ? w.to_region_id : w.from_region_id] }))
    .filter((w) => w.to);
  const spawns = Object.values(store.regions.value).filter((r) => r.is_spawn_point);
  const move = (regionId: string) => store.run({ type: "MoveToRegion", character_id: pc.id, region_id: regionId });
  return (
    <Section title="Where you are" id="region">
      <p>
        <strong data-testid="region-name">{regionLabel(store, region)}</strong>
      </p>
      {region?.description && <p>{region.description}</p>}
      {region?.atmosphere && <p class="muted">{region.atmosphere}</p>}
      <h3>Here with you</h3>
      <HereWithYou store={store} regionId={region?.id ?? null} />
      <h3>Go to</h3>
      <div class="buttons">
        {region
          ? ways.map(({ way, to }) => (
              <button
                type="button"
                key={way.id}
                disabled={way.is_locked}
                title={way.is_locked ? (way.lock_description ?? "Locked") : undefined}
                onClick={() => move(to!.id)}
              >
                {to!.name}
                {way.is_locked ? " (locked)" : ""}
              </button>
            ))
          : spawns.map((r) => (
              <button type="button" key={r.id} onClick={() => move(r.id)}>
                Enter {regionLabel(store, r)}
              </button>
            ))}
        {region && ways.length === 0 && <span class="muted">No way leads on from here.</span>}
      </div>
    </Section>
  );
}

/**
 * Who is here, as the server's presence says (the approved staging, or its fallback): never
 * worked out from the NPCs' own region. While the DM decides, nobody is offered.
 */
function HereWithYou({ store, regionId }: { store: SessionStore; regionId: string | null }) {
  const presence = usePresence(store, regionId);
  if (!regionId) return <p class="muted">You are nowhere yet: enter a place below.</p>;
  if (!presence) return <p class="muted">Looking around…</p>;
  if (presence.status === "pending") {
    return (
      <p class="waiting" data-testid="staging-pending" role="status">
        Waiting for the DM to set who is here…
      </p>
    );
  }
  return (
    <ul class="list" data-testid="present">
      {presence.npcs_present.map((n) => {
        const c = store.characters.value[n.character_id];
        return <li key={n.character_id}>{c ? <CharacterLine c={c} store={store} /> : <strong>{n.name}</strong>}</li>;
      })}
      {presence.pcs_present
        .filter((p) => p.character_id !== store.myPc.value?.id)
        .map((p) => (
          <li key={p.character_id}>
            <strong>{p.name}</strong> <span class="muted">· {store.participants.value[p.owner_participant_id ?? ""]?.name ?? "player character"}</span>
          </li>
        ))}
      {presence.npcs_present.length === 0 && presence.pcs_present.filter((p) => p.character_id !== store.myPc.value?.id).length === 0 && (
        <li class="muted">Nobody else.</li>
      )}
    </ul>
  );
}

/** The PC's sheet with the edits a player may make: description, stats, inventory. */
function Sheet({ store, pc }: { store: SessionStore; pc: Character }) {
  const defs = store.world.value?.rule_system.stat_definitions ?? [];
  const statKeys = [...new Set([...defs.map((d) => d.key), ...Object.keys(pc.stats)])];
  const label = (key: string) => defs.find((d) => d.key === key)?.label || key;
  const items = Object.values(store.items.value).filter((i) => i.character_id === pc.id);
  const flash = store.rolledBack.value.has(pc.id);
  // The DM's rule (session setting player_stat_edits): which stats a player may change, within which bounds.
  const rule = store.settings.value?.player_stat_edits;
  const mayEdit = (key: string) => !rule || rule.stats.includes("*") || rule.stats.includes(key);
  const setStat = (stat: string, raw: string) => {
    const value = raw === "" ? null : Number(raw);
    if (value !== null && !Number.isFinite(value)) return;
    const stats = { ...pc.stats };
    if (value === null) delete stats[stat];
    else stats[stat] = value;
    void store.edit(store.characters, pc.id, { stats }, { type: "SetCharacterStat", character_id: pc.id, stat, value, expected_version: pc.version });
  };
  return (
    <Section title={`Your character: ${pc.name}`} id="sheet">
      <div class={flash ? "flash" : ""}>
        <EntityForm
          key={`${pc.id}-${pc.version}-${flash}`}
          fields={[
            { key: "name", label: "Name", required: true },
            { key: "description", label: "Description", type: "textarea" },
          ]}
          initial={pc}
          submitLabel="Save"
          onSubmit={(data) => store.edit(store.characters, pc.id, data, { type: "UpdateCharacter", character_id: pc.id, data, expected_version: pc.version })}
        />
        <h3>Stats</h3>
        {rule && !statKeys.every(mayEdit) && (
          <p class="muted small">
            {rule.stats.length === 0
              ? "The DM sets your stats."
              : `You may change ${rule.stats.join(", ")} (from ${rule.min} to ${rule.max}); the DM sets the others.`}
          </p>
        )}
        <div class="stats">
          {statKeys.map((key) => (
            <div class="field stat" key={`${key}-${pc.version}-${flash}`}>
              <label for={`stat-${key}`}>{label(key)}</label>
              {mayEdit(key) ? (
                <input
                  id={`stat-${key}`}
                  type="number"
                  inputMode="numeric"
                  min={rule?.min}
                  max={rule?.max}
                  value={pc.stats[key] ?? ""}
                  onChange={(e) => setStat(key, e.currentTarget.value)}
                />
              ) : (
                <output id={`stat-${key}`} class="stat-value" title="Set by the DM">
                  {pc.stats[key] ?? "—"}
                </output>
              )}
            </div>
          ))}
        </div>
      </div>
      <h3>Inventory</h3>
      <Inventory store={store} characterId={pc.id} items={items} />
    </Section>
  );
}

export function Inventory({ store, characterId, items }: { store: SessionStore; characterId: string; items: InventoryItem[] }) {
  return (
    <>
      <ul class="list" data-testid="inventory">
        {items.map((item) => (
          <li key={item.id} class={`row${store.rolledBack.value.has(item.id) ? " flash" : ""}`}>
            <span>
              <strong>{item.name}</strong> <span class="muted">· {item.item_type}</span>
            </span>
            <span class="row-tools">
              <label class="check">
                <input
                  type="checkbox"
                  checked={item.equipped}
                  onChange={(e) => {
                    const equipped = e.currentTarget.checked;
                    void store.edit(
                      store.items,
                      item.id,
                      { equipped },
                      { type: "UpdateInventoryItem", item_id: item.id, data: { equipped }, expected_version: item.version },
                    );
                  }}
                />
                Equipped
              </label>
              <label class="qty">
                <span class="sr-only">Quantity of {item.name}</span>
                <input
                  type="number"
                  min={1}
                  value={item.quantity}
                  onChange={(e) => {
                    const quantity = Number(e.currentTarget.value);
                    if (!Number.isInteger(quantity) || quantity < 1) return;
                    void store.edit(
                      store.items,
                      item.id,
                      { quantity },
                      { type: "UpdateInventoryItem", item_id: item.id, data: { quantity }, expected_version: item.version },
                    );
                  }}
                />
              </label>
              <button
                type="button"
                class="small danger"
                aria-label={`Remove ${item.name}`}
                onClick={() => store.run({ type: "RemoveInventoryItem", item_id: item.id })}
              >
                Remove
              </button>
            </span>
          </li>
        ))}
        {items.length === 0 && <li class="muted">Empty.</li>}
      </ul>
      <EntityForm
        fields={[
          { key: "name", label: "New item", required: true },
          { key: "item_type", label: "Type" },
        ]}
        submitLabel="Add item"
        onSubmit={(data) =>
          store.run({
            type: "AddInventoryItem",
            character_id: characterId,
            data: { name: String(data.name), ...(data.item_type ? { item_type: String(data.item_type) } : {}) },
          })
        }
      />
    </>
  );
}
