import { signal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { AssetView } from "../../src/client";
import { describeError } from "./errors";
import type { SessionStore } from "./session-store";
import { Section } from "./ui";

/**
 * The DM's images: upload (POST /assets through the SDK), the session's assets as thumbnails
 * (signed URLs from ListAssets, refreshed through GetAsset), and generation with a progress bar.
 */

const assets = signal<AssetView[]>([]);
const batches = signal<Record<string, { prompt: string; completed: number; total: number; state: string }>>({});

async function reload(store: SessionStore): Promise<void> {
  const page = await store.run({ type: "ListAssets", limit: 100 });
  if (page) assets.value = page.items;
}

export function Images({ store }: { store: SessionStore }) {
  useEffect(() => {
    void reload(store);
    const setBatch = (id: string, patch: Partial<{ prompt: string; completed: number; total: number; state: string }>) =>
      (batches.value = { ...batches.value, [id]: { prompt: "", completed: 0, total: 1, state: "queued", ...batches.value[id], ...patch } });
    return store.client.onAnyEvent((e) => {
      if (e.type === "AssetCreated" || e.type === "AssetUpdated" || e.type === "AssetDeleted") void reload(store);
      if (e.type === "GenerationQueued") setBatch(e.batch.id, { prompt: e.batch.request.prompt, total: e.batch.total });
      if (e.type === "GenerationProgress") setBatch(e.batch_id, { completed: e.completed, total: e.total, state: "running" });
      if (e.type === "GenerationComplete") setBatch(e.batch_id, { state: "done" });
      if (e.type === "GenerationFailed") setBatch(e.batch_id, { state: `failed: ${e.reason}` });
    });
  }, [store]);

  const upload = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    if (!file) return;
    try {
      await store.client.uploadAsset(file, { label: file.name });
      store.toast("info", `Uploaded ${file.name}`);
    } catch (err) {
      store.toast("error", `Upload failed: ${describeError(err)}`);
    }
    input.value = "";
    void reload(store);
  };

  const generate = async (form: HTMLFormElement) => {
    const data = new FormData(form);
    const prompt = String(data.get("prompt") ?? "").trim();
    if (!prompt) return;
    await store.run({ type: "StartGeneration", prompt, count: Number(data.get("count") ?? 1), image: String(data.get("image")) as "portrait" });
  };

  return (
    <div class="columns">
      <div class="column">
        <Section title="Upload an image" id="upload-image">
          <label>
            Image file (PNG, JPEG, WebP or GIF, at most 10 MiB)
            <input type="file" accept="image/png,image/jpeg,image/webp,image/gif" data-testid="image-upload" onChange={(e) => void upload(e.currentTarget)} />
          </label>
        </Section>
        <Section title="Generate images" id="generate-images">
          <form onSubmit={(e) => (e.preventDefault(), void generate(e.currentTarget))}>
            <label>
              Prompt <input name="prompt" data-testid="generation-prompt" required />
            </label>
            <label>
              Kind
              <select name="image">
                {["portrait", "sprite", "backdrop", "map"].map((k) => (
                  <option key={k} value={k}>
                    {k}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Number of images
              <select name="count">
                {[1, 2, 3, 4].map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit">Generate</button>
          </form>
          <ul class="plain">
            {Object.entries(batches.value).map(([id, b]) => (
              <li key={id} data-testid="generation-batch">
                <span>{b.prompt}</span> <progress value={b.completed} max={b.total} aria-label={`generation of ${b.prompt}`} /> {b.completed}/{b.total} ·{" "}
                {b.state}
              </li>
            ))}
          </ul>
        </Section>
      </div>
      <div class="column">
        <Section title="Images of this session" id="assets">
          <div class="thumbs">
            {assets.value.map((a) => (
              <figure key={a.id} data-testid="asset">
                <img src={a.url} alt={a.label || "image"} width={96} onError={() => store.client.assetUrls.forget(a.id)} />
                <figcaption class="small">{a.label || a.id.slice(0, 8)}</figcaption>
              </figure>
            ))}
          </div>
          {assets.value.length === 0 && <p class="muted">No images yet.</p>}
        </Section>
      </div>
    </div>
  );
}
