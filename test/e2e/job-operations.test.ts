import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchServiceModels } from '@azure/batch';
import { errorOf, IMAGE, startTestStack, waitFor, type TestStack } from './support/stack';
import { rawRequest } from './support/raw';

let s: TestStack;
const POOL = 'jo-pool';

beforeAll(async () => {
  s = await startTestStack();
  await s.client.pool.add({ id: POOL, vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 2, taskSlotsPerNode: 2 });
  await waitFor('2 idle nodes', async () => ((await s.client.computeNode.list(POOL)).filter((n) => n.state === 'idle').length === 2 ? true : undefined), 60_000);
}, 90_000);
afterAll(async () => {
  await s?.stop();
});

const task = (jobId: string, taskId: string) => s.client.task.get(jobId, taskId);
const taskIn = (jobId: string, taskId: string, state: string) => async (): Promise<BatchServiceModels.CloudTask | undefined> => {
  const t = await task(jobId, taskId);
  return t.state === state ? t : undefined;
};
const jobIn = (jobId: string, state: string) => async () => {
  const j = await s.client.job.get(jobId);
  return j.state === state ? j : undefined;
};

describe('job patch and update', () => {
  it('PATCH changes only the given properties; PUT replaces them all', async () => {
    await s.client.job.add({ id: 'jp', poolInfo: { poolId: 'no-such-pool' }, priority: 1, metadata: [{ name: 'k', value: 'v' }], constraints: { maxWallClockTime: 'PT1H' }, allowTaskPreemption: true });
    await s.client.job.patch('jp', { priority: 600, constraints: { maxTaskRetryCount: 3 }, poolInfo: { poolId: 'no-such-pool' }, maxParallelTasks: 4 });
    let j = await s.client.job.get('jp');
    expect([j.priority, j.constraints?.maxTaskRetryCount, j.maxParallelTasks, j.allowTaskPreemption, j.metadata]).toEqual([600, 3, 4, true, [{ name: 'k', value: 'v' }]]);
    expect(j.constraints?.maxWallClockTime).toBe('P10675199DT2H48M5.4775807S');

    const put = await s.client.job.update('jp', { poolInfo: { poolId: 'no-such-pool' }, priority: 500 });
    j = await s.client.job.get('jp');
    expect([j.priority, j.maxParallelTasks, j.allowTaskPreemption, j.metadata, j.constraints?.maxTaskRetryCount, j.onAllTasksComplete]).toEqual([500, -1, false, undefined, 0, 'noaction']);
    expect(put.eTag).toBe(j.eTag);
  });

  it('answers conditional requests and refuses invalid changes with the exact codes', async () => {
    const j = await s.client.job.get('jp');
    expect(await errorOf(s.client.job.patch('jp', { priority: 1 }, { jobPatchOptions: { ifMatch: '0x8D0000000000000' } }))).toEqual({ statusCode: 412, code: 'ConditionNotMet' });
    await s.client.job.patch('jp', { priority: 2 }, { jobPatchOptions: { ifMatch: j.eTag } });
    expect((await s.client.job.get('jp')).priority).toBe(2);
    expect(await errorOf(s.client.job.patch('jp', { priority: 1001 }))).toEqual({ statusCode: 400, code: 'InvalidPropertyValue' });
    expect(await errorOf(s.client.job.patch('jp', { maxParallelTasks: 0 }))).toEqual({ statusCode: 400, code: 'InvalidPropertyValue' });
    // What the client cannot even send, on the wire: a malformed duration, a PUT without poolInfo, disable without its option.
    const raw = (method: string, path: string, body: unknown) => rawRequest(s.url, s.accountName, s.accountKey, method, `${path}?api-version=2022-10-01.16.0`, JSON.stringify(body), { 'content-type': 'application/json; odata=minimalmetadata' });
    const wall = await raw('PATCH', '/jobs/jp', { constraints: { maxWallClockTime: 'tomorrow' } });
    expect([wall.status, wall.json?.code]).toEqual([400, 'InvalidPropertyValue']);
    const put = await raw('PUT', '/jobs/jp', { priority: 1 });
    expect([put.status, put.json?.code]).toEqual([400, 'MissingRequiredProperty']);
    const dis = await raw('POST', '/jobs/jp/disable', {});
    expect([dis.status, dis.json?.code]).toEqual([400, 'MissingRequiredProperty']);
    expect(await errorOf(s.client.job.patch('jp', { poolInfo: { poolId: 'other-pool' } }))).toEqual({ statusCode: 409, code: 'OperationInvalidForCurrentState' });
    expect(await errorOf(s.client.job.patch('nope', { priority: 1 }))).toEqual({ statusCode: 404, code: 'JobNotFound' });
    expect((await s.client.job.get('jp')).priority).toBe(2);
    // The pool may change while the job is disabled.
    await s.client.job.disable('jp', 'wait');
    await waitFor('jp disabled', jobIn('jp', 'disabled'), 15_000);
    await s.client.job.patch('jp', { poolInfo: { poolId: 'other-pool' } });
    const moved = await s.client.job.get('jp');
    expect([moved.poolInfo?.poolId, moved.executionInfo?.poolId]).toEqual(['other-pool', 'other-pool']);
    await s.client.job.deleteMethod('jp');
  });

  it('onAllTasksComplete: cannot go back to noaction; switching to terminatejob ends a job whose tasks are done', async () => {
    await s.client.job.add({ id: 'auto', poolInfo: { poolId: POOL } });
    await s.client.task.add('auto', { id: 'a1', commandLine: '/bin/true' });
    await waitFor('a1 done', taskIn('auto', 'a1', 'completed'));
    expect((await s.client.job.get('auto')).state).toBe('active');
    await s.client.job.patch('auto', { onAllTasksComplete: 'terminatejob' });
    const j = await s.client.job.get('auto');
    expect([j.state, j.executionInfo?.terminateReason]).toEqual(['completed', 'AllTasksComplete']);
    expect(await errorOf(s.client.job.patch('auto', { priority: 3 }))).toEqual({ statusCode: 409, code: 'JobCompleted' });

    await s.client.job.add({ id: 'auto2', poolInfo: { poolId: 'no-such-pool' } });
    await s.client.task.add('auto2', { id: 'waits', commandLine: '/bin/true' });
    await s.client.job.patch('auto2', { onAllTasksComplete: 'terminatejob' });
    expect((await s.client.job.get('auto2')).state).toBe('active');
    expect(await errorOf(s.client.job.patch('auto2', { onAllTasksComplete: 'noaction' }))).toEqual({ statusCode: 400, code: 'InvalidPropertyValue' });
    expect(await errorOf(s.client.job.update('auto2', { poolInfo: { poolId: 'no-such-pool' } }))).toEqual({ statusCode: 400, code: 'InvalidPropertyValue' });
    expect((await s.client.job.get('auto2')).onAllTasksComplete).toBe('terminatejob');
  });

  it('a job created with terminatejob and no task counts as complete', async () => {
    await s.client.job.add({ id: 'empty', poolInfo: { poolId: POOL }, onAllTasksComplete: 'terminatejob' });
    const j = await waitFor('empty completed', jobIn('empty', 'completed'), 20_000);
    expect(j.executionInfo?.terminateReason).toBe('AllTasksComplete');
  });
});

