import { useEffect, useState } from "preact/hooks";
import { loadToken, takeTokenFromFragment } from "./auth";
import { DmView } from "./dm";
import { PlayerView } from "./player";
import { SessionStore } from "./session-store";
import { NeedsYouBadge } from "./needs-you";
import { ConnectionBadge, Toasts } from "./ui";

/** `/s/<session_id>`: one page for DMs and players; the role decides the view. */
export function SessionPage({ sessionId }: { sessionId: string }) {
  const [store, setStore] = useState<SessionStore | null>(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    takeTokenFromFragment(sessionId);
    const token = loadToken(sessionId);
    if (!token) return setMissing(true);
    const s = new SessionStore(sessionId, token);
    setStore(s);
    return () => s.close();
  }, [sessionId]);

  if (missing) {
    return (
      <main class="narrow">
        <h1>Not signed in</h1>
        <p>
          This browser has no token for this session. Ask your DM for the invite link, or <a href="/">start over</a>.
        </p>
      </main>
    );
  }
  if (!store) return null;
  const you = store.you.value;
  return (
    <>
      <header class="topbar">
        <a class="brand" href="/">
          WrldBldr
        </a>
        <span class="who">
          {you ? (
            <>
              {you.name} <span class="muted">· {you.role === "dm" ? "DM" : you.role}</span>
            </>
          ) : (
            "…"
          )}
        </span>
        {store.loaded.value && store.isDm.value && <NeedsYouBadge store={store} />}
        <ConnectionBadge store={store} />
      </header>
      {store.closedReason.value && (
        <p class="banner error" role="alert">
          Disconnected for good: {store.closedReason.value}
        </p>
      )}
      <main class="wide">
        {!store.loaded.value ? <p class="muted">Loading the session…</p> : store.isDm.value ? <DmView store={store} /> : <PlayerView store={store} />}
      </main>
      <Toasts store={store} />
    </>
  );
}
