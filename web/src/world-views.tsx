import type { Character } from "../../src/client";
import type { Region } from "../../src/client";
import type { SessionStore } from "./session-store";
import { AssetImage } from "./asset-image";
import { Section } from "./ui";

/** Views both roles share: the world, the scene, the timeline, who is here. */

export function regionLabel(store: SessionStore, region: Region | undefined | null): string {
  if (!region) return "nowhere yet";
  const location = store.locations.value[region.location_id];
  return location ? `${region.name} (${location.name})` : region.name;
}

export function WorldHeader({ store }: { store: SessionStore }) {
  const world = store.world.value;
  if (!world) return null;
  return (
    <Section title={world.name} id="world">
      {world.description ? <p>{world.description}</p> : <p class="muted">No description yet.</p>}
    </Section>
  );
}

export function SceneCard({ store }: { store: SessionStore }) {
  const scene = store.activeScene.value;
  const location = scene?.location_id ? store.locations.value[scene.location_id] : undefined;
  return (
    <Section title="Current scene" id="scene">
      {!scene ? (
        <p class="muted">No scene is active.</p>
      ) : (
        <div class="scene">
          {scene.backdrop_asset_id && <AssetImage store={store} assetId={scene.backdrop_asset_id} class="backdrop" alt={`Backdrop of ${scene.name}`} />}
          <h3 data-testid="scene-name">{scene.name}</h3>
          <p class="muted">{[location?.name, scene.time_context].filter(Boolean).join(" · ")}</p>
          <p>{scene.description}</p>
          {scene.directorial_notes !== undefined && scene.directorial_notes !== "" && (
            <p class="dm-only">
              <strong>Directorial notes:</strong> {scene.directorial_notes}
            </p>
          )}
        </div>
      )}
    </Section>
  );
}

export function CharacterLine({ c, store }: { c: Character; store?: SessionStore }) {
  return (
    <>
      {store && c.portrait_asset_id && <AssetImage store={store} assetId={c.portrait_asset_id} class="portrait" alt={`Portrait of ${c.name}`} />}
      <strong>{c.name}</strong>
      {c.archetype && <span class="muted"> · {c.archetype}</span>}
      {c.hidden && <span class="tag">hidden</span>}
      {!c.is_alive && <span class="tag">dead</span>}
    </>
  );
}

export function Npcs({ store }: { store: SessionStore }) {
  const npcs = Object.values(store.characters.value).filter((c) => c.kind === "npc");
  return (
    <Section title="People you know of" id="npcs">
      <ul class="list" data-testid="npc-list">
        {npcs.map((c) => (
          <li key={c.id}>
            <CharacterLine c={c} store={store} />
            {c.description && <div class="muted small">{c.description}</div>}
          </li>
        ))}
        {npcs.length === 0 && <li class="muted">Nobody yet.</li>}
      </ul>
    </Section>
  );
}

export function Timeline({ store }: { store: SessionStore }) {
  const events = Object.values(store.storyEvents.value).sort((a, b) => b.created_at - a.created_at);
  return (
    <Section title="Timeline" id="timeline">
      <ol class="list" data-testid="timeline">
        {events.map((e) => (
          <li key={e.id}>
            {e.game_time && <span class="muted">{e.game_time} · </span>}
            {e.summary}
            {e.hidden && <span class="tag">hidden</span>}
          </li>
        ))}
        {events.length === 0 && <li class="muted">Nothing has happened yet.</li>}
      </ol>
    </Section>
  );
}

export function Participants({ store, onKick }: { store: SessionStore; onKick?: (id: string) => void }) {
  const me = store.you.value?.id;
  const people = Object.values(store.participants.value).filter((p) => !p.kicked);
  return (
    <Section title="Participants" id="participants">
      <ul class="list">
        {people.map((p) => (
          <li key={p.id} class="row">
            <span>
              <span role="img" class={`dot ${p.online ? "on" : "off"}`} aria-label={p.online ? "online" : "offline"} /> {p.name}
              <span class="muted"> · {p.role}</span>
              {p.id === me && <span class="muted"> (you)</span>}
            </span>
            {onKick && p.id !== me && (
              <button type="button" class="small danger" onClick={() => onKick(p.id)} aria-label={`Kick ${p.name}`}>
                Kick
              </button>
            )}
          </li>
        ))}
      </ul>
    </Section>
  );
}
