/**
 * The job state machine (REST JobState) as pure transition rules: which operation is allowed in
 * which state, and what the job record becomes. No I/O; the services apply the results.
 *
 *   active ──disable──▶ disabling ──(running tasks dealt with)──▶ disabled
 *   disabled/disabling ──enable──▶ enabling ──▶ active
 *   active/disabling/disabled/enabling ──terminate──▶ terminating ──(running tasks ended)──▶ completed
 *   any ──delete──▶ deleting
 */
import { BatchError } from '../errors';
import type { JobRecord, JobState, NameValue } from './model';

export type DisableJobOption = 'requeue' | 'terminate' | 'wait';


function busy(j: JobRecord): void {
  if (j.state === 'completed') throw new BatchError('JobCompleted', 'The specified job is already in a completed state.');
  if (j.state === 'deleting') throw new BatchError('JobBeingDeleted', 'The specified job has been marked for deletion and is being reclaimed.');
  if (j.state === 'terminating') throw new BatchError('JobBeingTerminated', 'The specified job is being terminated.');
}

function moved(j: JobRecord, state: JobState, now: Date): JobRecord {
  const t = now.toISOString();
  return { ...j, state, previousState: j.state, previousStateTransitionTime: j.stateTransitionTime, stateTransitionTime: t, lastModified: t };
}

/**
 * disable: active → disabling. A job already disabling or disabled is left as it is (the spec
 * allows disable in those states; the first option given stays in force). 409 otherwise.
 */
export function disabling(j: JobRecord, option: DisableJobOption, now: Date): JobRecord {
  busy(j);
  if (j.state === 'disabling' || j.state === 'disabled') return j;
  if (j.state === 'enabling') throw new BatchError('JobNotActive', 'The specified job is not in an active state.');
  return { ...moved(j, 'disabling', now), disable: { option, at: now.toISOString() } };
}

/** disabling → disabled once no task of the job runs any more (unchanged in any other state). */
export function disabled(j: JobRecord, runningTasks: number, now: Date): JobRecord {
  if (j.state !== 'disabling' || runningTasks > 0) return j;
  return moved(j, 'disabled', now);
}

/**
 * enable: disabled or disabling → enabling. Enabling a job that is already active or enabling is
 * accepted and changes nothing (a retried enable must not fail; the spec is silent).
 */
export function enabling(j: JobRecord, now: Date): JobRecord {
  busy(j);
  if (j.state === 'active' || j.state === 'enabling') return j;
  const { disable: _d, ...rest } = j;
  return moved(rest, 'enabling', now);
}

/** enabling → active (scheduling resumes). */
export function enabled(j: JobRecord, now: Date): JobRecord {
  return j.state === 'enabling' ? moved(j, 'active', now) : j;
}

/** terminate: → terminating with the reason recorded; completed, deleting and terminating answer 409. */
export function terminating(j: JobRecord, reason: string, now: Date): JobRecord {
  busy(j);
  const next = moved(j, 'terminating', now);
  return { ...next, executionInfo: { ...j.executionInfo, terminateReason: reason } };
}

/** terminating → completed (the running tasks have been ended). */
export function completedJob(j: JobRecord, now: Date): JobRecord {
  if (j.state !== 'terminating') return j;
  const next = moved(j, 'completed', now);
  return { ...next, executionInfo: { ...next.executionInfo, endTime: next.stateTransitionTime } };
}

/** Whether claims may hand out this job's tasks. */
export const schedulesTasks = (s: JobState): boolean => s === 'active';

/** Whether tasks may be added: a disabled job still takes tasks; they run once it is enabled. */
export const acceptsTasks = (s: JobState): boolean => s === 'active' || s === 'disabling' || s === 'disabled' || s === 'enabling';

/**
 * maxParallelTasks at claim time: how many more tasks of the job may start now, given how many
 * run. -1 = no limit. Counting running tasks (not slots) is what the spec's "number of tasks that
 * can be executed in parallel" means.
 */
export function parallelAllowance(maxParallelTasks: number, running: number): number {
  if (maxParallelTasks < 0) return Number.POSITIVE_INFINITY;
  return Math.max(0, maxParallelTasks - running);
}

/** The updatable job properties, validated (PATCH: absent = unchanged; PUT: absent = default). */
export interface JobChanges {
  priority?: number;
  maxParallelTasks?: number;
  allowTaskPreemption?: boolean;
  onAllTasksComplete?: 'noaction' | 'terminatejob';
  constraints?: { maxWallClockTime?: string; maxTaskRetryCount?: number } | null;
  poolId?: string;
  metadata?: NameValue[];
}

/**
 * Applies PATCH (mode 'patch': only what is given) or PUT (mode 'replace': everything, omitted
 * properties take their defaults and constraints are cleared) to a job.
 * - onAllTasksComplete cannot go back from terminatejob to noaction → 400 InvalidPropertyValue.
 * - The pool may change only while the job is disabled → 409 (naming the same pool is fine).
 */
export function changedJob(j: JobRecord, c: JobChanges, mode: 'patch' | 'replace', now: Date): JobRecord {
  busy(j);
  const pick = <T>(given: T | undefined, current: T, dflt: T): T => (given !== undefined ? given : mode === 'patch' ? current : dflt);
  const onAll = pick(c.onAllTasksComplete, j.onAllTasksComplete, 'noaction');
  if (j.onAllTasksComplete === 'terminatejob' && onAll === 'noaction') {
    throw new BatchError('InvalidPropertyValue', 'The value provided for one of the properties in the request body is invalid.', [
      { key: 'PropertyName', value: 'onAllTasksComplete' },
      { key: 'PropertyValue', value: 'noaction' },
      { key: 'Reason', value: 'The completion behavior of a job cannot be changed from terminatejob to noaction.' },
    ]);
  }
  const poolId = c.poolId ?? j.poolInfo.poolId;
  if (poolId !== undefined && poolId.toLowerCase() !== (j.poolInfo.poolId ?? '').toLowerCase() && j.state !== 'disabled') {
    throw new BatchError('OperationInvalidForCurrentState', 'The pool of a job can only be changed while the job is disabled.', [{ key: 'PropertyName', value: 'poolInfo' }]);
  }
  const constraints = c.constraints === undefined ? (mode === 'patch' ? j.constraints : undefined) : (c.constraints ?? undefined);
  const t = now.toISOString();
  return {
    ...j,
    priority: pick(c.priority, j.priority, 0),
    maxParallelTasks: pick(c.maxParallelTasks, j.maxParallelTasks, -1),
    allowTaskPreemption: pick(c.allowTaskPreemption, j.allowTaskPreemption, false),
    onAllTasksComplete: onAll,
    constraints,
    metadata: pick(c.metadata, j.metadata, []),
    poolInfo: poolId !== undefined ? { poolId } : j.poolInfo,
    executionInfo: poolId !== undefined ? { ...j.executionInfo, poolId } : j.executionInfo,
    lastModified: t,
  };
}
