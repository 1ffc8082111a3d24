import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, IMAGE, startTestStack, waitFor, type TestStack } from './support/stack';
import { rawRequest } from './support/raw';

/**
 * Autoscale, metric samples and account quotas with the official @azure/batch client. The stack
 * runs with short clocks: samples every second, autoscale intervals down to 5 s, and small quotas
 * (6 cores, 4 pools, 3 active jobs) so the quota errors are reachable.
 */
const API = 'api-version=2022-10-01.16.0';
let s: TestStack;

beforeAll(async () => {
  s = await startTestStack({
    BATCHPLANE_AUTOSCALE_MIN_INTERVAL: '5',
    BATCHPLANE_METRICS_INTERVAL: '1',
    BATCHPLANE_QUOTA_CORES: '6',
    BATCHPLANE_QUOTA_POOLS: '4',
    BATCHPLANE_QUOTA_ACTIVE_JOBS: '3',
  });
});
afterAll(async () => {
  await s?.stop();
});

/** The seed's task-based formula (§4.8 Example 2) with a 10-second look-back and at most 3 nodes. */
const TASK_FORMULA = `// Get pending tasks for the past 10 seconds.
$samples = $ActiveTasks.GetSamplePercent(TimeInterval_Second * 10);
// If we have fewer than 70 percent data points, we use the last sample point,
// otherwise we use the maximum of last sample point and the history average.
$tasks = $samples < 70 ? max(0,$ActiveTasks.GetSample(1)) : max( $ActiveTasks.GetSample(1),
avg($ActiveTasks.GetSample(TimeInterval_Second * 10)));
// If number of pending tasks is not 0, set targetVM to pending tasks, otherwise
// half of current dedicated.
$targetVMs = $tasks > 0? $tasks:max(0, $TargetDedicated/2);
$TargetDedicated = max(0, min($targetVMs, 3));
// Set node deallocation mode - keep nodes active only until tasks finish
$NodeDeallocationOption = taskcompletion;`;

describe('a pool with the seed task-based formula', () => {
  const poolId = 'as-pool';
  const jobId = 'as-job';

  it('grows from 0 nodes while tasks queue and shrinks back to 0 after they finish, killing no task', async () => {
    await s.client.pool.add({ id: poolId, vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, enableAutoScale: true, autoScaleFormula: TASK_FORMULA, autoScaleEvaluationInterval: 'PT5S' });
    const created = await s.client.pool.get(poolId);
    expect(created.enableAutoScale).toBe(true);
    expect(created.currentDedicatedNodes).toBe(0);
    // A new pool has no samples yet: the first evaluation fails and the pool starts empty.
    expect(created.autoScaleRun?.error?.code).toBe('AutoScalingFormulaEvaluationError');
    await s.client.job.add({ id: jobId, poolInfo: { poolId } });
    await s.client.task.addCollection(jobId, ['t1', 't2', 't3', 't4'].map((id) => ({ id, commandLine: '/bin/sleep 8' })));

    let maxNodes = 0;
    let sawLeavingWhileBusy = false;
    const done = await waitFor('all tasks done and the pool back at 0 nodes', async () => {
      const nodes = await s.client.computeNode.list(poolId);
      maxNodes = Math.max(maxNodes, nodes.length);
      if (nodes.some((n) => n.state === 'leavingpool' && (n.runningTasksCount ?? 0) > 0)) sawLeavingWhileBusy = true;
      const [pool, counts] = await Promise.all([s.client.pool.get(poolId), s.client.job.getTaskCounts(jobId)]);
      return counts.taskCounts.completed === 4 && nodes.length === 0 && pool.allocationState === 'steady' ? { pool, counts } : undefined;
    }, 110_000, 300);

    expect(maxNodes).toBe(3);
    expect(sawLeavingWhileBusy).toBe(true);
    expect(done.counts.taskCounts).toMatchObject({ succeeded: 4, failed: 0 });
    for (const t of await s.client.task.list(jobId)) {
      expect([t.id, t.executionInfo?.result, t.executionInfo?.requeueCount, t.executionInfo?.retryCount]).toEqual([t.id, 'success', 0, 0]);
    }
    expect(done.pool.currentDedicatedNodes).toBe(0);
    expect(done.pool.autoScaleRun?.error).toBeUndefined();
    // Results show values as evaluated (a target of 0.44 is applied as 0), user variables in name order.
    expect(done.pool.autoScaleRun?.results).toMatch(/^\$TargetDedicatedNodes=0(\.\d+)?;\$TargetLowPriorityNodes=0;\$NodeDeallocationOption=taskcompletion;\$samples=100;\$targetVMs=[\d.]+;\$tasks=[\d.]+$/);
  });
});

