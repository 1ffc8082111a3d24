import type { TransactionAction } from '@azure/data-tables';
import { positionOf, refusal, transition } from '../domain/task-state';
import type { TaskFailureInfo, TaskRecord } from '../domain/model';
import type { Runtime } from '../runtime';
import { bucketOf, idKey, shardOf } from '../storage/keys';
import { deleteTaskAction, isExhausted, mergeTaskAction, rewriteChunkAction, type Chunk, type PendingEntry } from '../storage/tasks';
import type { Stored } from '../storage/table';
import { getTask } from './tasks';
import { forgetChunks } from './queue-heads';
import { withEtagRetry } from './retry';
import { nodeKey, poolWorkKey } from './signals';
import { commitWithCounter, moveDelta } from './taskflow';

const ENDED: TaskFailureInfo = { category: 'usererror', code: 'TaskEnded', message: 'Task Was Ended by User Request' };

/**
 * terminate: an active task leaves the queue and completes (failure, TaskEnded) in one
 * transaction; a running task's agent is told to kill it and reports the completion itself;
 * a completed task answers 409 TaskCompleted.
 */
export async function terminateTask(rt: Runtime, jobId: string, taskId: string, precondition?: (t: Stored<TaskRecord>) => void): Promise<void> {
  await withEtagRetry(async () => {
    const t = await getTask(rt, jobId, taskId);
    precondition?.(t);
    const tr = transition(positionOf(t.value), { kind: 'terminate' });
    if (!tr.ok) throw refusal(tr.code);
    if (tr.queue === 'dequeue') {
      const now = rt.clock().toISOString();
      const merge = mergeTaskAction(jobId, taskId, { state: 'completed', stateTransitionTime: now, previousState: 'active', previousStateTransitionTime: t.value.stateTransitionTime, lastModified: now, endTime: now, result: 'failure', failureInfo: JSON.stringify(ENDED) }, t.etag);
      await commitWithCounter(rt, jobId, bucketOf(taskId), shardOf(`ctl:${taskId}`), moveDelta('active', 'failed', 1, t.value.requiredSlots), [...(await unqueue(rt, jobId, taskId)), merge]);
      return;
    }
    if (tr.killOnNode && t.value.nodeInfo) await sendCommand(rt, t.value.nodeInfo.poolId, t.value.nodeInfo.nodeId, { kind: 'terminateTask', jobId: t.value.jobId, taskId: t.value.id });
  });
}

/** delete: the task row goes (an active task also leaves the queue; a running one is killed). */
export async function deleteTask(rt: Runtime, jobId: string, taskId: string, precondition?: (t: Stored<TaskRecord>) => void): Promise<void> {
  await withEtagRetry(async () => {
    const t = await getTask(rt, jobId, taskId);
    precondition?.(t);
    const s = t.value.state;
    const from = s === 'active' ? 'active' : s === 'running' || s === 'preparing' ? 'running' : null;
    const delta = from ? moveDelta(from, null, 1, t.value.requiredSlots) : moveDelta(null, t.value.executionInfo.result === 'success' ? 'succeeded' : 'failed', -1, -t.value.requiredSlots);
    const del = deleteTaskAction(jobId, taskId);
    await commitWithCounter(rt, jobId, bucketOf(taskId), shardOf(`ctl:${taskId}`), delta, [...(s === 'active' ? await unqueue(rt, jobId, taskId) : []), del]);
    if (from === 'running' && t.value.nodeInfo) await sendCommand(rt, t.value.nodeInfo.poolId, t.value.nodeInfo.nodeId, { kind: 'terminateTask', jobId: t.value.jobId, taskId: t.value.id });
  });
}

/** The chunk rewrite that takes a pending task out of its job's queue (empty when not queued). */
async function unqueue(rt: Runtime, jobId: string, taskId: string): Promise<TransactionAction[]> {
  return rewritePending(rt, jobId, taskId, () => undefined);
}

/**
 * The chunk rewrite that replaces a pending task's queue entry with `edit(entry)` (removes it when
 * `edit` answers undefined); empty when the task is not queued. ETag-guarded like a claim.
 */
export async function rewritePending(rt: Runtime, jobId: string, taskId: string, edit: (e: PendingEntry) => PendingEntry | undefined): Promise<TransactionAction[]> {
  const bucket = bucketOf(taskId);
  const chunks: Chunk[] = await rt.tasks.chunks(jobId, bucket, 1000);
  for (const c of chunks) {
    if (isExhausted(c)) continue;
    const idx = c.entries.findIndex((e, i) => i >= c.next && idKey(e.spec.id) === idKey(taskId));
    if (idx < 0) continue;
    forgetChunks(rt, jobId, bucket);
    const entries = c.entries.flatMap((e, i) => (i < c.next ? [] : i !== idx ? [e] : (edit(e) ?? [])));
    return [rewriteChunkAction(jobId, c, entries)];
  }
  return [];
}

async function sendCommand(rt: Runtime, poolId: string, nodeId: string, cmd: { kind: 'terminateTask'; jobId: string; taskId: string }): Promise<void> {
  await withEtagRetry(async () => {
    const n = await rt.nodes.get(poolId, nodeId);
    if (!n) return;
    const commands = [...(n.value.commands ?? []).filter((c) => c.kind !== 'terminateTask' || c.jobId !== cmd.jobId || c.taskId !== cmd.taskId), cmd];
    await rt.nodes.update({ ...n.value, commands }, n.etag);
  });
  rt.cache.delete(nodeKey(poolId, nodeId));
  rt.signals.notify(poolWorkKey(poolId));
}
