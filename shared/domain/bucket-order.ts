/**
 * The order in which a claim visits the buckets of a job (pure; storage/keys.ts has the layout).
 *
 * FIFO across buckets, by the age of each bucket's oldest unclaimed chunk (its row key starts
 * with the time it was queued) — except that heads within SAME_AGE_MS of the oldest count as
 * equally old, and among those a claim stays where its transaction does the most: first the
 * bucket this process claimed from last (so the claims of all nodes meet in one group commit, and
 * each node's running tasks, hence its next completions, share that bucket and ride along), then
 * a bucket `prefer` names (the node has completions there). Buckets whose chunks are all
 * exhausted come last, so a claim removes them.
 */
export const SAME_AGE_MS = 2000;

export interface BucketHead {
  bucket: number;
  /** Row key of the bucket's oldest chunk with unclaimed entries; absent when every chunk is exhausted. */
  head?: string;
}

/** The time part of a chunk key (ms; see keys.chunkKey). */
export function chunkTime(rowKey: string): number {
  return Number(rowKey.slice(3, 18)) || 0;
}

export function orderBuckets(heads: readonly BucketHead[], last?: number, prefer?: (bucket: number) => boolean): number[] {
  const byAge = (a: BucketHead, b: BucketHead): number => (a.head! < b.head! ? -1 : a.head! > b.head! ? 1 : a.bucket - b.bucket);
  const live = heads.filter((h) => h.head !== undefined).sort(byAge);
  const oldest = live.length ? chunkTime(live[0]!.head!) : 0;
  const rank = (b: number): number => (b === last ? 0 : prefer?.(b) ? 1 : 2);
  const same = live.filter((h) => chunkTime(h.head!) - oldest <= SAME_AGE_MS).sort((a, b) => rank(a.bucket) - rank(b.bucket) || byAge(a, b));
  const later = live.filter((h) => chunkTime(h.head!) - oldest > SAME_AGE_MS);
  const exhausted = heads.filter((h) => h.head === undefined).map((h) => h.bucket).sort((a, b) => a - b);
  return [...same.map((h) => h.bucket), ...later.map((h) => h.bucket), ...exhausted];
}
