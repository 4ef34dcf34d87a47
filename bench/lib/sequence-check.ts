/**
 * The delivery guarantee, checked: a client's received event seqs against the seqs it should have
 * received. Exactly once and in order means the two lists are equal.
 */
export interface SequenceCheck {
  expected: number;
  received: number;
  missing: number;
  duplicates: number;
  out_of_order: number;
  unexpected: number;
}

export function checkSequence(expected: readonly number[], received: readonly number[]): SequenceCheck {
  const want = new Set(expected);
  const seen = new Map<number, number>();
  let outOfOrder = 0;
  let unexpected = 0;
  received.forEach((seq, i) => {
    seen.set(seq, (seen.get(seq) ?? 0) + 1);
    if (i > 0 && seq <= received[i - 1]!) outOfOrder++;
    if (!want.has(seq)) unexpected++;
  });
  let duplicates = 0;
  for (const c of seen.values()) duplicates += c - 1;
  return {
    expected: expected.length,
    received: received.length,
    missing: expected.filter((s) => !seen.has(s)).length,
    duplicates,
    out_of_order: outOfOrder,
    unexpected,
  };
}

export const isClean = (c: SequenceCheck): boolean => c.missing === 0 && c.duplicates === 0 && c.out_of_order === 0 && c.unexpected === 0;

/** Sums many checks into one (for "every socket" totals). */
export function sumChecks(checks: readonly SequenceCheck[]): SequenceCheck {
  const total: SequenceCheck = { expected: 0, received: 0, missing: 0, duplicates: 0, out_of_order: 0, unexpected: 0 };
  for (const c of checks) for (const k of Object.keys(total) as (keyof SequenceCheck)[]) total[k] += c[k];
  return total;
}
