/** clearTimeout that accepts "no timer", under the DOM, Node and Workers typings alike. */
export function stopTimer(timer: ReturnType<typeof setTimeout> | undefined): void {
  if (timer !== undefined) clearTimeout(timer);
}
