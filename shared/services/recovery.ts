import type { TransactionAction } from '@azure/data-tables';
import type { TaskCounts, TaskFailureInfo } from '../domain/model';
import type { Runtime } from '../runtime';
import { chunkKey, odataString, shardOf } from '../storage/keys';
import { createChunkAction, mergeTaskAction, type PendingEntry } from '../storage/tasks';
import { bucketGroups, commitWithCounter, moveDelta, sumDeltas } from './taskflow';
import { forgetChunks } from './queue-heads';
import { poolWorkKey } from './signals';

let seq = 0;

/**
 * Takes every task still running on a node back: a lost node counts a retry (the task fails once
 * its retries are used up); a node removed on purpose requeues without counting a retry.
 * Rare path: finds the tasks with a partition scan per job of the pool.
 */
export async function requeueNodeTasks(rt: Runtime, poolId: string, nodeId: string, reason: 'lost' | 'requeue' = 'requeue'): Promise<number> {
  const jobs = await rt.jobs.onPool(poolId);
  let moved = 0;
  for (const job of jobs) {
    const tasks = await rt.tasks.find(job.value.id, `nodeId eq ${odataString(nodeId)} and state eq 'running'`);
    for (const [bucket, group] of bucketGroups(tasks, (r) => r.value.id, 48)) {
      const now = rt.clock();
      const t = now.toISOString();
      const actions: TransactionAction[] = [];
      const entries: PendingEntry[] = [];
      const deltas: Partial<TaskCounts>[] = [];
      for (const { value: task, etag } of group) {
        const retries = task.executionInfo.retryCount;
        const max = task.constraints.maxTaskRetryCount;
        const canRetry = reason === 'requeue' || max === -1 || retries < max;
        if (canRetry) {
          const retryCount = reason === 'lost' ? retries + 1 : retries;
          actions.push(mergeTaskAction(job.value.id, task.id, {
            state: 'active', stateTransitionTime: t, previousState: 'running', previousStateTransitionTime: task.stateTransitionTime, lastModified: t,
            retryCount, requeueCount: task.executionInfo.requeueCount + (reason === 'requeue' ? 1 : 0),
            ...(reason === 'lost' ? { lastRetryTime: t } : { lastRequeueTime: t }), claim: '',
          }, etag));
          const { jobId: _j, state: _s, stateTransitionTime: _st, previousState: _p, previousStateTransitionTime: _pt, creationTime: _c, lastModified: _l, executionInfo: _e, nodeInfo: _n, claim: _cl, stats: _stats, ...spec } = task;
          entries.push({ spec, retryCount, activeSince: t, creationTime: task.creationTime, requeueCount: task.executionInfo.requeueCount + (reason === 'requeue' ? 1 : 0) });
          deltas.push(moveDelta('running', 'active', 1, task.requiredSlots));
          if (reason === 'lost') deltas.push({ retries: 1 });
        } else {
          const failureInfo: TaskFailureInfo = { category: 'servererror', code: 'NodeUnusable', message: 'The compute node running the task became unusable and the task has no retries left.' };
          actions.push(mergeTaskAction(job.value.id, task.id, {
            state: 'completed', stateTransitionTime: t, previousState: 'running', previousStateTransitionTime: task.stateTransitionTime, lastModified: t,
            endTime: t, result: 'failure', failureInfo: JSON.stringify(failureInfo), claim: '',
          }, etag));
          deltas.push(moveDelta('running', 'failed', 1, task.requiredSlots));
        }
      }
      if (entries.length) actions.push(createChunkAction(job.value.id, bucket, chunkKey(now.getTime(), seq++, rt.ids.hex(3)), entries));
      await commitWithCounter(rt, job.value.id, bucket, shardOf(`node:${nodeId}`), sumDeltas(...deltas), actions);
      if (entries.length) forgetChunks(rt, job.value.id, bucket);
      moved += actions.length;
    }
  }
  if (moved) rt.signals.notify(poolWorkKey(poolId));
  return moved;
}

/**
 * $NodeDeallocationOption terminate: every task still running on a node that leaves the pool
 * completes as failed (failureInfo TaskEnded, no exit code) and never runs again — "Terminates
 * tasks immediately and removes them from the job queue". The node's agent is removed right after
 * (its report of the killed process no longer matches the claim and is ignored).
 */
export async function terminateNodeTasks(rt: Runtime, poolId: string, nodeId: string): Promise<number> {
  const failureInfo: TaskFailureInfo = { category: 'usererror', code: 'TaskEnded', message: 'The task was terminated because its compute node was removed from the pool (node deallocation option terminate).' };
  let ended = 0;
  for (const job of await rt.jobs.onPool(poolId)) {
    const tasks = await rt.tasks.find(job.value.id, `nodeId eq ${odataString(nodeId)} and state eq 'running'`);
    for (const [bucket, group] of bucketGroups(tasks, (r) => r.value.id, 48)) {
      const t = rt.clock().toISOString();
      const actions: TransactionAction[] = group.map(({ value: task, etag }) => mergeTaskAction(job.value.id, task.id, {
        state: 'completed', stateTransitionTime: t, previousState: 'running', previousStateTransitionTime: task.stateTransitionTime, lastModified: t,
        endTime: t, result: 'failure', failureInfo: JSON.stringify(failureInfo), claim: '',
      }, etag));
      const deltas = group.map(({ value: task }) => moveDelta('running', 'failed', 1, task.requiredSlots));
      await commitWithCounter(rt, job.value.id, bucket, shardOf(`node:${nodeId}`), sumDeltas(...deltas), actions);
      ended += group.length;
    }
  }
  return ended;
}
