import type { JobAddBody, TaskAddBody } from '../api/schemas';
import { BatchError } from '../errors';
import { bodyOutputFile, JM_COMPLETE, jobManagerEndsJob, jobManagerSlots, UNLIMITED_WALL_CLOCK, type JobManagerTask } from '../domain/job-manager';
import type { JobRecord } from '../domain/model';
import type { TaskCompletion } from '../nodes/protocol';
import type { Runtime } from '../runtime';
import type { Stored } from '../storage/table';
import { decodeClaim } from './claims';
import { terminateJob } from './job-control';
import { activeJobsOnPool, addJob, changeJob, deleteJob, newJob } from './jobs';
import { addTasks, taskSpecOf } from './tasks';

/**
 * The Job Manager task (REST JobManagerTask; pure rules in domain/job-manager):
 *
 *   job add ──▶ job row (jobManagerPending) ──▶ the job manager as an ordinary task row of the job
 *   (same id, ordinary addTasks path: first in the job's FIFO queue, so it is claimed before any
 *   task added after it) ──▶ flag cleared. It then runs, retries (its constraints) and reports like
 *   any task.
 *   job manager completed + killJobOnCompletion ──▶ terminate the job, reason JMComplete (the
 *   ordinary terminate path: the job's running tasks are ended).
 *
 * Two writers in two tables cannot be one transaction, so a job add with a job manager is made
 * whole in two ways: a failed task add deletes the job again (the request fails, nothing stays);
 * a crash between the two writes leaves the job flagged, and the job sweep (job-monitor →
 * checkJobManager) adds the task after a grace period. The add is idempotent (TaskExists counts
 * as added), so the request and the sweep racing each other is harmless.
 *
 * Out of scope (see domain/job-manager): preempting other tasks to restart a job manager, and
 * keeping its node to the last on a downsize.
 */

/** A flagged job younger than this is still being added by its request; older ones the sweep finishes. */
export const PENDING_GRACE_MS = 5000;

/** POST /jobs: the job, then its job manager task. Everything is validated before the first write. */
export async function addJobWithManager(rt: Runtime, b: JobAddBody): Promise<Stored<JobRecord>> {
  if (!b.jobManagerTask) return addJob(rt, b);
  // Validate as a task of the job too (resource and output file rules of taskSpecOf), before anything is stored.
  const draft = newJob(b, rt.clock());
  taskSpecOf(taskBodyOf(draft.jobManagerTask!, undefined), draft);
  const created = await addJob(rt, b);
  try {
    return (await queueJobManager(rt, created.value)) ?? created;
  } catch (err) {
    // Not left half made: the job goes again. Should that fail too, the flag is still set and the sweep adds the task.
    await deleteJob(rt, created.value.id).catch(() => undefined);
    throw err;
  }
}

/**
 * Adds the job manager's task row of a flagged job (idempotent) and clears the flag. The slots:
 * runExclusive asks for the pool's taskSlotsPerNode, read now; a pool that does not exist yet
 * gives only the requiredSlots asked for (nothing says how large its nodes will be).
 */
export async function queueJobManager(rt: Runtime, job: JobRecord): Promise<Stored<JobRecord> | undefined> {
  const jm = job.jobManagerTask;
  if (!jm || !job.jobManagerPending) return undefined;
  const pool = job.poolInfo.poolId ? await rt.pools.get(job.poolInfo.poolId) : undefined;
  const [res] = await addTasks(rt, job.id, [taskBodyOf(jm, pool?.value.taskSlotsPerNode)]);
  if (res && res.status !== 'success' && res.error?.code !== 'TaskExists') throw new BatchError(res.error?.code ?? 'InternalError', res.error?.message ?? 'The job manager task could not be added.');
  return changeJob(rt, job.id, (j) => (j.jobManagerPending ? { ...j, jobManagerPending: undefined } : j));
}

/** The task-add body of a stored job manager (the stored defaults that are no limits are left out). */
export function taskBodyOf(jm: JobManagerTask, slotsPerNode: number | undefined): TaskAddBody {
  const c = jm.constraints;
  return {
    id: jm.id,
    displayName: jm.displayName,
    commandLine: jm.commandLine,
    resourceFiles: jm.resourceFiles as TaskAddBody['resourceFiles'],
    outputFiles: jm.outputFiles?.map(bodyOutputFile) as TaskAddBody['outputFiles'],
    environmentSettings: jm.environmentSettings,
    constraints: {
      ...(c.maxWallClockTime !== UNLIMITED_WALL_CLOCK ? { maxWallClockTime: c.maxWallClockTime } : {}),
      retentionTime: c.retentionTime,
      maxTaskRetryCount: c.maxTaskRetryCount,
    },
    requiredSlots: jobManagerSlots(jm, slotsPerNode),
    userIdentity: jm.userIdentity,
  };
}

/**
 * Fast path, after an exchange's completions are committed (completions.completeJobsIfDone): a
 * final completion of an active job's job manager with killJobOnCompletion terminates the job.
 * Only the run the completion reports counts (the row must be completed under that claim).
 */
export async function endJobsOfJobManagers(rt: Runtime, poolId: string, completions: TaskCompletion[]): Promise<void> {
  for (const c of completions) {
    const tok = decodeClaim(c.claim);
    if (!tok || (c.result === 'failure' && (tok.m === -1 || tok.r < tok.m))) continue;
    const job = (await activeJobsOnPool(rt, poolId)).find((j) => j.id === c.jobId);
    if (!job?.jobManagerTask?.killJobOnCompletion || job.jobManagerTask.id !== c.taskId) continue;
    const t = await rt.tasks.get(c.jobId, c.taskId);
    if (!t || t.value.claim !== tok.c || !jobManagerEndsJob(job, t.value.state)) continue;
    await terminateJob(rt, c.jobId, JM_COMPLETE).catch(ignoreMovedOn);
  }
}

/**
 * The job sweep's part (job-monitor), the path that holds after a crash: it looks at state, not
 * at a message. A flagged job past the grace period gets its job manager task; an open job whose
 * job manager (killJobOnCompletion) is completed is terminated with JMComplete — whichever way
 * the task completed (a node's report, task terminate, node removal) and even if the request
 * that applied the completion died before the fast path ran. One task read per such job.
 */
export async function checkJobManager(rt: Runtime, j: JobRecord): Promise<boolean> {
  const jm = j.jobManagerTask;
  if (!jm) return false;
  if (j.jobManagerPending) {
    if (rt.clock().getTime() - Date.parse(j.creationTime) < PENDING_GRACE_MS || (j.state !== 'active' && j.state !== 'disabled')) return false;
    return !!(await queueJobManager(rt, j));
  }
  if (!jobManagerEndsJob(j, 'completed')) return false;
  const t = await rt.tasks.get(j.id, jm.id);
  if (!jobManagerEndsJob(j, t?.value.state)) return false;
  await terminateJob(rt, j.id, JM_COMPLETE);
  return true;
}

function ignoreMovedOn(err: unknown): void {
  if (err instanceof BatchError && (err.status === 409 || err.code === 'JobNotFound')) return;
  throw err;
}
