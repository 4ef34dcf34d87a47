/**
 * Request ids: `<client id>-<counter>`. The client id is random, so ids never collide between two
 * clients of the same participant (two tabs), nor between a client and its own earlier life
 * after a page reload — which matters because the server remembers ids for 24 h.
 */
export function randomClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return Array.from(bytes, (b) => b.toString(36).padStart(2, "0"))
    .join("")
    .slice(0, 12);
}

export function requestIdGenerator(clientId: string): () => string {
  let counter = 0;
  return () => `${clientId}-${(++counter).toString(36)}`;
}
