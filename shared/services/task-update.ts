import { BatchError } from '../errors';
import type { JobRecord, TaskConstraints, TaskCounts, TaskRecord, TaskSpec } from '../domain/model';
import { positionOf, refusal, specOf, transition, type CountBucket } from '../domain/task-state';
import type { TaskUpdateBody } from '../api/task-schemas';
import type { Runtime } from '../runtime';
import { bucketOf, chunkKey, idKey, shardOf } from '../storage/keys';
import { createChunkAction, mergeTaskSpecAction, resetTaskAction } from '../storage/tasks';
import type { Stored } from '../storage/table';
import { getJob, invalidateJobsOnPool } from './jobs';
import { forgetChunks } from './queue-heads';
import { withEtagRetry } from './retry';
import { rewritePending } from './task-control';
import { getTask } from './tasks';
import { commitWithCounter, moveDelta, sumDeltas } from './taskflow';

/** The new ETag and time of a changed task. */
export interface TaskChange {
  etag: string;
  lastModified: string;
}

/** The counter delta of a task moving between count buckets. */
export function bucketDelta(from: CountBucket | null, into: CountBucket | null, slots: number): Partial<TaskCounts> {
  const out = (b: CountBucket | null, n: number): Partial<TaskCounts> => (b ? moveDelta(null, b, n, n * slots) : {});
  return sumDeltas(out(from, -1), out(into, 1));
}

/**
 * Task_Update: the body's constraints replace the task's (omitted ones take their defaults, as
 * on add: maxTaskRetryCount from the job, the others unlimited / 7 days). Allowed in every state:
 * an active task's queue entry is rewritten in the same transaction (so its next run uses them);
 * a running task keeps the maxWallClockTime and retry limit it was started with until its next run;
 * a completed task's new retentionTime is recorded (its node already scheduled the cleanup).
 */
export async function updateTask(rt: Runtime, jobId: string, taskId: string, body: TaskUpdateBody, precondition?: (t: Stored<TaskRecord>) => void): Promise<TaskChange> {
  const job = (await getJob(rt, jobId)).value;
  const constraints: TaskConstraints = {
    maxWallClockTime: body.constraints?.maxWallClockTime,
    retentionTime: body.constraints?.retentionTime,
    maxTaskRetryCount: body.constraints?.maxTaskRetryCount ?? job.constraints?.maxTaskRetryCount ?? 0,
  };
  return withEtagRetry(async () => {
    const t = await getTask(rt, jobId, taskId);
    precondition?.(t);
    const tr = transition(positionOf(t.value), { kind: 'update' });
    if (!tr.ok) throw refusal(tr.code);
    const previous = specOf(t.value);
    const spec: TaskSpec = { ...previous, constraints };
    const now = rt.clock().toISOString();
    const queue = tr.queue === 'rewrite' ? await rewritePending(rt, jobId, taskId, (e) => ({ ...e, spec: { ...e.spec, constraints } })) : [];
    const etags = await rt.tasks.transact([...queue, mergeTaskSpecAction(jobId, spec, previous, { lastModified: now }, t.etag)]);
    return { etag: etags.get(idKey(taskId)) ?? '', lastModified: now };
  });
}

function checkJobAllowsReactivate(job: JobRecord): void {
  if (job.state === 'completed') throw new BatchError('JobCompleted', 'The specified job is already in a completed state.');
  if (job.state === 'deleting') throw new BatchError('JobBeingDeleted', 'The specified job has been marked for deletion and is being reclaimed.');
  if (job.state === 'terminating') throw new BatchError('JobBeingTerminated', 'The specified job is being terminated.');
}

let seq = 0;

/**
 * Task_Reactivate: a task that completed with failure goes back to the queue as if new — retry
 * and requeue counts 0, execution info and node info cleared — in one transaction with the
 * counters (failed → active) and a fresh pending chunk; idle nodes are woken. A task that is not
 * completed answers 409 TaskNotCompleted, a successful one 409 TaskSucceeded, and a completed,
 * terminating or deleting job its own 409. (A disabled job accepts it: the task waits until the
 * job is enabled.)
 */
export async function reactivateTask(rt: Runtime, jobId: string, taskId: string, precondition?: (t: Stored<TaskRecord>) => void): Promise<TaskChange> {
  const job = (await getJob(rt, jobId)).value;
  checkJobAllowsReactivate(job);
  const change = await withEtagRetry(async () => {
    const t = await getTask(rt, jobId, taskId);
    precondition?.(t);
    const tr = transition(positionOf(t.value), { kind: 'reactivate' });
    if (!tr.ok) throw refusal(tr.code);
    const now = rt.clock();
    const iso = now.toISOString();
    const row = resetTaskAction(jobId, taskId, {
      state: 'active', stateTransitionTime: iso, previousState: t.value.state, previousStateTransitionTime: t.value.stateTransitionTime, lastModified: iso, retryCount: 0, requeueCount: 0,
    }, ['startTime', 'endTime', 'exitCode', 'result', 'failureInfo', 'lastRetryTime', 'lastRequeueTime', 'nodeId', 'poolId', 'claim', 'stats'], t.etag);
    const chunk = createChunkAction(jobId, bucketOf(taskId), chunkKey(now.getTime(), seq++, rt.ids.hex(3)), [{ spec: specOf(t.value), retryCount: 0, activeSince: iso, creationTime: t.value.creationTime, requeueCount: 0 }]);
    const etags = await commitWithCounter(rt, jobId, bucketOf(taskId), shardOf(`ctl:${taskId}`), bucketDelta(tr.from, tr.into, t.value.requiredSlots), [row, chunk]);
    forgetChunks(rt, jobId, bucketOf(taskId));
    return { etag: etags.get(idKey(taskId)) ?? '', lastModified: iso };
  });
  if (job.poolInfo.poolId) invalidateJobsOnPool(rt, job.poolInfo.poolId);
  return change;
}
