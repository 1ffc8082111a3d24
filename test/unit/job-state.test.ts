import { describe, expect, it } from 'vitest';
import type { JobRecord, JobState } from '../../shared/domain/model';
import { acceptsTasks, changedJob, completedJob, disabled, disabling, enabled, enabling, parallelAllowance, schedulesTasks, terminating, type JobChanges } from '../../shared/domain/job-state';
import { BatchError } from '../../shared/errors';
import { jobDisable, jobPatch, jobUpdate } from '../../shared/api/job-schemas';
import { jobAdd } from '../../shared/api/schemas';
import { validate } from '../../shared/api/validate';

const T0 = '2026-01-01T00:00:00.000Z';
const NOW = new Date('2026-01-01T00:01:00.000Z');

function job(state: JobState, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    id: 'j', priority: 0, maxParallelTasks: -1, allowTaskPreemption: false, usesTaskDependencies: false, onAllTasksComplete: 'noaction', onTaskFailure: 'noaction',
    poolInfo: { poolId: 'p1' }, commonEnvironmentSettings: [], metadata: [], state, stateTransitionTime: T0, creationTime: T0, lastModified: T0,
    executionInfo: { startTime: T0, poolId: 'p1' }, ...extra,
  };
}

/** The outcome of a transition: the new state, or the error code it answers. */
function outcome(fn: () => JobRecord): string {
  try {
    return fn().state;
  } catch (err) {
    if (err instanceof BatchError) return `${err.status} ${err.code}`;
    throw err;
  }
}

const STATES: JobState[] = ['active', 'disabling', 'disabled', 'enabling', 'terminating', 'completed', 'deleting'];

describe('job state machine', () => {
  const table: Record<string, Record<JobState, string>> = {
    disable: { active: 'disabling', disabling: 'disabling', disabled: 'disabled', enabling: '409 JobNotActive', terminating: '409 JobBeingTerminated', completed: '409 JobCompleted', deleting: '409 JobBeingDeleted' },
    enable: { active: 'active', disabling: 'enabling', disabled: 'enabling', enabling: 'enabling', terminating: '409 JobBeingTerminated', completed: '409 JobCompleted', deleting: '409 JobBeingDeleted' },
    terminate: { active: 'terminating', disabling: 'terminating', disabled: 'terminating', enabling: 'terminating', terminating: '409 JobBeingTerminated', completed: '409 JobCompleted', deleting: '409 JobBeingDeleted' },
    patch: { active: 'active', disabling: 'disabling', disabled: 'disabled', enabling: 'enabling', terminating: '409 JobBeingTerminated', completed: '409 JobCompleted', deleting: '409 JobBeingDeleted' },
  };
  const ops: Record<string, (j: JobRecord) => JobRecord> = {
    disable: (j) => disabling(j, 'requeue', NOW),
    enable: (j) => enabling(j, NOW),
    terminate: (j) => terminating(j, 'UserTerminate', NOW),
    patch: (j) => changedJob(j, { priority: 5 }, 'patch', NOW),
  };
  for (const [op, row] of Object.entries(table)) {
    it.each(STATES)(`${op} from %s`, (s) => {
      expect(outcome(() => ops[op]!(job(s)))).toBe(row[s]);
    });
  }

  it('records the disable option and the previous state, and drops the option on enable', () => {
    const d = disabling(job('active'), 'wait', NOW);
    expect(d).toMatchObject({ state: 'disabling', previousState: 'active', previousStateTransitionTime: T0, stateTransitionTime: NOW.toISOString(), disable: { option: 'wait', at: NOW.toISOString() } });
    expect(disabling(d, 'terminate', NOW).disable?.option).toBe('wait');
    const e = enabling(disabled(d, 0, NOW), NOW);
    expect(e.disable).toBeUndefined();
    expect(enabled(e, NOW).state).toBe('active');
  });

  it('becomes disabled only when no task runs', () => {
    const d = disabling(job('active'), 'wait', NOW);
    expect(disabled(d, 2, NOW).state).toBe('disabling');
    expect(disabled(d, 0, NOW).state).toBe('disabled');
    expect(disabled(job('active'), 0, NOW).state).toBe('active');
  });

  it('terminating keeps the reason; completed sets the end time', () => {
    const t = terminating(job('active'), 'MaxWallClockTimeExpiry', NOW);
    const c = completedJob(t, NOW);
    expect(c).toMatchObject({ state: 'completed', previousState: 'terminating', executionInfo: { terminateReason: 'MaxWallClockTimeExpiry', endTime: NOW.toISOString() } });
    expect(completedJob(job('active'), NOW).state).toBe('active');
  });

  it.each<[JobState, boolean, boolean]>([
    ['active', true, true], ['disabling', false, true], ['disabled', false, true], ['enabling', false, true],
    ['terminating', false, false], ['completed', false, false], ['deleting', false, false],
  ])('%s: schedules tasks %s, accepts tasks %s', (s, runs, takes) => {
    expect([schedulesTasks(s), acceptsTasks(s)]).toEqual([runs, takes]);
  });
});

