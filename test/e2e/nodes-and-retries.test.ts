import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE, startTestStack, waitFor, type TestStack } from './support/stack';

let s: TestStack;
beforeAll(async () => {
  s = await startTestStack({ BATCHPLANE_NODE_HEARTBEAT_TIMEOUT: '10' });
});
afterAll(async () => {
  await s?.stop();
});

const completed = (jobId: string, taskId: string) => async () => {
  const t = await s.client.task.get(jobId, taskId);
  return t.state === 'completed' ? t : undefined;
};

describe('pool resize, retries, wall-clock limits and lost nodes', () => {
  it('resizes a pool up and down, and stopresize settles it', async () => {
    await s.client.pool.add({ id: 'rs', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1 });
    await waitFor('steady 1', async () => ((await s.client.pool.get('rs')).allocationState === 'steady' ? true : undefined));
    await s.client.pool.resize('rs', { targetDedicatedNodes: 2 });
    expect((await s.client.pool.get('rs')).allocationState).toMatch(/resizing|steady/);
    const up = await waitFor('steady 2', async () => {
      const p = await s.client.pool.get('rs');
      return p.allocationState === 'steady' && p.currentDedicatedNodes === 2 ? p : undefined;
    });
    expect(up.targetDedicatedNodes).toBe(2);
    await waitFor('2 idle nodes', async () => ((await s.client.computeNode.list('rs')).filter((n) => n.state === 'idle').length === 2 ? true : undefined));
    await s.client.pool.resize('rs', { targetDedicatedNodes: 0 });
    await waitFor('steady 0', async () => {
      const p = await s.client.pool.get('rs');
      return p.allocationState === 'steady' && p.currentDedicatedNodes === 0 ? p : undefined;
    });
    expect(await s.client.computeNode.list('rs')).toHaveLength(0);
    const err = await s.client.pool.stopResize('rs').catch((e: { code?: string }) => e);
    expect((err as { code?: string }).code).toBe('PoolNotResizing');
    await s.client.pool.deleteMethod('rs');
  });

  it('retries a failing task maxTaskRetryCount times and kills one that exceeds maxWallClockTime', async () => {
    await s.client.pool.add({ id: 'rt', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1, taskSlotsPerNode: 2 });
    await s.client.job.add({ id: 'rt-job', poolInfo: { poolId: 'rt' } });
    await s.client.task.add('rt-job', { id: 'flaky', commandLine: '/bin/bash -c "exit 7"', constraints: { maxTaskRetryCount: 2 } });
    await s.client.task.add('rt-job', { id: 'slow', commandLine: '/bin/sleep 30', constraints: { maxWallClockTime: 'PT1S' } });
    const flaky = await waitFor('flaky done', completed('rt-job', 'flaky'), 60_000);
    expect([flaky.executionInfo?.exitCode, flaky.executionInfo?.retryCount, flaky.executionInfo?.result]).toEqual([7, 2, 'failure']);
    const slow = await waitFor('slow ended', completed('rt-job', 'slow'), 60_000);
    expect(slow.executionInfo?.result).toBe('failure');
    expect(slow.executionInfo?.failureInfo?.code).toBe('TaskEnded');
    const counts = await s.client.job.getTaskCounts('rt-job');
    expect(counts.taskCounts).toMatchObject({ active: 0, running: 0, completed: 2, failed: 2 });
  });

  it('marks a node whose agent dies unusable and runs its task again elsewhere, counting a retry', async () => {
    await s.client.pool.add({ id: 'lost', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 2 });
    await waitFor('2 idle', async () => ((await s.client.computeNode.list('lost')).filter((n) => n.state === 'idle').length === 2 ? true : undefined));
    await s.client.job.add({ id: 'lost-job', poolInfo: { poolId: 'lost' } });
    await s.client.task.add('lost-job', { id: 'victim', commandLine: '/bin/bash -c "sleep 3; echo done"', constraints: { maxTaskRetryCount: 1 } });
    const running = await waitFor('victim running', async () => {
      const t = await s.client.task.get('lost-job', 'victim');
      return t.state === 'running' ? t : undefined;
    });
    const nodeId = running.nodeInfo!.nodeId!;
    const node = await s.rt.nodes.get('lost', nodeId);
    process.kill(-Number(node!.value.provider.pid), 'SIGKILL');
    await waitFor('node unusable', async () => ((await s.client.computeNode.get('lost', nodeId)).state === 'unusable' ? true : undefined), 30_000);
    const t = await waitFor('victim done', completed('lost-job', 'victim'), 60_000);
    expect(t.executionInfo?.retryCount).toBe(1);
    expect(t.executionInfo?.exitCode).toBe(0);
    expect(t.nodeInfo?.nodeId).not.toBe(nodeId);
  });
});
