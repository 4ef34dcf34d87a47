import { useState } from "preact/hooks";
import { createSession, joinSession, needsCreationSecret, saveInvite, saveToken } from "./auth";
import { describeError } from "./errors";
import { navigate } from "./route";

/** `/`: create a session as its DM, or go to the join page of an invite code. */
export function Landing() {
  const [world, setWorld] = useState("");
  const [dmName, setDmName] = useState("");
  const [secret, setSecret] = useState("");
  const [askSecret, setAskSecret] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [code, setCode] = useState("");

  const create = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const grant = await createSession(world.trim(), dmName.trim(), secret.trim());
      saveToken(grant.session_id, grant.token);
      if (grant.invite_code) saveInvite(grant.session_id, grant.invite_code);
      navigate(`/s/${grant.session_id}`);
    } catch (err) {
      // The deployment guards session creation: show the field for its secret.
      if (needsCreationSecret(err)) setAskSecret(true);
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="narrow">
      <h1>WrldBldr</h1>
      <p class="lead">Run a tabletop role-playing session in the browser: the DM builds the world, players join with an invite code.</p>
      <section class="card">
        <h2>Create a session</h2>
        <form class="form" onSubmit={create}>
          <div class="field">
            <label for="world-name">World name</label>
            <input id="world-name" required maxLength={200} value={world} onInput={(e) => setWorld(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="dm-name">Your name (DM)</label>
            <input id="dm-name" required maxLength={100} value={dmName} onInput={(e) => setDmName(e.currentTarget.value)} />
          </div>
          {askSecret && (
            <div class="field">
              <label for="create-secret">Creation secret (this server requires one)</label>
              <input id="create-secret" type="password" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
            </div>
          )}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <div class="actions">
            <button type="submit" disabled={busy}>
              Create as DM
            </button>
          </div>
        </form>
      </section>
      <section class="card">
        <h2>Join a session</h2>
        <form
          class="form"
          onSubmit={(ev) => {
            ev.preventDefault();
            navigate(`/join/${encodeURIComponent(code.trim().toUpperCase())}`);
          }}
        >
          <div class="field">
            <label for="invite-code">Invite code</label>
            <input id="invite-code" required minLength={4} maxLength={64} autoComplete="off" value={code} onInput={(e) => setCode(e.currentTarget.value)} />
          </div>
          <div class="actions">
            <button type="submit">Continue</button>
          </div>
        </form>
      </section>
    </main>
  );
}

/** `/join/<invite_code>`: a name and a role, then straight into the session. */
export function Join({ code }: { code: string }) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<"player" | "spectator">("player");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const join = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const grant = await joinSession(code, name.trim(), role);
      saveToken(grant.session_id, grant.token);
      navigate(`/s/${grant.session_id}`);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="narrow">
      <h1>Join a session</h1>
      <p class="lead">
        Invite code <code>{code}</code>
      </p>
      <section class="card">
        <form class="form" onSubmit={join}>
          <div class="field">
            <label for="join-name">Your name</label>
            <input id="join-name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="join-role">Role</label>
            <select id="join-role" value={role} onChange={(e) => setRole(e.currentTarget.value as "player" | "spectator")}>
              <option value="player">Player</option>
              <option value="spectator">Spectator (watch only)</option>
            </select>
          </div>
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <div class="actions">
            <button type="submit" disabled={busy}>
              Join
            </button>
            <a href="/">Back</a>
          </div>
        </form>
      </section>
    </main>
  );
}
