import type { TransactionAction } from '@azure/data-tables';
import { BatchError } from '../errors';
import type { JobPatchBody, JobUpdateBody } from '../api/job-schemas';
import type { JobRecord, NodeRecord, TaskCounts, TaskFailureInfo, TaskRecord } from '../domain/model';
import { changedJob, completedJob, disabled, disabling, enabled, enabling, terminating, type DisableJobOption, type JobChanges } from '../domain/job-state';
import { jobActionFor, type ExitConditions } from '../domain/exit-conditions';
import type { TaskCompletion } from '../nodes/protocol';
import type { Runtime } from '../runtime';
import { chunkKey, shardOf } from '../storage/keys';
import { createChunkAction, mergeTaskAction, type PendingEntry } from '../storage/tasks';
import type { Stored } from '../storage/table';
import { decodeClaim } from './claims';
import { forgetChunks } from './queue-heads';
import { activeJobsOnPool, changeJob, getJob, invalidateJobsOnPool, terminated } from './jobs';
import { withEtagRetry } from './retry';
import { nodeKey, poolWorkKey } from './signals';
import { bucketGroups, commitWithCounter, moveDelta, sumDeltas } from './taskflow';
import { releasesFinished } from './job-tasks';

/**
 * Job control beyond add/get/delete: PATCH and PUT, disable/enable, terminate (with the job's
 * running tasks), and the automatic terminations (onAllTasksComplete, maxWallClockTime). The
 * transition rules are pure (domain/job-state); this module applies them and moves the tasks.
 * Every step is idempotent, and the job monitor (services/job-monitor) finishes any step a
 * crashed request left half done (a job stuck in disabling, enabling or terminating).
 */

type Guard = (j: Stored<JobRecord>) => void;

function changesOf(b: JobPatchBody | JobUpdateBody, mode: 'patch' | 'replace'): JobChanges {
  if (b.poolInfo?.autoPoolSpecification) throw new BatchError('UnsupportedProperty', 'Auto pools are not available yet in batchplane.', [{ key: 'PropertyName', value: 'poolInfo.autoPoolSpecification' }]);
  if (mode === 'replace' && !b.poolInfo?.poolId) throw new BatchError('MissingRequiredProperty', 'A property that is required for this request was not specified.', [{ key: 'PropertyName', value: 'poolInfo.poolId' }]);
  return {
    priority: b.priority,
    maxParallelTasks: b.maxParallelTasks,
    allowTaskPreemption: b.allowTaskPreemption,
    onAllTasksComplete: b.onAllTasksComplete,
    constraints: b.constraints,
    poolId: b.poolInfo?.poolId,
    metadata: b.metadata,
  };
}

/** PATCH (only what is given) or PUT (replace) of a job's updatable properties. */
export async function updateJobProperties(rt: Runtime, id: string, body: JobPatchBody | JobUpdateBody, mode: 'patch' | 'replace', precondition?: Guard): Promise<Stored<JobRecord>> {
  const changes = changesOf(body, mode);
  let before: JobRecord | undefined;
  const res = await changeJob(rt, id, (j) => {
    before = j;
    return changedJob(j, changes, mode, rt.clock());
  }, precondition);
  const oldPool = before?.poolInfo.poolId;
  if (oldPool && oldPool !== res.value.poolInfo.poolId) invalidateJobsOnPool(rt, oldPool);
  // Switching to terminatejob once every task is done (or with no task at all) ends the job now.
  if (res.value.onAllTasksComplete === 'terminatejob' && before?.onAllTasksComplete !== 'terminatejob') await completeIfAllTasksDone(rt, res.value);
  return res;
}

/** onAllTasksComplete = terminatejob: an active job with nothing active or running completes ("a job with no tasks counts as all complete"). */
export async function completeIfAllTasksDone(rt: Runtime, job: JobRecord): Promise<boolean> {
  if (job.state !== 'active' || job.onAllTasksComplete !== 'terminatejob') return false;
  const c = await rt.tasks.counts(job.id);
  if (c.active + c.running > 0) return false;
  await changeJob(rt, job.id, (j) => (j.state === 'active' && j.onAllTasksComplete === 'terminatejob' ? terminated(j, 'AllTasksComplete', rt.clock()) : j)).catch(ignoreStateConflict);
  return true;
}

/** POST /jobs/{id}/disable: → disabling; running tasks are requeued, ended or waited for; → disabled. */
export async function disableJob(rt: Runtime, id: string, option: DisableJobOption, precondition?: Guard): Promise<Stored<JobRecord>> {
  const res = await changeJob(rt, id, (j) => disabling(j, option, rt.clock()), precondition);
  return (await progressDisable(rt, res.value)) ?? res;
}

