import { signal } from "@preact/signals";

/** The app's routes: `/`, `/join/<code>`, `/s/<session_id>` (the token never travels in the path or query). */
export type Route = { page: "landing" } | { page: "join"; code: string } | { page: "session"; sessionId: string };

function parse(path: string): Route {
  const join = /^\/join\/([^/]+)\/?$/.exec(path);
  if (join) return { page: "join", code: decodeURIComponent(join[1]!) };
  const session = /^\/s\/([^/]+)\/?$/.exec(path);
  if (session) return { page: "session", sessionId: decodeURIComponent(session[1]!) };
  return { page: "landing" };
}

export const route = signal<Route>(parse(location.pathname));

export function navigate(path: string): void {
  history.pushState(null, "", path);
  route.value = parse(location.pathname);
}

addEventListener("popstate", () => {
  route.value = parse(location.pathname);
});
