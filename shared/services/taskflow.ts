import type { TransactionAction } from '@azure/data-tables';
import { addCounts, type TaskCounts } from '../domain/model';
import type { Runtime } from '../runtime';
import { sharedRead } from './cache';
import { bucketOf, counterKey, idKey, taskPartition } from '../storage/keys';
import { isConflictOrStale } from '../storage/tasks';

/**
 * Commits task-row actions of one bucket partition of a job together with a counter-shard delta
 * of that bucket in ONE transaction. The counter's ETag is cached per process; when another writer moved it, the cache
 * is dropped and the transaction retried. Any other conflict is the caller's to handle.
 */
export async function commitWithCounter(rt: Runtime, jobId: string, bucket: number, shard: number, delta: Partial<TaskCounts>, actions: TransactionAction[]): Promise<Map<string, string>> {
  // Writers of one counter shard in this process take turns: racing on its ETag would only cost
  // failed transactions (other processes' races are retried below).
  return inTurn(rt, `${taskPartition(jobId, bucket)}|${shard}`, () => commitOnce(rt, jobId, bucket, shard, delta, actions));
}

async function commitOnce(rt: Runtime, jobId: string, bucket: number, shard: number, delta: Partial<TaskCounts>, actions: TransactionAction[]): Promise<Map<string, string>> {
  for (let attempt = 0; ; attempt++) {
    const change = await rt.tasks.counterChange(jobId, bucket, shard, delta);
    try {
      const etags = await rt.tasks.transact([...actions, change.action]);
      change.commit(etags.get(counterKey(shard)));
      adjustCachedCounts(rt, jobId, delta);
      return etags;
    } catch (err) {
      rt.tasks.forgetCounter(jobId, bucket, shard);
      const counterFailed = isConflictOrStale(err) && (err.failedIndex === undefined || err.failedIndex === actions.length);
      if (counterFailed && attempt < 8) {
        await new Promise((r) => setTimeout(r, Math.random() * 4 * (attempt + 1)));
        continue;
      }
      throw err;
    }
  }
}

const turns = new WeakMap<Runtime, Map<string, Promise<unknown>>>();

/** Runs `fn` after every earlier call with the same key in this process has settled. */
async function inTurn<T>(rt: Runtime, key: string, fn: () => Promise<T>): Promise<T> {
  let byKey = turns.get(rt);
  if (!byKey) turns.set(rt, (byKey = new Map()));
  const previous = byKey.get(key) ?? Promise.resolve();
  const mine = previous.then(fn, fn);
  const tail = mine.catch(() => undefined);
  byKey.set(key, tail);
  void tail.then(() => {
    if (byKey.get(key) === tail) byKey.delete(key);
  });
  return mine;
}

/** The counter delta of moving `n` tasks of `slots` slots each between states. */
export function moveDelta(from: 'active' | 'running' | null, to: 'active' | 'running' | 'succeeded' | 'failed' | null, n: number, slots: number): Partial<TaskCounts> {
  const d: Partial<TaskCounts> = {};
  const add = (k: keyof TaskCounts, v: number): void => {
    d[k] = (d[k] ?? 0) + v;
  };
  const moves: Record<string, [keyof TaskCounts, keyof TaskCounts][]> = {
    active: [['active', 'activeSlots']],
    running: [['running', 'runningSlots']],
    succeeded: [['completed', 'completedSlots'], ['succeeded', 'succeededSlots']],
    failed: [['completed', 'completedSlots'], ['failed', 'failedSlots']],
  };
  for (const [count, slot] of from ? moves[from]! : []) {
    add(count, -n);
    add(slot, -slots);
  }
  for (const [count, slot] of to ? moves[to]! : []) {
    add(count, n);
    add(slot, slots);
  }
  return d;
}

export function sumDeltas(...ds: Partial<TaskCounts>[]): Partial<TaskCounts> {
  const out: Partial<TaskCounts> = {};
  for (const d of ds) for (const [k, v] of Object.entries(d) as [keyof TaskCounts, number][]) out[k] = (out[k] ?? 0) + v;
  return out;
}

/**
 * Task counts as GET /jobs/{id}/taskcounts serves them. Azure documents these counts as possibly
 * a few seconds behind; here they are read from the counter shards at most once per
 * COUNTS_TTL_MS per job and process (concurrent readers share one read), and this process's own
 * transitions are added to the cached figures as they commit (a read includes the commits that
 * finished while it was in flight: TaskRepository.counts), so a client always sees its own
 * writes. Other instances' writes show within the TTL.
 */
export const COUNTS_TTL_MS = 1000;
const countsKey = (jobId: string): string => `counts:${idKey(jobId)}`;

export async function cachedTaskCounts(rt: Runtime, jobId: string): Promise<TaskCounts> {
  const hit = rt.cache.get(countsKey(jobId));
  if (hit && hit.until > rt.clock().getTime()) return hit.value as TaskCounts;
  return sharedRead(rt, countsKey(jobId), () => rt.tasks.counts(jobId, (counts) => rt.cache.set(countsKey(jobId), { until: rt.clock().getTime() + COUNTS_TTL_MS, value: counts })));
}

function adjustCachedCounts(rt: Runtime, jobId: string, delta: Partial<TaskCounts>): void {
  const hit = rt.cache.get(countsKey(jobId));
  if (hit) rt.cache.set(countsKey(jobId), { until: hit.until, value: addCounts(hit.value as TaskCounts, delta) });
}

export function forgetCachedCounts(rt: Runtime, jobId: string): void {
  rt.cache.delete(countsKey(jobId));
}

/** Items grouped by the bucket of their task id, in first-seen order within each bucket. */
export function byBucket<T>(items: readonly T[], taskIdOf: (item: T) => string): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const item of items) {
    const b = bucketOf(taskIdOf(item));
    const list = out.get(b);
    if (list) list.push(item);
    else out.set(b, [item]);
  }
  return out;
}

/** Items split into transactions: by bucket, then at most `size` per group. */
export function bucketGroups<T>(items: readonly T[], taskIdOf: (item: T) => string, size: number): [number, T[]][] {
  const out: [number, T[]][] = [];
  for (const [bucket, list] of byBucket(items, taskIdOf)) for (let i = 0; i < list.length; i += size) out.push([bucket, list.slice(i, i + size)]);
  return out;
}
