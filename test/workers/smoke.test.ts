import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, TestSocket, createSession } from "./helpers";

describe("smoke", () => {
  it("health reports D1 reachable", async () => {
    const res = await SELF.fetch(`${BASE}/health`);
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body.d1.ok).toBe(true);
  });

  it("a DM creates a session, connects, joins and pings", async () => {
    const g = await createSession();
    const s = await TestSocket.open(g);
    const joined = await s.join();
    expect(joined.resume).toBe("snapshot");
    const r = await s.request({ type: "Ping" });
    expect(r.status).toBe("success");
    expect(r.data.pong).toBe(true);
    s.close();
  });
});
