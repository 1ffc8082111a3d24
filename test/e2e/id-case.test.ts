import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, IMAGE, startTestStack, waitFor, type TestStack } from './support/stack';

/**
 * Batch ids are case-preserving and case-insensitive ("you may not have two IDs within an account
 * that differ only by case"): every id of a request finds its resource whatever its case, two ids
 * that differ only by case collide, and responses show the id as it was created.
 */
let s: TestStack;

beforeAll(async () => {
  s = await startTestStack();
});
afterAll(async () => {
  await s?.stop();
});

describe('ids are case-insensitive and case-preserving (official @azure/batch client)', () => {
  it('pools: another case finds the pool and cannot create a second one', async () => {
    await s.client.pool.add({ id: 'CasePool', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1 });
    expect(await errorOf(s.client.pool.add({ id: 'casepool', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0 }))).toEqual({ statusCode: 409, code: 'PoolExists' });
    expect((await s.client.pool.get('CASEPOOL')).id).toBe('CasePool');
    expect((await s.client.pool.exists('casePOOL')).body).toBe(true);
    expect((await s.client.pool.list({ poolListOptions: { filter: "id eq 'casepool'" } })).map((p) => p.id)).toEqual(['CasePool']);
    const node = await waitFor('idle node', async () => {
      const n = await s.client.computeNode.list('casepool');
      return n.length === 1 && n[0]!.state === 'idle' ? n[0] : undefined;
    });
    expect((await s.client.computeNode.get('CASEPOOL', node.id!.toUpperCase())).id).toBe(node.id);
  });

  it('jobs and tasks: a job names its pool in another case, tasks are found and collide in any case, and run', async () => {
    await s.client.job.add({ id: 'CaseJob', poolInfo: { poolId: 'casepool' } });
    expect(await errorOf(s.client.job.add({ id: 'CASEJOB', poolInfo: { poolId: 'CasePool' } }))).toEqual({ statusCode: 409, code: 'JobExists' });
    expect((await s.client.job.get('casejob')).id).toBe('CaseJob');

    await s.client.task.add('casejob', { id: 'Task-A', commandLine: '/bin/true' });
    expect(await errorOf(s.client.task.add('CaseJob', { id: 'task-a', commandLine: '/bin/true' }))).toEqual({ statusCode: 409, code: 'TaskExists' });
    const added = await s.client.task.addCollection('CASEJOB', [{ id: 'TASK-A', commandLine: '/bin/true' }, { id: 'Task-B', commandLine: '/bin/true' }]);
    expect(added.value?.map((r) => [r.taskId, r.status, r.error?.code])).toEqual([['TASK-A', 'clientError', 'TaskExists'], ['Task-B', 'success', undefined]]);

    const done = await waitFor('tasks completed', async () => {
      const tasks = await s.client.task.list('CASEJOB');
      return tasks.length === 2 && tasks.every((t) => t.state === 'completed') ? tasks : undefined;
    });
    expect(done.map((t) => [t.id, t.executionInfo?.exitCode]).sort()).toEqual([['Task-A', 0], ['Task-B', 0]]);
    const a = await s.client.task.get('CASEJOB', 'tAsK-a');
    expect(a.id).toBe('Task-A');
    expect(a.url).toMatch(/\/jobs\/CaseJob\/tasks\/Task-A$/);
    expect(a.nodeInfo?.poolId).toBe('CasePool');
    expect((await s.client.job.getTaskCounts('casejob')).taskCounts).toMatchObject({ completed: 2, succeeded: 2, active: 0 });
  });

  it('terminate in another case ends a running task on its node and takes a queued one out of the queue', async () => {
    await s.client.task.add('CaseJob', { id: 'Sleeper', commandLine: '/bin/sleep 60' });
    await waitFor('running', async () => ((await s.client.task.get('casejob', 'sleeper')).state === 'running' ? true : undefined));
    await s.client.task.terminate('CASEJOB', 'SLEEPER');
    const ended = await waitFor('terminated', async () => {
      const t = await s.client.task.get('CaseJob', 'Sleeper');
      return t.state === 'completed' ? t : undefined;
    }, 20_000);
    expect(ended.executionInfo?.failureInfo?.code).toBe('TaskEnded');

    await s.client.pool.add({ id: 'EmptyPool', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0 });
    await s.client.job.add({ id: 'QueueJob', poolInfo: { poolId: 'EMPTYPOOL' } });
    await s.client.task.add('QueueJob', { id: 'Queued', commandLine: '/bin/true' });
    await s.client.task.terminate('queuejob', 'QUEUED');
    expect((await s.client.task.get('QUEUEJOB', 'queued')).state).toBe('completed');
    expect((await s.client.job.getTaskCounts('QueueJob')).taskCounts).toMatchObject({ active: 0, completed: 1, failed: 1 });
    // Nodes arrive: the terminated task was taken out of the queue, so it never runs.
    await waitFor('steady', async () => ((await s.client.pool.get('emptyPool')).allocationState === 'steady' ? true : undefined));
    await s.client.pool.resize('emptypool', { targetDedicatedNodes: 1 });
    await s.client.task.add('queuejob', { id: 'After', commandLine: '/bin/true' });
    await waitFor('later task completed', async () => ((await s.client.task.get('QueueJob', 'after')).state === 'completed' ? true : undefined));
    const queued = await s.client.task.get('QueueJob', 'Queued');
    expect(queued.executionInfo?.startTime).toBeUndefined();
    expect(queued.executionInfo?.failureInfo?.code).toBe('TaskEnded');
  });

  it('deletes in another case', async () => {
    await s.client.task.deleteMethod('CASEJOB', 'task-b');
    expect(await errorOf(s.client.task.get('CaseJob', 'Task-B'))).toEqual({ statusCode: 404, code: 'TaskNotFound' });
    await s.client.job.deleteMethod('casejob');
    await waitFor('job gone', async () => ((await errorOf(s.client.job.get('CaseJob'))).code === 'JobNotFound' ? true : undefined));
    await s.client.job.deleteMethod('QUEUEJOB');
    await s.client.pool.deleteMethod('casepool');
    await s.client.pool.deleteMethod('EMPTYPOOL');
    await waitFor('pools gone', async () => ((await s.client.pool.exists('CasePool')).body === false && (await s.client.pool.exists('EmptyPool')).body === false ? true : undefined), 30_000);
  });
});
