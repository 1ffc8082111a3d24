import type { JobRecord } from '../domain/model';
import { enabled } from '../domain/job-state';
import { durationSeconds } from '../api/validate';
import type { Runtime } from '../runtime';
import { BatchError } from '../errors';
import { changeJob } from './jobs';
import { checkJobManager } from './job-manager';
import { completeIfAllTasksDone, finishTerminate, progressDisable, terminateJob } from './job-control';

/**
 * A job created with onAllTasksComplete = terminatejob and no task yet is left alone this long
 * after its last change, so the usual "add the job, then its tasks" sequence is not cut short
 * (the seed: a job with no tasks counts as all complete; the real service decides lazily too).
 */
export const EMPTY_JOB_GRACE_MS = 5000;

/**
 * Job sweep (timer-triggered): what no request drives by itself.
 * - constraints.maxWallClockTime (measured from creation) exceeded → terminate, reason
 *   MaxWallClockTimeExpiry, running tasks ended.
 * - terminating → completed; disabling → disabled (requeue/terminate stragglers, or wait for the
 *   running tasks); enabling → active: steps a request did not finish (crash, or disable `wait`).
 * - onAllTasksComplete = terminatejob with nothing active or running (also a job with no task).
 *
 * Reads: the jobs that are not completed (one query), the counters of the jobs that need one.
 * Writes: only jobs whose state changes (ETag-guarded). Idempotent; safe on several instances.
 */
export async function sweepJobs(rt: Runtime): Promise<number> {
  let changed = 0;
  let continuation: string | undefined;
  do {
    const page = await rt.jobs.list(`state ne 'completed' and state ne 'deleting'`, 1000, continuation);
    for (const { value: j } of page.items) {
      try {
        if (await checkJob(rt, j)) changed++;
      } catch (err) {
        // A job that moved on meanwhile (deleted, completed by a request) is not an error of the sweep.
        if (!(err instanceof BatchError && (err.status === 409 || err.status === 404))) throw err;
      }
    }
    continuation = page.continuation;
  } while (continuation);
  return changed;
}

/** Whether the job's wall-clock limit has passed at `now` (ms). */
export function wallClockExpired(j: JobRecord, now: number): boolean {
  const limit = j.constraints?.maxWallClockTime ? durationSeconds(j.constraints.maxWallClockTime) : undefined;
  return limit !== undefined && now - Date.parse(j.creationTime) >= limit * 1000;
}

async function checkJob(rt: Runtime, j: JobRecord): Promise<boolean> {
  const now = rt.clock().getTime();
  if (j.state === 'terminating') return !!(await finishTerminate(rt, j));
  if (await checkJobManager(rt, j)) return true;
  if (wallClockExpired(j, now)) return !!(await terminateJob(rt, j.id, 'MaxWallClockTimeExpiry'));
  if (j.state === 'disabling' || j.state === 'disabled') return !!(await progressDisable(rt, j));
  if (j.state === 'enabling') return !!(await changeJob(rt, j.id, (x) => enabled(x, rt.clock())));
  if (j.state === 'active' && j.onAllTasksComplete === 'terminatejob' && now - Date.parse(j.lastModified) >= EMPTY_JOB_GRACE_MS) return completeIfAllTasksDone(rt, j);
  return false;
}
