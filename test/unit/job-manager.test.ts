import { describe, expect, it } from 'vitest';
import { BatchError } from '../../shared/errors';
import { bodyOutputFile, jobManagerEndsJob, jobManagerSlots, jobManagerTaskOf } from '../../shared/domain/job-manager';

const codeOf = (f: () => unknown): { code?: string; name?: string } => {
  try {
    f();
  } catch (e) {
    if (e instanceof BatchError) return { code: e.code, name: e.values.find((d) => d.key === 'PropertyName')?.value };
    throw e;
  }
  return {};
};

describe('jobManagerTaskOf', () => {
  it('fills in the defaults Azure returns', () => {
    expect(jobManagerTaskOf({ id: 'jm', commandLine: 'run' })).toEqual({
      id: 'jm',
      commandLine: 'run',
      constraints: { maxWallClockTime: 'P10675199DT2H48M5.4775807S', retentionTime: 'P7D', maxTaskRetryCount: 0 },
      requiredSlots: 1,
      killJobOnCompletion: true,
      userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'nonadmin' } },
      runExclusive: true,
      allowLowPriorityNode: true,
    });
  });

  it('keeps what is given; the job retry count is inherited when the job manager gives none', () => {
    const jm = jobManagerTaskOf({
      id: 'jm', commandLine: 'run', displayName: 'd', killJobOnCompletion: false, runExclusive: false, allowLowPriorityNode: false, requiredSlots: 2,
      constraints: { maxWallClockTime: 'PT1H' }, userIdentity: { autoUser: { scope: 'task', elevationLevel: 'admin' } },
      environmentSettings: [{ name: 'A', value: '1' }],
      outputFiles: [{ filePattern: '*.txt', destination: { container: { containerUrl: 'http://x/c' } }, uploadOptions: { uploadCondition: 'tasksuccess' } }],
    }, 3);
    expect(jm).toMatchObject({ displayName: 'd', killJobOnCompletion: false, runExclusive: false, allowLowPriorityNode: false, requiredSlots: 2, environmentSettings: [{ name: 'A', value: '1' }] });
    expect(jm.constraints).toEqual({ maxWallClockTime: 'PT1H', retentionTime: 'P7D', maxTaskRetryCount: 3 });
    expect(jm.userIdentity).toEqual({ autoUser: { scope: 'task', elevationLevel: 'admin' } });
    expect((jm.outputFiles![0]!.uploadOptions as { uploadCondition: string }).uploadCondition).toBe('TaskSuccess');
    expect((bodyOutputFile(jm.outputFiles![0]!).uploadOptions as { uploadCondition: string }).uploadCondition).toBe('tasksuccess');
    expect(jobManagerTaskOf({ id: 'jm', commandLine: 'x', constraints: { maxTaskRetryCount: 1 } }, 5).constraints.maxTaskRetryCount).toBe(1);
  });

  it('refuses what local nodes cannot honour, by name', () => {
    expect(codeOf(() => jobManagerTaskOf({ id: 'j', commandLine: 'x', containerSettings: { imageName: 'i' } }))).toEqual({ code: 'UnsupportedProperty', name: 'jobManagerTask.containerSettings' });
    expect(codeOf(() => jobManagerTaskOf({ id: 'j', commandLine: 'x', applicationPackageReferences: [{ applicationId: 'a' }] }))).toEqual({ code: 'UnsupportedProperty', name: 'jobManagerTask.applicationPackageReferences' });
    expect(codeOf(() => jobManagerTaskOf({ id: 'j', commandLine: 'x', authenticationTokenSettings: { access: ['job'] } }))).toEqual({ code: 'UnsupportedProperty', name: 'jobManagerTask.authenticationTokenSettings' });
    expect(codeOf(() => jobManagerTaskOf({ id: 'j', commandLine: 'x', userIdentity: { username: 'bob' } }))).toEqual({ code: 'UnsupportedProperty', name: 'jobManagerTask.userIdentity.username' });
    expect(codeOf(() => jobManagerTaskOf({ id: 'j', commandLine: 'x', applicationPackageReferences: [] }))).toEqual({});
  });
});

describe('jobManagerSlots', () => {
  it('runExclusive takes every slot of a node; unknown pool or not exclusive: requiredSlots', () => {
    expect(jobManagerSlots({ requiredSlots: 1, runExclusive: true }, 4)).toBe(4);
    expect(jobManagerSlots({ requiredSlots: 6, runExclusive: true }, 4)).toBe(6);
    expect(jobManagerSlots({ requiredSlots: 1, runExclusive: true }, undefined)).toBe(1);
    expect(jobManagerSlots({ requiredSlots: 2, runExclusive: false }, 4)).toBe(2);
  });
});

describe('jobManagerEndsJob', () => {
  const jm = { id: 'jm', killJobOnCompletion: true };
  it('only a completed job manager with killJobOnCompletion ends an open job', () => {
    expect(jobManagerEndsJob({ state: 'active', jobManagerTask: jm }, 'completed')).toBe(true);
    expect(jobManagerEndsJob({ state: 'disabled', jobManagerTask: jm }, 'completed')).toBe(true);
    expect(jobManagerEndsJob({ state: 'active', jobManagerTask: jm }, 'running')).toBe(false);
    expect(jobManagerEndsJob({ state: 'active', jobManagerTask: jm }, 'active')).toBe(false);
    expect(jobManagerEndsJob({ state: 'active', jobManagerTask: jm }, undefined)).toBe(false);
    expect(jobManagerEndsJob({ state: 'completed', jobManagerTask: jm }, 'completed')).toBe(false);
    expect(jobManagerEndsJob({ state: 'terminating', jobManagerTask: jm }, 'completed')).toBe(false);
    expect(jobManagerEndsJob({ state: 'active', jobManagerTask: { ...jm, killJobOnCompletion: false } }, 'completed')).toBe(false);
    expect(jobManagerEndsJob({ state: 'active' }, 'completed')).toBe(false);
  });
});