describe('enable, evaluate and disable on an existing pool', () => {
  const poolId = 'as-manual';

  it('round-trips with the recorded shapes and refuses what Azure refuses', async () => {
    await s.client.pool.add({ id: poolId, vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0 });
    await waitFor('steady pool', async () => ((await s.client.pool.get(poolId)).allocationState === 'steady' ? true : undefined));
    expect(await errorOf(s.client.pool.evaluateAutoScale(poolId, '$TargetDedicatedNodes=1'))).toEqual({ statusCode: 409, code: 'OperationInvalidForCurrentState' });

    const enabled = await s.client.pool.enableAutoScale(poolId, { autoScaleFormula: '$TargetDedicatedNodes=0', autoScaleEvaluationInterval: 'PT5S' });
    expect(enabled.eTag).toMatch(/^0x[0-9A-F]+$/);
    expect(enabled.dataServiceId).toBe(`${s.url}/pools/${poolId}/enableautoscale`);
    const pool = await s.client.pool.get(poolId);
    expect(pool).toMatchObject({ enableAutoScale: true, autoScaleFormula: '$TargetDedicatedNodes=0', autoScaleEvaluationInterval: 'PT5S' });
    expect(pool.autoScaleRun?.results).toBe('$TargetDedicatedNodes=0;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue');
    expect(await errorOf(s.client.pool.enableAutoScale(poolId, { autoScaleFormula: '$TargetDedicatedNodes=1' }))).toEqual({ statusCode: 503, code: 'TooManyEnableAutoScaleRequests' });

    const run = await s.client.pool.evaluateAutoScale(poolId, '$TargetDedicatedNodes=3');
    expect(run.results).toBe('$TargetDedicatedNodes=3;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue');
    expect(run.timestamp).toBeInstanceOf(Date);
    expect(run.error).toBeUndefined();
    const bad = await rawRequest(s.url, s.accountName, s.accountKey, 'POST', `/pools/${poolId}/evaluateautoscale?${API}`, JSON.stringify({ autoScaleFormula: '$something_useless' }));
    expect(bad.status).toBe(200);
    expect(bad.json).toMatchObject({
      'odata.metadata': `${s.url}/$metadata#Microsoft.Azure.Batch.Protocol.Entities.AutoScaleRun`,
      results: '$TargetDedicatedNodes=0;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue',
      error: { code: 'AutoScalingFormulaEvaluationError', message: 'The specified auto-scaling formula has evaluation error', values: [{ name: 'Message', value: 'Line 1, Col 1: Undefined symbol: $something_useless' }] },
    });
    expect(await errorOf(s.client.pool.evaluateAutoScale(poolId, '$TargetDedicatedNodes = (1'))).toEqual({ statusCode: 400, code: 'AutoScalingFormulaSyntaxError' });
    expect((await s.client.pool.get(poolId)).currentDedicatedNodes).toBe(0);
    expect(await errorOf(s.client.pool.resize(poolId, { targetDedicatedNodes: 1 }))).toEqual({ statusCode: 409, code: 'OperationInvalidForCurrentState' });

    const disabled = await s.client.pool.disableAutoScale(poolId);
    expect(disabled.dataServiceId).toBe(`${s.url}/pools/${poolId}/disableautoscale`);
    const off = await s.client.pool.get(poolId);
    expect([off.enableAutoScale, off.autoScaleFormula, off.autoScaleRun, off.targetDedicatedNodes]).toEqual([false, undefined, undefined, 0]);
    expect(await errorOf(s.client.pool.evaluateAutoScale(poolId, '$TargetDedicatedNodes=1'))).toEqual({ statusCode: 409, code: 'OperationInvalidForCurrentState' });
  });

  it('refuses invalid autoscale settings at pool creation', async () => {
    const base = { vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, enableAutoScale: true };
    expect(await errorOf(s.client.pool.add({ ...base, id: 'as-both', autoScaleFormula: '$TargetDedicatedNodes=1', targetDedicatedNodes: 1 }))).toEqual({ statusCode: 400, code: 'InvalidPropertyValue' });
    expect(await errorOf(s.client.pool.add({ ...base, id: 'as-noformula' }))).toEqual({ statusCode: 400, code: 'MissingRequiredProperty' });
    expect(await errorOf(s.client.pool.add({ ...base, id: 'as-syntax', autoScaleFormula: '$TargetDedicatedNodes = = 1' }))).toEqual({ statusCode: 400, code: 'AutoScalingFormulaSyntaxError' });
    expect(await errorOf(s.client.pool.add({ ...base, id: 'as-short', autoScaleFormula: '$TargetDedicatedNodes=1', autoScaleEvaluationInterval: 'PT1S' }))).toEqual({ statusCode: 400, code: 'InvalidAutoScalingSettings' });
    expect((await s.client.pool.exists('as-both')).body).toBe(false);
  });
});

