import type { Runtime } from '../runtime';
import { BUCKETS, taskPartition } from '../storage/keys';
import { isExhausted, type Chunk } from '../storage/tasks';
import { orderBuckets, type BucketHead } from '../domain/bucket-order';
import { sharedRead } from './cache';

/**
 * The heads of a job's queues as this process last saw them: per bucket partition, the oldest
 * pending chunks with their ETags (see storage/keys.ts for buckets). Claims made here keep a
 * bucket's head current from the transaction's response, so a busy bucket is read once per chunk,
 * not once per claim; a stale entry (another instance, a terminate) fails the claim's ETag check
 * and is re-read. A bucket found empty is remembered for EMPTY_TTL_MS, so idle polls do not read
 * every bucket of every job each time; writers in this process that queue tasks forget it at once.
 */
export const EMPTY_TTL_MS = 1000;
const HEAD_CHUNKS = 8;
const headKey = (jobId: string, bucket: number): string => `chunks:${taskPartition(jobId, bucket)}`;

/** A bucket's head chunks: cached, or read once for all the claims that want them at the same time. */
export async function headChunks(rt: Runtime, jobId: string, bucket: number): Promise<Chunk[]> {
  const key = headKey(jobId, bucket);
  const hit = rt.cache.get(key);
  const cached = hit?.value as Chunk[] | undefined;
  if (cached && cached.some((c) => !isExhausted(c))) return cached;
  if (cached && hit!.until > rt.clock().getTime()) return cached;
  return sharedRead(rt, key, async () => {
    const chunks = await rt.tasks.chunks(jobId, bucket, HEAD_CHUNKS);
    const live = chunks.some((c) => !isExhausted(c));
    rt.cache.set(key, { until: live ? Number.MAX_SAFE_INTEGER : rt.clock().getTime() + EMPTY_TTL_MS, value: chunks });
    return chunks;
  });
}

const current = new WeakMap<Runtime, Map<string, number>>();

/** The bucket of a job this process last claimed tasks from. */
export function noteClaimedBucket(rt: Runtime, jobId: string, bucket: number): void {
  let byJob = current.get(rt);
  if (!byJob) current.set(rt, (byJob = new Map()));
  byJob.set(jobId, bucket);
}

/**
 * The order in which a claim visits a job's buckets (see orderBuckets): FIFO across buckets by
 * the age of their oldest unclaimed chunk, staying on the bucket claimed from last among equally
 * old heads. Buckets holding only exhausted chunks come last, so a claim removes them.
 */
export async function bucketsWithWork(rt: Runtime, jobId: string, prefer?: (bucket: number) => boolean): Promise<number[]> {
  const heads = await Promise.all(
    BUCKETS.map(async (bucket): Promise<BucketHead | undefined> => {
      const chunks = await headChunks(rt, jobId, bucket);
      if (!chunks.length) return undefined;
      return { bucket, head: chunks.find((c) => !isExhausted(c))?.rowKey };
    }),
  );
  return orderBuckets(heads.filter((h): h is BucketHead => h !== undefined), current.get(rt)?.get(jobId), prefer);
}

/** Keeps a bucket's head current after a claim transaction (advanced cursors with their new ETags, dropped chunks gone). */
export function rememberChunks(rt: Runtime, jobId: string, bucket: number, chunks: Chunk[], advanced: Map<string, number>, dropped: Set<string>, etags: Map<string, string>): void {
  const next = chunks
    .filter((c) => !dropped.has(c.rowKey))
    .map((c) => (advanced.has(c.rowKey) ? { ...c, next: advanced.get(c.rowKey)!, etag: etags.get(c.rowKey) ?? c.etag } : c));
  if (next.some((c) => !isExhausted(c) && (!advanced.has(c.rowKey) || etags.has(c.rowKey)))) rt.cache.set(headKey(jobId, bucket), { until: Number.MAX_SAFE_INTEGER, value: next });
  else rt.cache.delete(headKey(jobId, bucket));
}

/** Forget the cached head of a job's queue in one bucket, or in all (its chunks were written elsewhere in this process). */
export function forgetChunks(rt: Runtime, jobId: string, bucket?: number): void {
  for (const b of bucket === undefined ? BUCKETS : [bucket]) rt.cache.delete(headKey(jobId, b));
  if (bucket === undefined) current.get(rt)?.delete(jobId);
}
