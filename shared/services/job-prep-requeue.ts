import type { TaskCounts } from '../domain/model';
import type { TaskCompletion } from '../nodes/protocol';
import type { Runtime } from '../runtime';
import { bucketOf, chunkKey, shardOf } from '../storage/keys';
import { createChunkAction, isConflictOrStale, mergeTaskAction, type PendingEntry } from '../storage/tasks';
import { decodeClaim } from './claims';
import { forgetChunks } from './queue-heads';
import { poolWorkKey } from './signals';
import { commitWithCounter, moveDelta } from './taskflow';

/**
 * Tasks a node gives back without running them (its job preparation task failed): back to
 * active with requeueCount + 1 and no retry counted, as a job disable's requeue does. Only the
 * run the node was handed (same claim, still running on this node) moves; anything else is
 * acknowledged as already settled. Returns the acknowledged keys (`jobId/taskId`).
 */
export async function requeueGivenBack(rt: Runtime, poolId: string, nodeId: string, completions: TaskCompletion[]): Promise<string[]> {
  const acked: string[] = [];
  for (const c of completions) {
    const tok = decodeClaim(c.claim);
    const t = tok ? await rt.tasks.get(c.jobId, c.taskId) : undefined;
    if (tok && t && t.value.state === 'running' && t.value.claim === tok.c && t.value.nodeInfo?.nodeId === nodeId) {
      const now = rt.clock();
      const at = now.toISOString();
      const task = t.value;
      const requeueCount = task.executionInfo.requeueCount + 1;
      const { jobId: _j, state: _s, stateTransitionTime: _st, previousState: _p, previousStateTransitionTime: _pt, creationTime: _c, lastModified: _l, executionInfo: _e, nodeInfo: _n, claim: _cl, stats: _stats, ...spec } = task;
      const entry: PendingEntry = { spec, retryCount: task.executionInfo.retryCount, activeSince: at, creationTime: task.creationTime, requeueCount };
      const delta: Partial<TaskCounts> = moveDelta('running', 'active', 1, task.requiredSlots);
      try {
        await commitWithCounter(rt, c.jobId, bucketOf(c.taskId), shardOf(`node:${nodeId}`), delta, [
          mergeTaskAction(c.jobId, c.taskId, { state: 'active', stateTransitionTime: at, previousState: 'running', previousStateTransitionTime: task.stateTransitionTime, lastModified: at, claim: '', requeueCount, lastRequeueTime: at }, t.etag),
          createChunkAction(c.jobId, bucketOf(c.taskId), chunkKey(now.getTime(), seq++, rt.ids.hex(3)), [entry]),
        ]);
        forgetChunks(rt, c.jobId, bucketOf(c.taskId));
        rt.signals.notify(poolWorkKey(poolId));
      } catch (err) {
        // The task changed meanwhile (terminated, deleted, requeued): nothing left to give back.
        if (!isConflictOrStale(err)) throw err;
      }
    }
    acked.push(`${c.jobId}/${c.taskId}`);
  }
  return acked;
}

let seq = 0;
