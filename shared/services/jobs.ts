import { BatchError } from '../errors';
import { flushServiceLogs } from '../events/publisher';
import type { JobAddBody } from '../api/schemas';
import type { JobRecord, TaskCounts } from '../domain/model';
import type { Runtime } from '../runtime';
import { StorageError } from '../storage/errors';
import type { Stored } from '../storage/table';
import { BUCKETS, idKey, taskPartition } from '../storage/keys';
import { forgetChunks } from './queue-heads';
import { withEtagRetry } from './retry';
import { cachedTaskCounts, forgetCachedCounts } from './taskflow';
import { ensureActiveJobQuota } from './quotas';
import { poolWorkKey } from './signals';
import { jobTasksOf } from '../domain/job-tasks';
import { jobManagerTaskOf } from '../domain/job-manager';
import { terminating } from '../domain/job-state';
import { releaseOnDelete } from './job-tasks';

export function newJob(b: JobAddBody, now: Date): JobRecord {
  if (!b.poolInfo.poolId) {
    if (b.poolInfo.autoPoolSpecification) throw new BatchError('UnsupportedProperty', 'Auto pools are not available yet in batchplane.', [{ key: 'PropertyName', value: 'poolInfo.autoPoolSpecification' }]);
    throw new BatchError('MissingRequiredProperty', 'A property that is required for this request was not specified.', [{ key: 'PropertyName', value: 'poolInfo.poolId' }]);
  }
  const jobManager = b.jobManagerTask && jobManagerTaskOf(b.jobManagerTask, b.constraints?.maxTaskRetryCount);
  const jobTasks = jobTasksOf(b.jobPreparationTask, b.jobReleaseTask);
  if (b.usesTaskDependencies) throw new BatchError('UnsupportedProperty', 'Task dependencies are not available yet in batchplane.', [{ key: 'PropertyName', value: 'usesTaskDependencies' }]);
  const t = now.toISOString();
  return {
    id: b.id,
    displayName: b.displayName,
    priority: b.priority ?? 0,
    maxParallelTasks: b.maxParallelTasks ?? -1,
    allowTaskPreemption: b.allowTaskPreemption ?? false,
    usesTaskDependencies: false,
    onAllTasksComplete: b.onAllTasksComplete ?? 'noaction',
    onTaskFailure: b.onTaskFailure ?? 'noaction',
    constraints: b.constraints,
    poolInfo: { poolId: b.poolInfo.poolId },
    commonEnvironmentSettings: b.commonEnvironmentSettings ?? [],
    metadata: b.metadata ?? [],
    ...jobTasks,
    // The job manager's task row is added right after the job row (services/job-manager); the flag says it is not yet.
    ...(jobManager ? { jobManagerTask: jobManager, jobManagerPending: true } : {}),
    state: 'active',
    stateTransitionTime: t,
    creationTime: t,
    lastModified: t,
    executionInfo: { startTime: t, poolId: b.poolInfo.poolId },
    taskIdIndex: true,
  };
}

export async function addJob(rt: Runtime, b: JobAddBody): Promise<Stored<JobRecord>> {
  const job = newJob(b, rt.clock());
  await ensureActiveJobQuota(rt);
  try {
    const etag = await rt.jobs.insert(job);
    invalidateJobsOnPool(rt, job.poolInfo.poolId!);
    return { value: job, etag };
  } catch (err) {
    if (err instanceof StorageError && err.isConflict) throw new BatchError('JobExists', 'The specified job already exists.');
    throw err;
  }
}

export async function getJob(rt: Runtime, id: string): Promise<Stored<JobRecord>> {
  const j = await rt.jobs.get(id);
  if (!j) throw new BatchError('JobNotFound', 'The specified job does not exist.');
  return j;
}

export async function changeJob(rt: Runtime, id: string, change: (j: JobRecord) => JobRecord, precondition?: (j: Stored<JobRecord>) => void): Promise<Stored<JobRecord>> {
  const res = await withEtagRetry(async () => {
    const cur = await getJob(rt, id);
    precondition?.(cur);
    const next = change(cur.value);
    if (next === cur.value) return cur;
    return { value: next, etag: await rt.jobs.update(next, cur.etag) };
  });
  if (res.value.poolInfo.poolId) invalidateJobsOnPool(rt, res.value.poolInfo.poolId);
  return res;
}

/** Straight to completed (nothing runs any more: onAllTasksComplete). Terminate with running tasks: services/job-control. */
export function terminated(j: JobRecord, reason: string, now: Date): JobRecord {
  if (j.state === 'completed') throw new BatchError('JobCompleted', 'The specified job is already in a completed state.');
  if (j.state === 'deleting') throw new BatchError('JobBeingDeleted', 'The specified job has been marked for deletion and is being reclaimed.');
  if (j.state === 'terminating') throw new BatchError('JobBeingTerminated', 'The specified job is already being terminated.');
  // With a release task the job completes once it ran on the nodes (job-control finishTerminate, via the job sweep).
  if (j.jobReleaseTask) return terminating(j, reason, now);
  const t = now.toISOString();
  return {
    ...j, state: 'completed', previousState: j.state, previousStateTransitionTime: j.stateTransitionTime, stateTransitionTime: t, lastModified: t,
    executionInfo: { ...j.executionInfo, endTime: t, terminateReason: reason },
  };
}

/** delete: mark deleting, remove every row of the job's bucket partitions, then the job row. */
export async function deleteJob(rt: Runtime, id: string, precondition?: (j: Stored<JobRecord>) => void): Promise<void> {
  const job = await changeJob(rt, id, (j) => (j.state === 'deleting' ? j : { ...j, state: 'deleting', previousState: j.state, previousStateTransitionTime: j.stateTransitionTime, stateTransitionTime: rt.clock().toISOString() }), precondition);
  // Release tasks run best-effort on the nodes that ran the preparation (before the status rows go).
  await releaseOnDelete(rt, job.value);
  await Promise.all(BUCKETS.map((b) => flushServiceLogs(rt, { table: 'tasks', partitionKey: taskPartition(id, b) })));
  await rt.tasks.deleteJobRows(id);
  forgetCachedCounts(rt, id);
  forgetChunks(rt, id);
  await rt.jobs.delete(id);
  if (job.value.poolInfo.poolId) invalidateJobsOnPool(rt, job.value.poolInfo.poolId);
}

export async function taskCounts(rt: Runtime, jobId: string): Promise<TaskCounts> {
  await getJob(rt, jobId);
  return cachedTaskCounts(rt, jobId);
}

/** Active jobs of a pool by priority (desc) then age, cached for a second per process. */
export async function activeJobsOnPool(rt: Runtime, poolId: string): Promise<JobRecord[]> {
  const key = `jobs:${idKey(poolId)}`;
  const hit = rt.cache.get(key);
  if (hit && hit.until > rt.clock().getTime()) return hit.value as JobRecord[];
  const jobs = (await rt.jobs.activeOnPool(poolId)).map((j) => j.value).sort((a, b) => b.priority - a.priority || a.creationTime.localeCompare(b.creationTime));
  rt.cache.set(key, { until: rt.clock().getTime() + 1000, value: jobs });
  return jobs;
}

export function invalidateJobsOnPool(rt: Runtime, poolId: string): void {
  rt.cache.delete(`jobs:${idKey(poolId)}`);
  rt.signals.notify(poolWorkKey(poolId));
}