describe('job PATCH / PUT rules', () => {
  const full = job('active', { priority: 7, maxParallelTasks: 3, allowTaskPreemption: true, constraints: { maxWallClockTime: 'PT1H', maxTaskRetryCount: 2 }, metadata: [{ name: 'a', value: '1' }] });

  it('PATCH changes only what is given; a given constraints object replaces the old one', () => {
    const p = changedJob(full, { priority: -3, constraints: { maxTaskRetryCount: 4 } }, 'patch', NOW);
    expect(p).toMatchObject({ priority: -3, maxParallelTasks: 3, allowTaskPreemption: true, constraints: { maxTaskRetryCount: 4 }, metadata: [{ name: 'a', value: '1' }], lastModified: NOW.toISOString() });
    expect(p.constraints?.maxWallClockTime).toBeUndefined();
  });

  it('PUT replaces everything: omitted properties take their defaults', () => {
    const u = changedJob(full, { poolId: 'p1' }, 'replace', NOW);
    expect(u).toMatchObject({ priority: 0, maxParallelTasks: -1, allowTaskPreemption: false, onAllTasksComplete: 'noaction', metadata: [] });
    expect(u.constraints).toBeUndefined();
  });

  it.each<[string, JobChanges, 'patch' | 'replace', string]>([
    ['terminatejob → noaction (PATCH)', { onAllTasksComplete: 'noaction' }, 'patch', '400 InvalidPropertyValue'],
    ['terminatejob → omitted (PUT means noaction)', { poolId: 'p1' }, 'replace', '400 InvalidPropertyValue'],
    ['terminatejob → terminatejob', { onAllTasksComplete: 'terminatejob' }, 'patch', 'active'],
    ['another pool while active', { poolId: 'p2' }, 'patch', '409 OperationInvalidForCurrentState'],
    ['the same pool (other case) while active', { poolId: 'P1' }, 'patch', 'active'],
  ])('%s', (_name, c, mode, want) => {
    expect(outcome(() => changedJob(job('active', { onAllTasksComplete: 'terminatejob' }), c, mode, NOW))).toBe(want);
  });

  it('moves a disabled job to another pool', () => {
    const j = changedJob(job('disabled'), { poolId: 'p2' }, 'patch', NOW);
    expect([j.poolInfo.poolId, j.executionInfo.poolId, j.state]).toEqual(['p2', 'p2', 'disabled']);
  });
});

describe('maxParallelTasks allowance', () => {
  it.each([[-1, 100, Infinity], [1, 0, 1], [1, 1, 0], [3, 1, 2], [3, 5, 0]])('max %i with %i running → %s', (max, running, want) => {
    expect(parallelAllowance(max, running)).toBe(want);
  });
});

describe('job request validation', () => {
  const bad = (fn: () => unknown): [string, string | undefined] | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      if (err instanceof BatchError) return [err.code, err.values.find((v) => v.key === 'PropertyName')?.value];
      throw err;
    }
  };
  it.each<[string, () => unknown, [string, string | undefined] | undefined]>([
    ['priority above 1000', () => validate(jobPatch, { priority: 1001 }), ['InvalidPropertyValue', 'priority']],
    ['priority below -1000', () => validate(jobPatch, { priority: -1001 }), ['InvalidPropertyValue', 'priority']],
    ['maxParallelTasks 0', () => validate(jobPatch, { maxParallelTasks: 0 }), ['InvalidPropertyValue', 'maxParallelTasks']],
    ['maxParallelTasks -2', () => validate(jobUpdate, { poolInfo: { poolId: 'p' }, maxParallelTasks: -2 }), ['InvalidPropertyValue', 'maxParallelTasks']],
    ['maxParallelTasks 0 at add', () => validate(jobAdd, { id: 'j', poolInfo: { poolId: 'p' }, maxParallelTasks: 0 }), ['InvalidPropertyValue', 'maxParallelTasks']],
    ['bad wall clock', () => validate(jobPatch, { constraints: { maxWallClockTime: 'soon' } }), ['InvalidPropertyValue', 'constraints.maxWallClockTime']],
    ['retry count -2', () => validate(jobPatch, { constraints: { maxTaskRetryCount: -2 } }), ['InvalidPropertyValue', 'constraints.maxTaskRetryCount']],
    ['bad onAllTasksComplete', () => validate(jobPatch, { onAllTasksComplete: 'stop' }), ['InvalidPropertyValue', 'onAllTasksComplete']],
    ['PUT without poolInfo', () => validate(jobUpdate, { priority: 1 }), ['MissingRequiredProperty', 'poolInfo']],
    ['disable without disableTasks', () => validate(jobDisable, {}), ['MissingRequiredProperty', 'disableTasks']],
    ['disable with an unknown option', () => validate(jobDisable, { disableTasks: 'later' }), ['InvalidPropertyValue', 'disableTasks']],
    ['valid PATCH', () => validate(jobPatch, { priority: 1000, maxParallelTasks: -1, onAllTasksComplete: 'TerminateJob' }), undefined],
    ['valid disable (any case)', () => validate(jobDisable, { disableTasks: 'ReQueue' }), undefined],
  ])('%s', (_n, fn, want) => {
    expect(bad(fn)).toEqual(want);
  });
});
