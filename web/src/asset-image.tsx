import { useEffect, useState } from "preact/hooks";
import type { SessionStore } from "./session-store";

/**
 * An image of the session (R2, through the Worker): its signed URL comes from the SDK's cache,
 * refreshed through GetAsset before it expires. Nothing is shown until the URL is known, and an
 * image that fails to load is asked for again once (a URL that expired meanwhile), then hidden.
 */
export function AssetImage({ store, assetId, alt, class: cls }: { store: SessionStore; assetId: string; alt: string; class?: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [retried, setRetried] = useState(false);
  useEffect(() => {
    let live = true;
    setUrl(null);
    store.client.assetUrl(assetId).then(
      (u) => live && setUrl(u),
      () => live && setUrl(null),
    );
    return () => {
      live = false;
    };
  }, [assetId, retried]);
  if (!url) return null;
  const failed = () => {
    store.client.assetUrls.forget(assetId);
    if (retried) setUrl(null);
    else setRetried(true);
  };
  return <img class={cls} src={url} alt={alt} loading="lazy" onError={failed} data-testid={`asset-${assetId}`} />;
}
