import { describe, expect, it } from "vitest";
import { AssetUrls, uploadAsset } from "../../src/client/assets";
import { WrldbldrError } from "../../src/client/errors";

const asset = { id: "a1", url: "/assets/a1?s=s&exp=100&sig=x", url_expires_at: 100 };

describe("SDK: uploadAsset", () => {
  it("POSTs the raw bytes with the Bearer token and query, and returns an absolute URL", async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return Response.json({ asset: { id: "a1" }, url: asset.url, url_expires_at: 100 }, { status: 201 });
    }) as unknown as typeof fetch;
    const r = await uploadAsset("wss://engine.example/sessions/s/ws", "tok", new Uint8Array([1, 2, 3]), {
      label: "Mira",
      entity: { kind: "character", id: "c1" },
      fetch: fakeFetch,
    });
    expect(r.url).toBe("https://engine.example/assets/a1?s=s&exp=100&sig=x");
    expect(calls[0]!.url).toBe("https://engine.example/assets?label=Mira&entity_kind=character&entity_id=c1");
    expect(calls[0]!.init.headers).toMatchObject({ authorization: "Bearer tok", "content-type": "application/octet-stream" });
    expect(new Uint8Array(await (calls[0]!.init.body as Blob).arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("throws the server's typed error", async () => {
    const fakeFetch = (async () =>
      Response.json({ code: "PAYLOAD_TOO_LARGE", message: "too big", retryable: false }, { status: 413 })) as unknown as typeof fetch;
    const err = await uploadAsset("http://e.test", "tok", new Blob(["x"], { type: "image/png" }), { fetch: fakeFetch }).catch((e) => e);
    expect(err).toBeInstanceOf(WrldbldrError);
    expect(err.code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("SDK: AssetUrls", () => {
  it("serves a remembered URL until it nears expiry, then refreshes it once through GetAsset", async () => {
    let gets = 0;
    const urls = new AssetUrls("http://e.test", async (id) => ({ ...asset, id, url: `/assets/${id}?fresh=${++gets}`, url_expires_at: 10_000 }) as any, 60_000);
    urls.remember(asset);
    expect(await urls.get("a1", 0)).toBe("http://e.test/assets/a1?s=s&exp=100&sig=x");
    expect(gets).toBe(0);
    const [x, y] = await Promise.all([urls.get("a1", 50_000), urls.get("a1", 50_000)]);
    expect([x, y]).toEqual(["http://e.test/assets/a1?fresh=1", "http://e.test/assets/a1?fresh=1"]);
    expect(gets).toBe(1);
    urls.forget("a1");
    expect(await urls.get("a1", 50_000)).toBe("http://e.test/assets/a1?fresh=2");
  });
});
