import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchServiceModels } from '@azure/batch';
import { errorOf, IMAGE, startTestStack, waitFor, type TestStack } from './support/stack';
import { rawRequest } from './support/raw';

let s: TestStack;
const POOL = 'jm-pool';

beforeAll(async () => {
  s = await startTestStack();
  await s.client.pool.add({ id: POOL, vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1, taskSlotsPerNode: 2 });
  await waitFor('an idle node', async () => ((await s.client.computeNode.list(POOL)).some((n) => n.state === 'idle') ? true : undefined), 60_000);
}, 90_000);
afterAll(async () => {
  await s?.stop();
});

const taskIn = (jobId: string, taskId: string, state: string) => async (): Promise<BatchServiceModels.CloudTask | undefined> => {
  const t = await s.client.task.get(jobId, taskId);
  return t.state === state ? t : undefined;
};
const jobIn = (jobId: string, state: string) => async (): Promise<BatchServiceModels.CloudJob | undefined> => {
  const j = await s.client.job.get(jobId);
  return j.state === state ? j : undefined;
};

describe('job manager task', () => {
  it('is queued with the job, runs first on a whole node (runExclusive), and its completion terminates the job', async () => {
    await s.client.job.add({ id: 'jm1', poolInfo: { poolId: POOL }, jobManagerTask: { id: 'manager', commandLine: '/bin/bash -c "sleep 3"' } });
    await s.client.task.add('jm1', { id: 'worker', commandLine: '/bin/true' });

    const job = await s.client.job.get('jm1');
    expect(job.jobManagerTask).toEqual({
      id: 'manager',
      commandLine: '/bin/bash -c "sleep 3"',
      constraints: { maxWallClockTime: 'P10675199DT2H48M5.4775807S', retentionTime: 'P7D', maxTaskRetryCount: 0 },
      requiredSlots: 1,
      killJobOnCompletion: true,
      userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'nonadmin' } },
      runExclusive: true,
      allowLowPriorityNode: true,
    });

    // runExclusive: the job manager's task asks for every slot of a node, so the worker (queued
    // after it) waits while it runs although the node has a second slot.
    const manager = await waitFor('the job manager running', taskIn('jm1', 'manager', 'running'), 30_000);
    expect(manager.requiredSlots).toBe(2);
    expect((await s.client.task.get('jm1', 'worker')).state).toBe('active');
    const node = (await s.client.computeNode.list(POOL))[0]!;
    expect(node.runningTaskSlotsCount).toBe(2);

    const done = await waitFor('the job completed', jobIn('jm1', 'completed'), 30_000);
    expect(done.executionInfo?.terminateReason).toBe('JMComplete');
    const m = await s.client.task.get('jm1', 'manager');
    expect([m.state, m.executionInfo?.result]).toEqual(['completed', 'success']);
  }, 60_000);

  it('killJobOnCompletion ends the job\'s other running tasks; runExclusive false shares the node', async () => {
    await s.client.job.add({ id: 'jm2', poolInfo: { poolId: POOL }, jobManagerTask: { id: 'm2', commandLine: '/bin/bash -c "sleep 4"', runExclusive: false } });
    await s.client.task.add('jm2', { id: 'long', commandLine: '/bin/sleep 60' });
    const both = await waitFor('both running', async () => {
      const ts = await s.client.task.list('jm2');
      return ts.length === 2 && ts.every((t) => t.state === 'running') ? ts : undefined;
    }, 30_000);
    expect(both.find((t) => t.id === 'm2')!.requiredSlots).toBe(1);
    const done = await waitFor('the job completed', jobIn('jm2', 'completed'), 30_000);
    expect(done.executionInfo?.terminateReason).toBe('JMComplete');
    const long = await s.client.task.get('jm2', 'long');
    expect([long.state, long.executionInfo?.result, long.executionInfo?.failureInfo?.code]).toEqual(['completed', 'failure', 'TaskEnded']);
  }, 60_000);

  it('with killJobOnCompletion false the job stays active after the job manager completes', async () => {
    await s.client.job.add({ id: 'jm3', poolInfo: { poolId: POOL }, jobManagerTask: { id: 'm3', commandLine: '/bin/true', killJobOnCompletion: false } });
    expect((await s.client.job.get('jm3')).jobManagerTask?.killJobOnCompletion).toBe(false);
    await waitFor('the job manager completed', taskIn('jm3', 'm3', 'completed'), 30_000);
    await new Promise((r) => setTimeout(r, 4500)); // two job sweeps
    expect((await s.client.job.get('jm3')).state).toBe('active');
  }, 60_000);

  it('a failing job manager is retried per its constraints, then ends the job', async () => {
    await s.client.job.add({ id: 'jm4', poolInfo: { poolId: POOL }, jobManagerTask: { id: 'm4', commandLine: '/bin/bash -c "exit 3"', constraints: { maxTaskRetryCount: 1 } } });
    const done = await waitFor('the job completed', jobIn('jm4', 'completed'), 30_000);
    expect(done.executionInfo?.terminateReason).toBe('JMComplete');
    const m = await s.client.task.get('jm4', 'm4');
    expect([m.state, m.executionInfo?.result, m.executionInfo?.exitCode, m.executionInfo?.retryCount]).toEqual(['completed', 'failure', 3, 1]);
  }, 60_000);

  it('a retried job manager goes back to the front of the queue, ahead of tasks added before its retry', async () => {
    // First run fails (and leaves a marker), the retry succeeds; the workers are queued while it runs.
    const jm = '/bin/bash -c "if test -f $AZ_BATCH_NODE_SHARED_DIR/jm7; then exit 0; fi; touch $AZ_BATCH_NODE_SHARED_DIR/jm7; sleep 1; exit 1"';
    await s.client.job.add({ id: 'jm7', poolInfo: { poolId: POOL }, jobManagerTask: { id: 'm5', commandLine: jm, killJobOnCompletion: false, constraints: { maxTaskRetryCount: 1 } } });
    await s.client.task.addCollection('jm7', ['w1', 'w2', 'w3'].map((id) => ({ id, commandLine: '/bin/true' })));
    const m = await waitFor('the job manager completed', taskIn('jm7', 'm5', 'completed'), 30_000);
    expect([m.executionInfo?.result, m.executionInfo?.retryCount]).toEqual(['success', 1]);
    const workers = await Promise.all(['w1', 'w2', 'w3'].map((id) => waitFor(`${id} done`, taskIn('jm7', id, 'completed'), 30_000)));
    // The retry (a whole node: runExclusive) started before any worker.
    for (const w of workers) expect(new Date(w.executionInfo!.startTime!).getTime()).toBeGreaterThanOrEqual(new Date(m.executionInfo!.startTime!).getTime());
    await s.client.job.terminate('jm7');
  }, 60_000);

  it('on a pool that does not exist yet the job manager asks for one slot and waits', async () => {
    await s.client.job.add({ id: 'jm5', poolInfo: { poolId: 'no-such-pool' }, jobManagerTask: { id: 'm5', commandLine: '/bin/true' } });
    const t = await s.client.task.get('jm5', 'm5');
    expect([t.state, t.requiredSlots]).toEqual(['active', 1]);
    expect((await s.client.job.get('jm5')).state).toBe('active');
  });

  it('refuses bad job managers with 400 and stores nothing', async () => {
    const raw = (body: unknown) => rawRequest(s.url, s.accountName, s.accountKey, 'POST', '/jobs?api-version=2022-10-01.16.0', JSON.stringify(body));
    const cases: [Record<string, unknown>, string, string][] = [
      [{ commandLine: '/bin/true' }, 'MissingRequiredProperty', 'jobManagerTask.id'],
      [{ id: 'm' }, 'MissingRequiredProperty', 'jobManagerTask.commandLine'],
      [{ id: 'bad id!', commandLine: '/bin/true' }, 'InvalidPropertyValue', 'jobManagerTask.id'],
      [{ id: 'm', commandLine: '/bin/true', killJobOnCompletion: 'yes' }, 'InvalidPropertyValue', 'jobManagerTask.killJobOnCompletion'],
      [{ id: 'm', commandLine: '/bin/true', requiredSlots: 0 }, 'InvalidPropertyValue', 'jobManagerTask.requiredSlots'],
      [{ id: 'm', commandLine: '/bin/true', containerSettings: { imageName: 'ubuntu' } }, 'UnsupportedProperty', 'jobManagerTask.containerSettings'],
      [{ id: 'm', commandLine: '/bin/true', authenticationTokenSettings: { access: ['job'] } }, 'UnsupportedProperty', 'jobManagerTask.authenticationTokenSettings'],
      [{ id: 'm', commandLine: '/bin/true', applicationPackageReferences: [{ applicationId: 'app' }] }, 'UnsupportedProperty', 'jobManagerTask.applicationPackageReferences'],
      [{ id: 'm', commandLine: '/bin/true', userIdentity: { username: 'bob' } }, 'UnsupportedProperty', 'jobManagerTask.userIdentity.username'],
    ];
    for (const [jm, code, property] of cases) {
      const r = await raw({ id: 'jmbad', poolInfo: { poolId: POOL }, jobManagerTask: jm });
      expect([r.status, (r.json as { code?: string } | undefined)?.code]).toEqual([400, code]);
      const values = ((r.json as { values?: { key: string; value: string }[] }).values ?? []);
      expect(values.find((v) => v.key === 'PropertyName')?.value).toBe(property);
    }
    expect(await errorOf(s.client.job.get('jmbad'))).toMatchObject({ statusCode: 404, code: 'JobNotFound' });
    // A job manager output file the task rules refuse (auto-storage) is refused before the job row exists too.
    const r = await raw({ id: 'jmbad', poolInfo: { poolId: POOL }, jobManagerTask: { id: 'm', commandLine: '/bin/true', outputFiles: [{ filePattern: '*', destination: { container: { containerUrl: 'https://a/c' }, autoStorage: { path: 'x' } }, uploadOptions: { uploadCondition: 'TaskSuccess' } }] } });
    expect([r.status, (r.json as { code?: string } | undefined)?.code]).toEqual([400, 'UnsupportedProperty']);
    expect(await errorOf(s.client.job.get('jmbad'))).toMatchObject({ statusCode: 404, code: 'JobNotFound' });
  });
});
