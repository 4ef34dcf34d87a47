import { AppError } from "../../protocol";
import { TXT2IMG_OUTPUT_NODE, txt2imgWorkflow } from "./txt2img";
import { withRetry, withTimeout, type ImageJob, type ImageProvider, type PollResult } from "./provider";

/** One request to ComfyUI may take this long before it counts as a transient failure. */
const REQUEST_TIMEOUT_MS = 30_000;
const CLIENT_ID = "wrldbldr";

type History = Record<
  string,
  {
    outputs?: Record<string, { images?: { filename: string; subfolder?: string; type?: string }[] }>;
    status?: { status_str?: string; completed?: boolean; messages?: unknown[] };
  }
>;

/**
 * ComfyUI's HTTP API (checked-facts.md): POST /prompt with our prompt_id, GET /history/:id until
 * it has outputs, GET /view for the bytes; GET /queue tells whether an id is waiting.
 */
export function comfyuiProvider(baseUrl: string, checkpoint = "v1-5-pruned-emaonly.safetensors"): ImageProvider {
  const base = baseUrl.replace(/\/+$/, "");

  /**
   * One exchange with ComfyUI, its answer read by `read` within REQUEST_TIMEOUT_MS (a timer cleared
   * when it ends: no timer outlives its request). Network failures, timeouts and 5xx are
   * UNAVAILABLE (retried); other statuses are `read`'s to judge. The caller's abort is rethrown.
   */
  async function exchange<T>(path: string, signal: AbortSignal, init: RequestInit, read: (res: Response) => Promise<T>): Promise<T> {
    const what = path.split("?")[0];
    try {
      return await withTimeout(
        REQUEST_TIMEOUT_MS,
        signal,
        async (s) => {
          const res = await fetch(`${base}${path}`, { ...init, signal: s });
          if (res.status >= 500) {
            await res.body?.cancel();
            throw new AppError("UNAVAILABLE", `ComfyUI answered ${res.status} to ${what}`, { reason: "provider_error", status: res.status });
          }
          return await read(res);
        },
        `ComfyUI (${what})`,
      );
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof AppError) throw err.code === "TIMEOUT" ? new AppError("UNAVAILABLE", err.message, { reason: "provider_timeout" }) : err;
      throw new AppError("UNAVAILABLE", `ComfyUI is unreachable (${what}): ${String(err)}`, { reason: "provider_unreachable" });
    }
  }

  async function json<T>(path: string, signal: AbortSignal, init: RequestInit = {}): Promise<T> {
    return exchange(path, signal, init, async (res) => {
      if (!res.ok)
        throw new AppError("UNAVAILABLE", `ComfyUI answered ${res.status} to ${path.split("?")[0]}: ${(await res.text()).slice(0, 300)}`, {
          reason: "provider_error",
          status: res.status,
        });
      return (await res.json()) as T;
    });
  }

  const inQueue = async (promptId: string, signal: AbortSignal) => {
    const q = await withRetry(() => json<{ queue_running?: unknown[][]; queue_pending?: unknown[][] }>("/queue", signal), signal);
    return [...(q.queue_running ?? []), ...(q.queue_pending ?? [])].some((entry) => entry[1] === promptId);
  };

  return {
    name: "comfyui",

    async submit(promptId, job, signal) {
      const body = JSON.stringify({ prompt: txt2imgWorkflow(job, checkpoint), client_id: CLIENT_ID, prompt_id: promptId });
      await withRetry(
        () =>
          exchange("/prompt", signal, { method: "POST", headers: { "content-type": "application/json" }, body }, async (res) => {
            if (res.ok) return void (await res.body?.cancel());
            // 400: the workflow was refused (missing model, bad node): retrying cannot help.
            const detail = await res
              .json<{ error?: { message?: string; details?: string } }>()
              .catch(() => ({}) as { error?: { message?: string; details?: string } });
            const why = [detail.error?.message, detail.error?.details].filter(Boolean).join(": ") || `status ${res.status}`;
            throw new AppError("VALIDATION_ERROR", `ComfyUI refused the workflow: ${why}`, { reason: "workflow_refused", status: res.status });
          }),
        signal,
      );
    },

    async poll(promptId, _job: ImageJob, signal): Promise<PollResult> {
      const historyOf = async () => (await withRetry(() => json<History>(`/history/${encodeURIComponent(promptId)}`, signal), signal))[promptId];
      // ComfyUI writes the history before it takes a prompt off its queue: one not in the history
      // and then not in the queue either is looked up in the history once more, so a prompt that
      // finished in between is not mistaken for one ComfyUI never saw (which would be re-queued).
      const entry = (await historyOf()) ?? ((await inQueue(promptId, signal)) ? "queued" : await historyOf());
      if (entry === "queued") return { state: "pending" };
      if (!entry) return { state: "unknown" };
      if (entry.status?.status_str === "error") {
        throw new AppError("UNAVAILABLE", `ComfyUI failed the prompt: ${describeMessages(entry.status.messages)}`, { reason: "generation_error" });
      }
      const images = entry.outputs?.[TXT2IMG_OUTPUT_NODE]?.images ?? Object.values(entry.outputs ?? {}).flatMap((o) => o.images ?? []);
      const image = images[0];
      if (!image) {
        if (entry.status?.completed === false) return { state: "pending" };
        throw new AppError("UNAVAILABLE", "ComfyUI finished the prompt without an image", { reason: "generation_error" });
      }
      const q = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder ?? "", type: image.type ?? "output" });
      const bytes = await withRetry(
        () =>
          exchange(`/view?${q}`, signal, {}, async (res) => {
            if (!res.ok) throw new AppError("UNAVAILABLE", `ComfyUI answered ${res.status} to /view`, { reason: "provider_error", status: res.status });
            return new Uint8Array(await res.arrayBuffer());
          }),
        signal,
      );
      return { state: "done", bytes };
    },

    async cancel(promptIds) {
      if (promptIds.length === 0) return;
      const signal = new AbortController().signal; // nobody aborts a cancel; each exchange has its timeout
      const post = (path: string, body: unknown) =>
        exchange(
          path,
          signal,
          { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
          async (r) => void (await r.body?.cancel()),
        );
      try {
        await post("/queue", { delete: promptIds });
        // Interrupt only a prompt of ours that is running: /interrupt would stop anyone's.
        const q = await json<{ queue_running?: unknown[][] }>("/queue", signal);
        const running = (q.queue_running ?? []).map((e) => e[1]).find((id) => promptIds.includes(id as string));
        if (running) await post("/interrupt", { prompt_id: running });
      } catch (err) {
        console.error(JSON.stringify({ msg: "ComfyUI cancel failed", error: String(err) }));
      }
    },
  };
}

/** ComfyUI's execution_error message, shortly. */
function describeMessages(messages: unknown[] | undefined): string {
  for (const m of messages ?? []) {
    if (Array.isArray(m) && m[0] === "execution_error") {
      const d = m[1] as { exception_message?: string; node_type?: string };
      return `${d.node_type ?? "a node"}: ${d.exception_message ?? "error"}`.slice(0, 300);
    }
  }
  return "execution error";
}
