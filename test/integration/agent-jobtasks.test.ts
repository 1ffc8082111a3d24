import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeEnvironment } from '../../agent/environment';
import { JobTasks } from '../../agent/jobtasks';
import { nodeLayout } from '../../agent/layout';
import { silentLogger } from '../../agent/log';
import type { RunnerContext } from '../../agent/runner';
import type { JobPreparationSpec, TaskAssignment } from '../../shared/nodes/protocol';

const root = mkdtempSync(path.join(tmpdir(), 'agent-jobtasks-'));
mkdirSync(path.join(root, 'shared'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ctx: RunnerContext = {
  identity: { accountName: 'acct', accountUrl: 'http://127.0.0.1:1', poolId: 'pool1', nodeId: 'node1', isDedicated: true },
  node: nodeLayout(root),
  baseEnv: nodeEnvironment({ PATH: process.env.PATH }),
  killGraceMs: 300,
  log: silentLogger,
};

const prep = (commandLine: string, extra: Partial<JobPreparationSpec> = {}): JobPreparationSpec => ({
  id: 'jobpreparation', commandLine, resourceFiles: [], environment: {}, elevationLevel: 'nonadmin', maxTaskRetryCount: 0, waitForSuccess: true, rerunOnNodeRebootAfterSuccess: true, ...extra,
});
const task = (jobId: string, taskId: string, commandLine: string, jobPreparation: JobPreparationSpec): TaskAssignment => ({
  jobId, taskId, claim: `c-${taskId}`, retryCount: 0, commandLine, resourceFiles: [], environment: {}, requiredSlots: 1, jobPreparation,
});
const jobFile = (jobId: string, ...p: string[]): string => path.join(root, 'workitems', jobId, 'job-1', ...p);
const count = `/bin/sh -c 'echo x >> "$AZ_BATCH_NODE_SHARED_DIR/$AZ_BATCH_JOB_ID.count"'`;

describe('agent job preparation and release', () => {
  it('prepares once for concurrent tasks of a job, in the preparation directory, then runs them with AZ_BATCH_JOB_PREP_*', async () => {
    const jt = new JobTasks({ runner: ctx });
    const spec = prep(`/bin/sh -c 'sleep 0.3; echo x >> "$AZ_BATCH_NODE_SHARED_DIR/j1.count"; pwd > where.txt'`);
    const runs = ['a', 'b', 'c'].map((id) => jt.run(task('j1', id, '/bin/sh -c \'cat "$AZ_BATCH_JOB_PREP_WORKING_DIR/where.txt"; echo "$AZ_BATCH_JOB_PREP_DIR"\'', spec)));
    const done = await Promise.all(runs.map((r) => r.done));
    expect(done.every((c) => c.result === 'success' && !c.requeue)).toBe(true);
    expect(readFileSync(path.join(root, 'shared', 'j1.count'), 'utf8')).toBe('x\n');
    expect(readFileSync(jobFile('j1', 'a', 'stdout.txt'), 'utf8')).toBe(`${jobFile('j1', 'jobpreparation', 'wd')}\n${jobFile('j1', 'jobpreparation')}\n`);
    const [r] = jt.reports();
    expect(r).toMatchObject({ jobId: 'j1', preparation: { state: 'completed', result: 'success', exitCode: 0, retryCount: 0 } });
    jt.delivered([r!]);
    expect(jt.reports()).toEqual([]);
    // A later task of the job does not prepare again.
    expect((await jt.run(task('j1', 'd', '/bin/true', spec)).done).result).toBe('success');
    expect(readFileSync(path.join(root, 'shared', 'j1.count'), 'utf8')).toBe('x\n');
  });

  it('a failing preparation (after its retries) gives the task back; without waitForSuccess the task runs anyway', async () => {
    const jt = new JobTasks({ runner: ctx, retryDelayMs: 10 });
    const c = await jt.run(task('j2', 'a', count, prep('/bin/sh -c "exit 4"', { maxTaskRetryCount: 2 }))).done;
    expect(c).toMatchObject({ requeue: true, result: 'failure', claim: 'c-a' });
    expect(c.exitCode).toBeUndefined();
    expect(jt.unprepared()).toEqual(['j2']);
    expect(jt.reports()[0]).toMatchObject({ preparation: { state: 'completed', result: 'failure', exitCode: 4, retryCount: 2, failureInfo: { code: 'FailureExitCode' } } });
    const free = await jt.run(task('j3', 'a', count, prep('/bin/sh -c "exit 4"', { waitForSuccess: false }))).done;
    expect(free.result).toBe('success');
    expect(jt.unprepared()).toEqual(['j2']);
  });

  it('rerunOnNodeRebootAfterSuccess = false: a restarted agent does not prepare again', async () => {
    const spec = prep(`/bin/sh -c 'echo x >> "$AZ_BATCH_NODE_SHARED_DIR/j4.prep"'`, { rerunOnNodeRebootAfterSuccess: false });
    await new JobTasks({ runner: ctx }).run(task('j4', 'a', '/bin/true', spec)).done;
    await new JobTasks({ runner: ctx }).run(task('j4', 'b', '/bin/true', spec)).done;
    expect(readFileSync(path.join(root, 'shared', 'j4.prep'), 'utf8')).toBe('x\n');
    const again = prep(`/bin/sh -c 'echo x >> "$AZ_BATCH_NODE_SHARED_DIR/j5.prep"'`);
    await new JobTasks({ runner: ctx }).run(task('j5', 'a', '/bin/true', again)).done;
    await new JobTasks({ runner: ctx }).run(task('j5', 'b', '/bin/true', again)).done;
    expect(readFileSync(path.join(root, 'shared', 'j5.prep'), 'utf8')).toBe('x\nx\n');
  });

  it('runs the release once per job, killed at its maxWallClockTime', async () => {
    let changes = 0;
    const jt = new JobTasks({ runner: ctx, onChange: () => changes++ });
    await jt.run(task('j6', 'a', '/bin/true', prep('/bin/true'))).done;
    const release = { id: 'jobrelease', commandLine: `/bin/sh -c 'echo "$AZ_BATCH_JOB_PREP_DIR"; sleep 5'`, resourceFiles: [], environment: {}, elevationLevel: 'nonadmin' as const, maxWallClockSeconds: 1 };
    jt.release({ kind: 'runJobRelease', jobId: 'j6', preparationId: 'jobpreparation', release });
    jt.release({ kind: 'runJobRelease', jobId: 'j6', preparationId: 'jobpreparation', release });
    const r = await new Promise<ReturnType<JobTasks['reports']>[number]>((resolve) => {
      const t = setInterval(() => {
        const got = jt.reports().find((x) => x.release?.state === 'completed');
        if (got) {
          clearInterval(t);
          resolve(got);
        }
      }, 50);
    });
    expect(r.release).toMatchObject({ state: 'completed', result: 'failure', failureInfo: { code: 'TaskEnded' } });
    expect(readFileSync(jobFile('j6', 'jobrelease', 'stdout.txt'), 'utf8')).toBe(`${jobFile('j6', 'jobpreparation')}\n`);
    expect(changes).toBeGreaterThanOrEqual(4);
  });
});
