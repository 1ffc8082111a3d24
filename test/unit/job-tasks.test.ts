import { describe, expect, it } from 'vitest';
import { BatchError } from '../../shared/errors';
import { jobTasksOf, reservedTaskIdCode, jobTaskStatusJson, newerRun, releaseProgress, RELEASE_SLACK_MS, type JobTaskRunInfo, type JobTaskStatus } from '../../shared/domain/job-tasks';

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof BatchError ? err.code : 'not a BatchError';
  }
};

describe('job preparation / release task rules', () => {
  it('fills Azure\'s defaults', () => {
    const t = jobTasksOf({ commandLine: 'prep' }, { commandLine: 'rel' });
    expect(t.jobPreparationTask).toEqual({
      id: 'jobpreparation', commandLine: 'prep', constraints: { maxTaskRetryCount: 0 }, waitForSuccess: true, rerunOnNodeRebootAfterSuccess: true,
      userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'nonadmin' } },
    });
    expect(t.jobReleaseTask).toEqual({ id: 'jobrelease', commandLine: 'rel', maxWallClockTime: 'PT15M', userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'nonadmin' } } });
    expect(jobTasksOf(undefined, undefined)).toEqual({});
    const kept = jobTasksOf({ id: 'p', commandLine: 'x', waitForSuccess: false, rerunOnNodeRebootAfterSuccess: false, constraints: { maxTaskRetryCount: 2, maxWallClockTime: 'PT1M', retentionTime: 'PT1H' }, environmentSettings: [{ name: 'A', value: '1' }] }, undefined);
    expect(kept.jobPreparationTask).toMatchObject({ id: 'p', waitForSuccess: false, rerunOnNodeRebootAfterSuccess: false, constraints: { maxTaskRetryCount: 2, maxWallClockTime: 'PT1M', retentionTime: 'PT1H' }, environmentSettings: [{ name: 'A', value: '1' }] });
    expect(kept.jobReleaseTask).toBeUndefined();
  });

  it('rejects what the spec or a local node does not allow', () => {
    expect(codeOf(() => jobTasksOf(undefined, { commandLine: 'rel' }))).toBe('MissingRequiredProperty');
    expect(codeOf(() => jobTasksOf({ commandLine: 'x', containerSettings: { imageName: 'u' } }, undefined))).toBe('UnsupportedProperty');
    expect(codeOf(() => jobTasksOf({ commandLine: 'x' }, { commandLine: 'y', containerSettings: {} }))).toBe('UnsupportedProperty');
    expect(codeOf(() => jobTasksOf({ commandLine: 'x', userIdentity: { username: 'bob' } }, undefined))).toBe('UnsupportedProperty');
    expect(codeOf(() => jobTasksOf({ id: 'same', commandLine: 'x' }, { id: 'SAME', commandLine: 'y' }))).toBe('InvalidPropertyValue');
  });

  it('reserves the preparation and release ids of the job', () => {
    const job = { jobPreparationTask: { id: 'Prep' }, jobReleaseTask: { id: 'jobrelease' } };
    expect(reservedTaskIdCode(job, 'prep')).toBe('TaskIdSameAsJobPreparationTask');
    expect(reservedTaskIdCode(job, 'JobRelease')).toBe('TaskIdSameAsJobReleaseTask');
    expect(reservedTaskIdCode(job, 'other')).toBeUndefined();
    expect(reservedTaskIdCode({}, 'jobpreparation')).toBeUndefined();
  });

  it('keeps the newest run of out-of-order reports', () => {
    const run: JobTaskRunInfo = { state: 'running', startTime: '2026-01-01T00:00:00.000Z', retryCount: 0 };
    const done: JobTaskRunInfo = { ...run, state: 'completed', endTime: '2026-01-01T00:00:01.000Z', result: 'failure', exitCode: 1 };
    const retry: JobTaskRunInfo = { state: 'running', startTime: '2026-01-01T00:00:02.000Z', retryCount: 1 };
    expect(newerRun(undefined, run)).toBe(true);
    expect(newerRun(run, done)).toBe(true);
    expect(newerRun(done, run)).toBe(false);
    expect(newerRun(done, retry)).toBe(true);
    expect(newerRun(retry, done)).toBe(false);
  });

  it('tracks which nodes still owe a release', () => {
    const prep: JobTaskRunInfo = { state: 'completed', startTime: '2026-01-01T00:00:00.000Z', retryCount: 0, result: 'success' };
    const now = Date.parse('2026-01-01T01:00:00.000Z');
    const rows: JobTaskStatus[] = [
      { poolId: 'p', nodeId: 'a', preparation: prep },
      { poolId: 'p', nodeId: 'b', preparation: prep, releaseRequested: new Date(now - 1000).toISOString() },
      { poolId: 'p', nodeId: 'c', preparation: prep, releaseRequested: new Date(now - 1000).toISOString(), release: { ...prep } },
      { poolId: 'p', nodeId: 'gone', preparation: prep },
    ];
    const live = new Set(['a', 'b', 'c']);
    const p = releaseProgress(rows, live, 900, now);
    expect(p.send.map((r) => r.nodeId)).toEqual(['a']);
    expect(p.done).toBe(false);
    expect(releaseProgress(rows.slice(2), live, 900, now)).toEqual({ send: [], done: true });
    // A node asked longer ago than the release's limit plus slack is given up on.
    const late = [{ ...rows[1]!, releaseRequested: new Date(now - 900_000 - RELEASE_SLACK_MS).toISOString() }];
    expect(releaseProgress(late, live, 900, now).done).toBe(true);
  });

  it('maps a status row to the REST shape', () => {
    const j = jobTaskStatusJson('https://acct', 'job', 'jobpreparation', 'jobrelease', {
      poolId: 'p', nodeId: 'n1', preparation: { state: 'completed', startTime: 's', endTime: 'e', exitCode: 0, result: 'success', retryCount: 1, lastRetryTime: 'r' },
      release: { state: 'running', startTime: 's2', retryCount: 0 }, releaseRequested: 'x',
    });
    expect(j).toEqual({
      poolId: 'p', nodeId: 'n1', nodeUrl: 'https://acct/pools/p/nodes/n1',
      jobPreparationTaskExecutionInfo: {
        startTime: 's', endTime: 'e', state: 'completed', taskRootDirectory: 'workitems/job/job-1/jobpreparation',
        taskRootDirectoryUrl: 'https://acct/pools/p/nodes/n1/files/workitems/job/job-1/jobpreparation', exitCode: 0, retryCount: 1, lastRetryTime: 'r', result: 'success',
      },
      jobReleaseTaskExecutionInfo: { startTime: 's2', state: 'running', taskRootDirectory: 'workitems/job/job-1/jobrelease', taskRootDirectoryUrl: 'https://acct/pools/p/nodes/n1/files/workitems/job/job-1/jobrelease' },
    });
  });
});