describe('job disable, enable and terminate', () => {
  it('disable requeue puts running tasks back; a disabled job runs nothing until enabled', async () => {
    await s.client.job.add({ id: 'dr', poolInfo: { poolId: POOL } });
    await s.client.task.add('dr', { id: 'long', commandLine: '/bin/bash -c "sleep 4"' });
    await waitFor('long running', taskIn('dr', 'long', 'running'));
    await s.client.job.disable('dr', 'requeue');
    await waitFor('dr disabled', jobIn('dr', 'disabled'), 15_000);
    const back = await task('dr', 'long');
    expect([back.state, back.executionInfo?.requeueCount, back.executionInfo?.retryCount]).toEqual(['active', 1, 0]);
    await s.client.task.add('dr', { id: 'later', commandLine: '/bin/true' });
    await s.client.job.disable('dr', 'requeue'); // again: accepted, nothing changes
    expect((await s.client.job.get('dr')).state).toBe('disabled');
    expect(await errorOf(s.client.job.terminate('nope'))).toEqual({ statusCode: 404, code: 'JobNotFound' });
    await new Promise((r) => setTimeout(r, 2500));
    expect((await s.client.task.list('dr')).map((t) => t.state)).toEqual(['active', 'active']);
    await s.client.job.enable('dr');
    expect((await s.client.job.get('dr')).state).toBe('active');
    const done = await waitFor('long done', taskIn('dr', 'long', 'completed'), 30_000);
    expect(done.executionInfo?.result).toBe('success');
    await waitFor('later done', taskIn('dr', 'later', 'completed'));
  });

  it('disable terminate ends running tasks; disable wait lets them finish; state conflicts answer 409', async () => {
    await s.client.job.add({ id: 'dt', poolInfo: { poolId: POOL } });
    await s.client.task.add('dt', { id: 'victim', commandLine: '/bin/sleep 30' });
    await waitFor('victim running', taskIn('dt', 'victim', 'running'));
    await s.client.job.disable('dt', 'terminate');
    await waitFor('dt disabled', jobIn('dt', 'disabled'), 15_000);
    const v = await task('dt', 'victim');
    expect([v.state, v.executionInfo?.result, v.executionInfo?.failureInfo?.code]).toEqual(['completed', 'failure', 'TaskEnded']);

    await s.client.job.add({ id: 'dw', poolInfo: { poolId: POOL } });
    await s.client.task.add('dw', { id: 'finishes', commandLine: '/bin/bash -c "sleep 3"' });
    await waitFor('finishes running', taskIn('dw', 'finishes', 'running'));
    await s.client.job.disable('dw', 'wait');
    expect((await s.client.job.get('dw')).state).toBe('disabling');
    await waitFor('dw disabled', jobIn('dw', 'disabled'), 20_000);
    expect((await task('dw', 'finishes')).executionInfo?.result).toBe('success');

    await s.client.job.terminate('dw', { jobTerminateOptions: {} });
    expect(await errorOf(s.client.job.disable('dw', 'requeue'))).toEqual({ statusCode: 409, code: 'JobCompleted' });
    expect(await errorOf(s.client.job.enable('dw'))).toEqual({ statusCode: 409, code: 'JobCompleted' });
    expect(await errorOf(s.client.job.terminate('dw'))).toEqual({ statusCode: 409, code: 'JobCompleted' });
  });

  it('terminate with a reason ends the running tasks', async () => {
    await s.client.job.add({ id: 'tr', poolInfo: { poolId: POOL } });
    await s.client.task.add('tr', { id: 'sleeper', commandLine: '/bin/sleep 30' });
    await waitFor('sleeper running', taskIn('tr', 'sleeper', 'running'));
    await s.client.job.terminate('tr', { terminateReason: 'enough' });
    const j = await s.client.job.get('tr');
    expect([j.state, j.executionInfo?.terminateReason, j.previousState]).toEqual(['completed', 'enough', 'terminating']);
    const t = await task('tr', 'sleeper');
    expect([t.state, t.executionInfo?.failureInfo?.code]).toEqual(['completed', 'TaskEnded']);
  });

  it('terminates a job that exceeds its maxWallClockTime, with its tasks', async () => {
    await s.client.job.add({ id: 'wc', poolInfo: { poolId: POOL }, constraints: { maxWallClockTime: 'PT3S' } });
    await s.client.task.add('wc', { id: 'forever', commandLine: '/bin/sleep 60' });
    const j = await waitFor('wc completed', jobIn('wc', 'completed'), 20_000);
    expect(j.executionInfo?.terminateReason).toBe('MaxWallClockTimeExpiry');
    expect((await task('wc', 'forever')).state).toBe('completed');
  });
});

