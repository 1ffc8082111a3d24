import type { TransactionAction } from '@azure/data-tables';
import type { TaskCounts } from '../domain/model';
import type { Runtime } from '../runtime';
import { counterKey } from '../storage/keys';
import { isConflictOrStale } from '../storage/tasks';

/**
 * Commits task-row actions of one job partition together with a counter-shard delta in ONE
 * transaction. The counter's ETag is cached per process; when another writer moved it, the cache
 * is dropped and the transaction retried. Any other conflict is the caller's to handle.
 */
export async function commitWithCounter(rt: Runtime, jobId: string, shard: number, delta: Partial<TaskCounts>, actions: TransactionAction[]): Promise<Map<string, string>> {
  for (let attempt = 0; ; attempt++) {
    const change = await rt.tasks.counterChange(jobId, shard, delta);
    try {
      const etags = await rt.tasks.transact([...actions, change.action]);
      change.commit(etags.get(counterKey(shard)));
      return etags;
    } catch (err) {
      rt.tasks.forgetCounter(jobId, shard);
      const counterFailed = isConflictOrStale(err) && (err.failedIndex === undefined || err.failedIndex === actions.length);
      if (counterFailed && attempt < 6) continue;
      throw err;
    }
  }
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
