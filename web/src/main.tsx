import { render } from "preact";
import { Join, Landing } from "./landing";
import { route } from "./route";
import { SessionPage } from "./session-page";
import "./styles.css";

function App() {
  const r = route.value;
  if (r.page === "join") return <Join code={r.code} />;
  if (r.page === "session") return <SessionPage key={r.sessionId} sessionId={r.sessionId} />;
  return <Landing />;
}

render(<App />, document.getElementById("app")!);