/**
 * One step of a disable: apply the option to the tasks still running (requeue / terminate; wait
 * leaves them), then move disabling → disabled when none runs. Also used on disabled jobs by the
 * monitor: a claim that read the job as active just before the disable may still have started a
 * task, which the option then catches.
 */
export async function progressDisable(rt: Runtime, job: JobRecord): Promise<Stored<JobRecord> | undefined> {
  if (job.state !== 'disabling' && job.state !== 'disabled') return undefined;
  const option = job.disable?.option ?? 'requeue';
  if (option !== 'wait') {
    const c = await rt.tasks.counts(job.id);
    if (c.running > 0) await settleRunningTasks(rt, job, option);
  }
  if (job.state !== 'disabling') return undefined;
  const running = (await rt.tasks.counts(job.id)).running;
  if (running > 0) return undefined;
  return changeJob(rt, job.id, (j) => disabled(j, running, rt.clock()));
}

/** POST /jobs/{id}/enable: → enabling → active (scheduling resumes). */
export async function enableJob(rt: Runtime, id: string, precondition?: Guard): Promise<Stored<JobRecord>> {
  await changeJob(rt, id, (j) => enabling(j, rt.clock()), precondition);
  return changeJob(rt, id, (j) => enabled(j, rt.clock()));
}

/** POST /jobs/{id}/terminate and the automatic terminations: → terminating, running tasks end, → completed. */
export async function terminateJob(rt: Runtime, id: string, reason: string, precondition?: Guard): Promise<Stored<JobRecord>> {
  const res = await changeJob(rt, id, (j) => terminating(j, reason, rt.clock()), precondition);
  return finishTerminate(rt, res.value);
}

export async function finishTerminate(rt: Runtime, job: JobRecord): Promise<Stored<JobRecord>> {
  if ((await rt.tasks.counts(job.id)).running > 0) await settleRunningTasks(rt, job, 'terminate');
  // A job release task: the job stays terminating until it ran on every node that ran the
  // preparation task (services/job-tasks; the job sweep calls this again until then).
  if (job.jobReleaseTask && !(await releasesFinished(rt, job))) return getJob(rt, job.id);
  return changeJob(rt, job.id, (j) => completedJob(j, rt.clock()));
}

/** A job action raised by a task (exit conditions): terminate with reason TaskFailed, or disable with requeue. */
export async function applyJobAction(rt: Runtime, jobId: string, action: 'none' | 'disable' | 'terminate'): Promise<void> {
  if (action === 'terminate') await terminateJob(rt, jobId, 'TaskFailed').catch(ignoreStateConflict);
  else if (action === 'disable') await disableJob(rt, jobId, 'requeue').catch(ignoreStateConflict);
}

/** A job that already moved on (completed, deleting, gone) makes an automatic action moot. */
function ignoreStateConflict(err: unknown): void {
  if (err instanceof BatchError && (err.status === 409 || err.code === 'JobNotFound')) return;
  throw err;
}

const ENDED: TaskFailureInfo = { category: 'usererror', code: 'TaskEnded', message: 'The task was terminated because its job was terminated or disabled.' };

/**
 * The job's running tasks: requeue (back to active, requeueCount + 1, no retry counted) or
 * terminate (completed, failure, TaskEnded). The rows are settled first, then each node's agent is
 * told to kill the processes; the kill's report no longer matches the run and is ignored.
 */
async function settleRunningTasks(rt: Runtime, job: JobRecord, option: 'requeue' | 'terminate'): Promise<number> {
  const running = await rt.tasks.find(job.id, `state eq 'running'`);
  for (const [bucket, group] of bucketGroups(running, (r) => r.value.id, 48)) {
    const now = rt.clock();
    const t = now.toISOString();
    const actions: TransactionAction[] = [];
    const entries: PendingEntry[] = [];
    const deltas: Partial<TaskCounts>[] = [];
    for (const { value: task, etag } of group) {
      const base = { stateTransitionTime: t, previousState: 'running' as const, previousStateTransitionTime: task.stateTransitionTime, lastModified: t, claim: '' };
      if (option === 'requeue') {
        const requeueCount = task.executionInfo.requeueCount + 1;
        actions.push(mergeTaskAction(job.id, task.id, { ...base, state: 'active', requeueCount, lastRequeueTime: t }, etag));
        entries.push({ spec: specOf(task), retryCount: task.executionInfo.retryCount, activeSince: t, creationTime: task.creationTime, requeueCount });
        deltas.push(moveDelta('running', 'active', 1, task.requiredSlots));
      } else {
        actions.push(mergeTaskAction(job.id, task.id, { ...base, state: 'completed', endTime: t, result: 'failure', failureInfo: JSON.stringify(ENDED) }, etag));
        deltas.push(moveDelta('running', 'failed', 1, task.requiredSlots));
      }
    }
    if (entries.length) actions.push(createChunkAction(job.id, bucket, chunkKey(now.getTime(), seq++, rt.ids.hex(3)), entries));
    await commitWithCounter(rt, job.id, bucket, shardOf(`job:${job.id}`), sumDeltas(...deltas), actions);
  }
  if (option === 'requeue') forgetChunks(rt, job.id);
  await killOnNodes(rt, job.id, running.map((r) => r.value));
  if (job.poolInfo.poolId) rt.signals.notify(poolWorkKey(job.poolInfo.poolId));
  return running.length;
}