describe('exit conditions and maxParallelTasks', () => {
  it('a matching exit code terminates or disables the job; jobAction needs performexitoptionsjobaction', async () => {
    expect(await errorOf(s.client.task.add('dr', { id: 'x', commandLine: '/bin/true', exitConditions: { default: { jobAction: 'terminate' } } }))).toEqual({ statusCode: 400, code: 'InvalidPropertyValue' });
    expect(await errorOf(s.client.task.add('dr', { id: 'x', commandLine: '/bin/true', exitConditions: { exitCodeRanges: [{ start: 3, end: 1, exitOptions: {} }] } }))).toEqual({ statusCode: 400, code: 'InvalidPropertyValue' });

    await s.client.job.add({ id: 'ex', poolInfo: { poolId: POOL }, onTaskFailure: 'performexitoptionsjobaction' });
    const exitConditions = { exitCodes: [{ code: 3, exitOptions: { jobAction: 'terminate' as const } }], exitCodeRanges: [{ start: 1, end: 2, exitOptions: { jobAction: 'none' as const } }], default: { jobAction: 'disable' as const, dependencyAction: 'satisfy' as const } };
    await s.client.task.add('ex', { id: 'fine', commandLine: '/bin/bash -c "exit 2"', exitConditions });
    await waitFor('fine done', taskIn('ex', 'fine', 'completed'));
    expect((await task('ex', 'fine')).exitConditions).toEqual({ ...exitConditions });
    await new Promise((r) => setTimeout(r, 500));
    expect((await s.client.job.get('ex')).state).toBe('active');
    await s.client.task.add('ex', { id: 'disabler', commandLine: '/bin/bash -c "exit 9"', exitConditions });
    await waitFor('ex disabled', jobIn('ex', 'disabled'), 20_000);
    await s.client.job.enable('ex');
    await s.client.task.add('ex', { id: 'killer', commandLine: '/bin/bash -c "exit 3"', exitConditions });
    const j = await waitFor('ex completed', jobIn('ex', 'completed'), 20_000);
    expect(j.executionInfo?.terminateReason).toBe('TaskFailed');
  });

  it('never runs more than maxParallelTasks of a job at once', async () => {
    await s.client.job.add({ id: 'mp', poolInfo: { poolId: POOL }, maxParallelTasks: 2 });
    await s.client.task.addCollection('mp', Array.from({ length: 6 }, (_, i) => ({ id: `p${i}`, commandLine: '/bin/bash -c "sleep 1.5"' })));
    let most = 0;
    await waitFor('all done', async () => {
      const c = (await s.client.job.getTaskCounts('mp')).taskCounts;
      const listed = (await s.client.task.list('mp', { taskListOptions: { filter: "state eq 'running'" } })).length;
      most = Math.max(most, c.running, listed);
      return c.completed === 6 ? true : undefined;
    }, 60_000, 100);
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBeGreaterThanOrEqual(1);
    // Independent check from the run times: at no instant did more than two runs overlap.
    const runs = (await s.client.task.list('mp')).map((t) => [new Date(t.executionInfo!.startTime!).getTime(), new Date(t.executionInfo!.endTime!).getTime()] as const);
    const overlap = Math.max(...runs.map(([start]) => runs.filter(([a, b]) => a <= start && start < b).length));
    expect(overlap).toBeLessThanOrEqual(2);
    expect((await s.client.task.list('mp')).every((t) => t.executionInfo?.result === 'success')).toBe(true);
  });
});
