import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { serviceLogResourceId } from '../../shared/events/records';
import { IMAGE, startTestStack, stepLog, waitFor, type TestStack } from './support/stack';
import { expectExactlyOnce, namesOf, POOL_LIFECYCLE, sequenceOf, taskSequence, waitForPublished } from './support/service-logs';

let s: TestStack;

beforeAll(async () => {
  s = await startTestStack();
});
afterAll(async () => {
  await s?.stop();
});

describe('service logs: one event per transition, through Event Hubs and PT1H.json blobs', () => {
  const poolId = 'sl-pool';
  const jobId = 'sl-job';

  it('streams exactly the expected events, with the expected bodies, and stores the same records', async () => {
    const step = stepLog('service-logs', onTestFailed);
    // 1. A pool of one node, resized to two.
    step('pool add');
    await s.client.pool.add({ id: poolId, displayName: 'Service logs', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1, taskSlotsPerNode: 2, resizeTimeout: 'PT10M' });
    const steady = async (n: number): Promise<void> => {
      await waitFor(`steady at ${n}`, async () => {
        const p = await s.client.pool.get(poolId);
        return p.allocationState === 'steady' && p.currentDedicatedNodes === n ? true : undefined;
      });
    };
    step('wait steady at 1');
    await steady(1);
    step('resize to 2');
    await s.client.pool.resize(poolId, { targetDedicatedNodes: 2 });
    step('wait steady at 2');
    await steady(2);
    // 2. Tasks that succeed and fail.
    step('job add, task add');
    await s.client.job.add({ id: jobId, poolInfo: { poolId } });
    await s.client.task.addCollection(jobId, [
      { id: 'ok', commandLine: '/bin/true' },
      { id: 'bad', commandLine: '/bin/bash -c "exit 3"' },
      { id: 'ok2', commandLine: '/bin/bash -c "echo hi"' },
    ]);
    step('wait tasks done');
    await waitFor('tasks done', async () => ((await s.client.job.getTaskCounts(jobId)).taskCounts.completed === 3 ? true : undefined));
    const node = (await s.client.task.get(jobId, 'bad')).nodeInfo!.nodeId!;
    // 3. Delete the job (its partition is flushed first) and the pool.
    step('delete job and pool');
    await s.client.job.deleteMethod(jobId);
    await s.client.pool.deleteMethod(poolId);
    step('wait pool gone');
    await waitFor('pool gone', async () => ((await s.client.pool.exists(poolId)).body ? undefined : true));

    const resourceId = serviceLogResourceId(s.rt.config);
    expect(resourceId).toBe('/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/BATCHPLANE-LOCAL/PROVIDERS/MICROSOFT.BATCH/BATCHACCOUNTS/BATCHPLANE');
    step('wait published');
    const p = await waitForPublished(s.eventHubsConnectionString!, s.rt.storage.blobService, resourceId, [poolId, jobId], 7 + 7);
    expectExactlyOnce(p, resourceId);

    // Pool: create, resize to 1, resize to 2, delete — in order.
    expect(namesOf(p, poolId)).toEqual([...POOL_LIFECYCLE, 'PoolResizeStartEvent', 'PoolResizeCompleteEvent', 'PoolDeleteStartEvent', 'PoolDeleteCompleteEvent']);
    const [create, start1, done1, start2, done2, delStart, delDone] = sequenceOf(p, poolId).map((r) => r.properties as Record<string, unknown>);
    expect(create).toEqual({
      id: poolId, displayName: 'Service logs', vmSize: 'standard_a1_v2', imageType: 'VirtualMachineConfiguration',
      virtualMachineConfiguration: { imageReference: IMAGE.imageReference, nodeAgentId: IMAGE.nodeAgentSKUId },
      resizeTimeout: '600000', targetDedicatedNodes: 1, targetLowPriorityNodes: 0, taskSlotsPerNode: 2, maxTasksPerNode: 2,
      vmFillType: 'Spread', enableAutoScale: false, enableInterNodeCommunication: false, isAutoPool: false,
    });
    expect(start1).toMatchObject({ id: poolId, currentDedicatedNodes: 0, targetDedicatedNodes: 1 });
    expect(done1).toMatchObject({ id: poolId, currentDedicatedNodes: 1, targetDedicatedNodes: 1, resultCode: 'Success' });
    expect(start2).toMatchObject({ id: poolId, currentDedicatedNodes: 1, targetDedicatedNodes: 2 });
    expect(done2).toMatchObject({ id: poolId, currentDedicatedNodes: 2, targetDedicatedNodes: 2, resultCode: 'Success' });
    expect(delStart).toEqual({ id: poolId });
    expect(delDone).toMatchObject({ id: poolId });
    expect(Date.parse(delDone!.endTime as string)).toBeGreaterThanOrEqual(Date.parse(delDone!.startTime as string));

    // Job: every run starts then completes; the failed one also fails.
    expect(namesOf(p, jobId).filter((n) => n === 'TaskStartEvent')).toHaveLength(3);
    expect(taskSequence(p, jobId, 'ok').map((r) => r.operationName)).toEqual(['TaskStartEvent', 'TaskCompleteEvent']);
    expect(taskSequence(p, jobId, 'ok2').map((r) => r.operationName)).toEqual(['TaskStartEvent', 'TaskCompleteEvent']);
    const bad = taskSequence(p, jobId, 'bad');
    expect(bad.map((r) => r.operationName)).toEqual(['TaskStartEvent', 'TaskCompleteEvent', 'TaskFailEvent']);
    const common = { jobId, id: 'bad', taskType: 'User', nodeInfo: { poolId, nodeId: node }, multiInstanceSettings: { numberOfInstances: 1 }, constraints: { maxTaskRetryCount: 0 } };
    expect(bad[0]!.properties).toMatchObject({ ...common, executionInfo: { retryCount: 0 } });
    expect(bad[2]!.properties).toMatchObject({ ...common, executionInfo: { exitCode: 3, retryCount: 0, requeueCount: 0 } });
    expect(taskSequence(p, jobId, 'ok')[1]!.properties).toMatchObject({ jobId, id: 'ok', executionInfo: { exitCode: 0, retryCount: 0 } });

    expect(s.rt.telemetry.kind).toBe('noop');
  }, 300_000); // bounded waits one by one (60 + 60 + 60 + 60 + 80 s): under CI load their sum can pass 120 s
});