describe('shrinking honours nodeDeallocationOption (manual resize, same lifecycle path)', () => {
  const poolId = 'as-manual';
  const jobId = 'dealloc-job';
  const steadyAt = (n: number) => waitFor(`steady at ${n}`, async () => {
    const p = await s.client.pool.get(poolId);
    return p.allocationState === 'steady' && p.currentDedicatedNodes === n ? p : undefined;
  });

  it('terminate ends the running task as failed (TaskEnded); requeue puts it back in the queue', async () => {
    await s.client.pool.resize(poolId, { targetDedicatedNodes: 2 });
    await steadyAt(2);
    await s.client.job.add({ id: jobId, poolInfo: { poolId } });
    await s.client.task.addCollection(jobId, [{ id: 'long1', commandLine: '/bin/sleep 60' }, { id: 'long2', commandLine: '/bin/sleep 60' }]);
    await waitFor('both running', async () => ((await s.client.job.getTaskCounts(jobId)).taskCounts.running === 2 ? true : undefined));

    await s.client.pool.resize(poolId, { targetDedicatedNodes: 1, nodeDeallocationOption: 'terminate' });
    await steadyAt(1);
    const ended = (await s.client.task.list(jobId)).filter((t) => t.state === 'completed');
    expect(ended.map((t) => [t.executionInfo?.result, t.executionInfo?.failureInfo?.code])).toEqual([['failure', 'TaskEnded']]);

    await s.client.pool.resize(poolId, { targetDedicatedNodes: 0, nodeDeallocationOption: 'requeue' });
    await steadyAt(0);
    const back = (await s.client.task.list(jobId)).filter((t) => t.state === 'active');
    expect(back.map((t) => t.executionInfo?.requeueCount)).toEqual([1]);
    expect((await s.client.job.getTaskCounts(jobId)).taskCounts).toMatchObject({ active: 1, running: 0, completed: 1, failed: 1 });
    await s.client.job.terminate(jobId);
  });
});

describe('account quotas', () => {
  it('allocates up to the core quota and records AccountCoreQuotaReached', async () => {
    await s.client.pool.add({ id: 'q-cores', vmSize: 'Standard_D2s_v3', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 4 });
    const pool = await waitFor('steady pool', async () => {
      const p = await s.client.pool.get('q-cores');
      return p.allocationState === 'steady' ? p : undefined;
    });
    expect(pool.currentDedicatedNodes).toBe(3);
    expect(pool.targetDedicatedNodes).toBe(4);
    expect(pool.resizeErrors?.map((e) => e.code)).toEqual(['AccountCoreQuotaReached']);
    // The agents' usage reports (CPU, memory… of the real processes) reach the samples a formula reads.
    await s.client.pool.enableAutoScale('q-cores', { autoScaleFormula: '$TargetDedicatedNodes = 3', autoScaleEvaluationInterval: 'PT5M' });
    const usage = await waitFor('usage samples', async () => {
      const run = await s.client.pool.evaluateAutoScale('q-cores', '$cpu = max($CPUPercent.GetSample(1)); $mem = max($MemoryBytes.GetSample(1)); $nodes = max($SampleNodeCount.GetSample(1)); $TargetDedicatedNodes = 3');
      return run.error ? undefined : run.results;
    }, 60_000, 500); // agents report usage every 15 s
    expect(usage).toMatch(/;\$cpu=[\d.E+-]+;\$mem=[1-9][\d.E+]*;\$nodes=[1-3]$/);
    await s.client.pool.deleteMethod('q-cores');
    await waitFor('pool gone', async () => ((await s.client.pool.exists('q-cores')).body ? undefined : true));
  });

  it('refuses pools beyond the pool quota and jobs beyond the active job quota', async () => {
    const existing = (await s.client.pool.list()).length;
    for (let i = existing; i < 4; i++) await s.client.pool.add({ id: `q-pool-${i}`, vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0 });
    expect(await errorOf(s.client.pool.add({ id: 'q-pool-over', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0 }))).toEqual({ statusCode: 409, code: 'PoolQuotaReached' });

    const active = (await s.client.job.list()).filter((j) => j.state === 'active').length;
    for (let i = active; i < 3; i++) await s.client.job.add({ id: `q-job-${i}`, poolInfo: { poolId: 'as-manual' } });
    expect(await errorOf(s.client.job.add({ id: 'q-job-over', poolInfo: { poolId: 'as-manual' } }))).toEqual({ statusCode: 409, code: 'ActiveJobAndScheduleQuotaReached' });
    await s.client.job.terminate('as-job');
    await s.client.job.add({ id: 'q-job-over', poolInfo: { poolId: 'as-manual' } });
    expect((await s.client.job.get('q-job-over')).state).toBe('active');
  });
});