let seq = 0;

function specOf(task: TaskRecord): PendingEntry['spec'] {
  const { jobId: _j, state: _s, stateTransitionTime: _st, previousState: _p, previousStateTransitionTime: _pt, creationTime: _c, lastModified: _l, executionInfo: _e, nodeInfo: _n, claim: _cl, stats: _stats, ...spec } = task;
  return spec;
}

/** Queues terminateTask commands on the nodes that ran the tasks (one node write per node). */
async function killOnNodes(rt: Runtime, jobId: string, tasks: TaskRecord[]): Promise<void> {
  const byNode = new Map<string, { poolId: string; nodeId: string; taskIds: string[] }>();
  for (const t of tasks) {
    if (!t.nodeInfo) continue;
    const k = `${t.nodeInfo.poolId}/${t.nodeInfo.nodeId}`;
    const e = byNode.get(k) ?? { poolId: t.nodeInfo.poolId, nodeId: t.nodeInfo.nodeId, taskIds: [] };
    e.taskIds.push(t.id);
    byNode.set(k, e);
  }
  for (const { poolId, nodeId, taskIds } of byNode.values()) {
    await withEtagRetry(async () => {
      const n = await rt.nodes.get(poolId, nodeId);
      if (!n) return;
      const ids = new Set(taskIds);
      const kept = (n.value.commands ?? []).filter((c) => !(c.kind === 'terminateTask' && c.jobId === jobId && ids.has(c.taskId)));
      const commands: NodeRecord['commands'] = [...kept, ...taskIds.map((taskId) => ({ kind: 'terminateTask' as const, jobId, taskId }))];
      await rt.nodes.update({ ...n.value, commands }, n.etag);
    });
    rt.cache.delete(nodeKey(poolId, nodeId));
  }
}


/**
 * Exit conditions (called after an exchange's completions are committed): a finished task of a
 * job whose onTaskFailure is performexitoptionsjobaction may disable or terminate the job
 * (domain/exit-conditions). Only the run that the completion reports counts: the task row must
 * be completed under that claim (a run requeued or ended meanwhile decides nothing). One task read
 * per final completion, and only for such jobs.
 */
export async function applyExitJobActions(rt: Runtime, poolId: string, completions: TaskCompletion[]): Promise<void> {
  const jobs = new Map<string, JobRecord | undefined>();
  const jobOf = async (jobId: string): Promise<JobRecord | undefined> => {
    if (!jobs.has(jobId)) jobs.set(jobId, (await activeJobsOnPool(rt, poolId)).find((j) => j.id === jobId) ?? (await rt.jobs.get(jobId))?.value);
    return jobs.get(jobId);
  };
  for (const c of completions) {
    const tok = decodeClaim(c.claim);
    if (!tok || (c.result === 'failure' && (tok.m === -1 || tok.r < tok.m))) continue;
    const job = await jobOf(c.jobId);
    if (!job || job.onTaskFailure !== 'performexitoptionsjobaction' || !STILL_OPEN.has(job.state)) continue;
    const t = await rt.tasks.get(c.jobId, c.taskId);
    if (!t || t.value.state !== 'completed' || t.value.claim !== tok.c) continue;
    const action = jobActionFor(t.value.exitConditions as ExitConditions | undefined, t.value.executionInfo);
    if (action === 'none') continue;
    await applyJobAction(rt, c.jobId, action);
    jobs.set(c.jobId, (await rt.jobs.get(c.jobId))?.value);
  }
}

const STILL_OPEN: ReadonlySet<string> = new Set(['active', 'disabling', 'disabled', 'enabling']);
