import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE, errorOf, startTestStack, waitFor, type TestStack } from './support/stack';
import { rawRequest } from './support/raw';

/*
 * Efficient list queries with the official client: the seed's example filters on every implemented
 * list, $select absence, $expand=stats with measured figures, paging while entities are added, and
 * pool usage metrics from real node lifetimes.
 */

const API = 'api-version=2022-10-01.16.0';
let s: TestStack;
const POOL = 'lq-pool';
const JOB = 'lq-job';
/** Between the first and the second batch of entities. */
let mid: Date;

const ids = (xs: { id?: string }[]): string[] => xs.map((x) => x.id!).sort();
const seconds = (iso: string | undefined): number => Number(/^PT(\d+(?:\.\d+)?)S$/.exec(iso ?? '')?.[1] ?? Number.NaN);
/** .NET `DateTime.ToString("o")` of an instant, in UTC and in a -08:00 local time. */
const dotnetO = (d: Date): [string, string] => {
  const iso = d.toISOString();
  const local = new Date(d.getTime() - 8 * 3_600_000).toISOString();
  return [`${iso.slice(0, 23)}0000Z`, `${local.slice(0, 23)}0000-08:00`];
};
const completed = (jobId: string, taskId: string) => async () => {
  const t = await s.client.task.get(jobId, taskId);
  return t.state === 'completed' ? t : undefined;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  s = await startTestStack();
  await s.client.pool.add({ id: POOL, vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1, taskSlotsPerNode: 2 });
  await s.client.pool.add({ id: 'test-a', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0 });
  await s.client.job.add({ id: JOB, poolInfo: { poolId: POOL } });
  await s.client.task.addCollection(JOB, [
    { id: 'renderTask-ok', commandLine: '/bin/true' },
    { id: 'fail-3', commandLine: '/bin/bash -c "exit 3"' },
    { id: 'flaky', commandLine: '/bin/bash -c "exit 4"', constraints: { maxTaskRetryCount: 1 } },
    { id: 'stats-dd', commandLine: '/bin/bash -c "dd if=/dev/zero of=f bs=1M count=5; sleep 0.2"' },
    { id: 'stats-cpu', commandLine: '/bin/bash -c "for i in $(seq 1 300000); do :; done"' },
  ]);
  for (const t of ['renderTask-ok', 'fail-3', 'flaky', 'stats-dd', 'stats-cpu']) await waitFor(`${t} done`, completed(JOB, t), 60_000);
  await sleep(20);
  mid = new Date();
  await sleep(20);
  await s.client.pool.add({ id: 'TestB', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0 });
  await s.client.job.add({ id: 'lq-later', poolInfo: { poolId: 'test-a' } });
  // Two sleepers fill the node's two slots; the next two tasks stay active behind them.
  await s.client.task.addCollection(JOB, [{ id: 'renderTask-run', commandLine: '/bin/sleep 120' }, { id: 'other-run', commandLine: '/bin/sleep 120' }]);
  await waitFor('sleepers running', async () => ((await s.client.task.list(JOB, { taskListOptions: { filter: "state eq 'running'" } })).length === 2 ? true : undefined));
  await s.client.task.addCollection(JOB, [{ id: 'queued-1', commandLine: '/bin/true' }, { id: 'queued-2', commandLine: '/bin/true' }]);
}, 180_000);

afterAll(async () => {
  await s?.stop();
});

describe('the seed filter examples on the implemented lists', () => {
  const list = async (filter: string) => ids(await s.client.task.list(JOB, { taskListOptions: { filter } }));
  const later = ['other-run', 'queued-1', 'queued-2', 'renderTask-run'];

  it('tasks: state, the render-task example, non-zero exit codes', async () => {
    expect(await list("state eq 'completed'")).toEqual(['fail-3', 'flaky', 'renderTask-ok', 'stats-cpu', 'stats-dd']);
    expect(await list("(state eq 'running') and startswith(id, 'renderTask')")).toEqual(['renderTask-run']);
    expect(await list('(executionInfo/exitCode lt 0) or (executionInfo/exitCode gt 0)')).toEqual(['fail-3', 'flaky']);
    expect(await list("state eq 'active'")).toEqual(['queued-1', 'queued-2']);
    expect(await list("state eq 'running'")).toEqual(['other-run', 'renderTask-run']);
    expect(await list("startswith(id, 'RENDERTASK')")).toEqual(['renderTask-ok', 'renderTask-run']);
    expect(await list("executionInfo/result eq 'failure'")).toEqual(['fail-3', 'flaky']);
  });

  it('tasks: stateTransitionTime (.NET "o", UTC and local) and creationTime (W3C and RFC 1123)', async () => {
    const [utc, local] = dotnetO(mid);
    expect(await list(`stateTransitionTime gt DateTime'${utc}'`)).toEqual(later);
    expect(await list(`stateTransitionTime gt DateTime'${local}'`)).toEqual(later);
    const whole = new Date(Math.floor(mid.getTime() / 1000) * 1000 - 1000);
    const created = await list(`creationTime gt DateTime'${whole.toISOString().replace('.000', '')}'`);
    expect(await list(`creationTime gt DateTime'${whole.toUTCString()}'`)).toEqual(created);
    expect(created).toEqual(expect.arrayContaining(later));
    expect(await list(`creationTime gt DateTime'${mid.toISOString()}'`)).toEqual(later);
  });

  it('pools: startswith(id, \'test\'), state, stateTransitionTime and creationTime', async () => {
    const pools = async (filter: string) => ids(await s.client.pool.list({ poolListOptions: { filter } }));
    expect(await pools("startswith(id, 'test')")).toEqual(['TestB', 'test-a']);
    expect(await pools("id eq 'testb'")).toEqual(['TestB']);
    expect(await pools("state eq 'active'")).toEqual([POOL, 'TestB', 'test-a'].sort());
    const [utc, local] = dotnetO(mid);
    expect(await pools(`creationTime gt DateTime'${utc}'`)).toEqual(['TestB']);
    expect(await pools(`creationTime gt DateTime'${mid.toUTCString()}'`)).toEqual(expect.arrayContaining(['TestB']));
    expect(await pools(`stateTransitionTime gt DateTime'${local}'`)).toEqual(expect.arrayContaining(['TestB']));
  });

  it('jobs: stateTransitionTime, creationTime, id, executionInfo/poolId', async () => {
    const jobs = async (filter: string) => ids(await s.client.job.list({ jobListOptions: { filter } }));
    const [utc, local] = dotnetO(mid);
    expect(await jobs(`stateTransitionTime gt DateTime'${utc}'`)).toEqual(['lq-later']);
    expect(await jobs(`stateTransitionTime gt DateTime'${local}'`)).toEqual(['lq-later']);
    expect(await jobs(`creationTime gt DateTime'${mid.toISOString()}'`)).toEqual(['lq-later']);
    expect(await jobs("startswith(id, 'LQ-')")).toEqual([JOB, 'lq-later']);
    expect(await jobs("executionInfo/poolId eq 'TEST-A'")).toEqual(['lq-later']);
  });

  it('nodes: stateTransitionTime and state', async () => {
    const nodes = await s.client.computeNode.list(POOL);
    expect(nodes).toHaveLength(1);
    const byFilter = async (filter: string) => (await s.client.computeNode.list(POOL, { computeNodeListOptions: { filter } })).length;
    expect(await byFilter(`stateTransitionTime gt DateTime'${dotnetO(new Date(Date.now() + 60_000))[0]}'`)).toBe(0);
    expect(await byFilter("stateTransitionTime gt DateTime'Sun, 08 May 2011 08:49:37 GMT'")).toBe(1);
    expect(await byFilter("state eq 'running' or state eq 'idle'")).toBe(1);
    expect(await byFilter("state eq 'unusable'")).toBe(0);
  });

  it('unknown properties, operators and $expand values are 400 InvalidQueryParameterValue', async () => {
    expect(await errorOf(s.client.pool.list({ poolListOptions: { filter: "Id eq 'x'" } }))).toEqual({ statusCode: 400, code: 'InvalidQueryParameterValue' });
    expect(await errorOf(s.client.task.list(JOB, { taskListOptions: { expand: 'executionInfo' } }))).toEqual({ statusCode: 400, code: 'InvalidQueryParameterValue' });
    expect(await errorOf(s.client.computeNode.list(POOL, { computeNodeListOptions: { select: 'id,stats' } }))).toEqual({ statusCode: 400, code: 'InvalidQueryParameterValue' });
    const nodesExpand = await rawRequest(s.url, s.accountName, s.accountKey, 'GET', `/pools/${POOL}/nodes?${API}&$expand=stats`);
    expect([nodesExpand.status, nodesExpand.json?.code]).toEqual([400, 'InvalidQueryParameterValue']);
    const imagesExpand = await rawRequest(s.url, s.accountName, s.accountKey, 'GET', `/supportedimages?${API}&$expand=stats`);
    expect([imagesExpand.status, imagesExpand.json?.code]).toEqual([400, 'InvalidQueryParameterValue']);
    expect(await errorOf(s.client.pool.get(POOL, { poolGetOptions: { expand: 'nodes' } }))).toEqual({ statusCode: 400, code: 'InvalidQueryParameterValue' });
  });
});

describe('$select and $expand', () => {
  it('unselected properties are absent on lists and gets; stats only when asked', async () => {
    const [pool] = await s.client.pool.list({ poolListOptions: { filter: `id eq '${POOL}'`, select: 'id,state' } });
    expect(pool).toMatchObject({ id: POOL, state: 'active' });
    expect(pool!.allocationState).toBeUndefined();
    expect(pool!.vmSize).toBeUndefined();
    const job = await s.client.job.get(JOB, { jobGetOptions: { select: 'id' } });
    expect(job.id).toBe(JOB);
    expect(job.poolInfo).toBeUndefined();
    const task = await s.client.task.get(JOB, 'stats-dd');
    expect(task.commandLine).toBeDefined();
    expect(task.stats).toBeUndefined();
    expect((await s.client.task.list(JOB, { taskListOptions: { filter: "state eq 'completed'" } })).every((t) => t.stats === undefined)).toBe(true);
    const node = await s.client.computeNode.get(POOL, (await s.client.computeNode.list(POOL))[0]!.id!, { computeNodeGetOptions: { select: 'id' } });
    expect([node.id, node.state, node.vmSize, node.allocationTime]).toEqual([expect.stringMatching(/^tvmps_/), undefined, undefined, undefined]);
    const viaSelect = await s.client.task.get(JOB, 'stats-dd', { taskGetOptions: { select: 'id,stats' } });
    expect(viaSelect.stats?.url).toContain('/tasks/stats-dd');
    expect(viaSelect.commandLine).toBeUndefined();
  });

  it('task statistics measured from the run', async () => {
    const t = await s.client.task.get(JOB, 'stats-dd', { taskGetOptions: { expand: 'stats' } });
    const st = t.stats!;
    expect(seconds(st.wallClockTime)).toBeGreaterThanOrEqual(0.2);
    expect(st.writeIOps).toBeGreaterThan(0);
    expect(st.writeIOGiB).toBeGreaterThan(0);
    expect(seconds(st.waitTime)).toBeGreaterThanOrEqual(0);
    expect(st.startTime).toEqual(t.executionInfo?.startTime);
    const listed = await s.client.task.list(JOB, { taskListOptions: { filter: "startswith(id, 'stats')", expand: 'stats', select: 'id' } });
    // Listings go bucket by bucket (ids in order within a bucket), so look the tasks up by id.
    expect(listed.map((x) => x.id).sort()).toEqual(['stats-cpu', 'stats-dd']);
    expect(listed.find((x) => x.id === 'stats-dd')).toMatchObject({ id: 'stats-dd', stats: { writeIOps: st.writeIOps } });
    expect(seconds(listed.find((x) => x.id === 'stats-cpu')!.stats?.userCPUTime)).toBeGreaterThan(0);
  });

  it('job statistics from the counters: runs, successes, failures, retries', async () => {
    const [job] = await s.client.job.list({ jobListOptions: { filter: `id eq '${JOB}'`, expand: 'stats' } });
    const st = job!.stats!;
    expect(st).toMatchObject({ numSucceededTasks: 3, numFailedTasks: 2, numTaskRetries: 1 });
    expect(seconds(st.userCPUTime)).toBeGreaterThan(0);
    expect(seconds(st.wallClockTime)).toBeGreaterThanOrEqual(0.2);
    expect(st.writeIOps).toBeGreaterThan(0);
    expect(st.writeIOGiB).toBeGreaterThan(0);
    expect(seconds(st.waitTime)).toBeGreaterThanOrEqual(0);
    const viaGet = await s.client.job.get(JOB, { jobGetOptions: { expand: 'stats' } });
    expect(viaGet.stats?.numTaskRetries).toBe(1);
    expect((await s.client.job.get(JOB)).stats).toBeUndefined();
  });

  it('pool statistics: dedicated core time and resource usage of its nodes', async () => {
    const pool = await waitFor('pool usage reported', async () => {
      const p = await s.client.pool.get(POOL, { poolGetOptions: { expand: 'stats' } });
      return (p.stats?.resourceStats?.avgMemoryGiB ?? 0) > 0 ? p : undefined;
    }, 60_000);
    const st = pool.stats!;
    expect(seconds(st.usageStats?.dedicatedCoreTime)).toBeGreaterThan(1);
    expect(st.resourceStats?.peakMemoryGiB).toBeGreaterThan(0);
    expect(st.resourceStats?.avgCPUPercentage).toBeGreaterThanOrEqual(0);
    expect(new Date(st.startTime).toISOString()).toEqual(new Date(pool.creationTime!).toISOString());
    const [listed] = await s.client.pool.list({ poolListOptions: { filter: `id eq '${POOL}'`, select: 'id,stats' } });
    expect(Object.keys(listed!).sort()).toEqual(['id', 'stats']);
  });
});

describe('paging while entities are being added', () => {
  it('following every nextLink returns each pre-existing task exactly once', async () => {
    await s.client.pool.add({ id: 'empty-pool', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0 });
    await s.client.job.add({ id: 'paging', poolInfo: { poolId: 'empty-pool' } });
    const pre = Array.from({ length: 300 }, (_, i) => `p-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < pre.length; i += 100) await s.client.task.addCollection('paging', pre.slice(i, i + 100).map((id) => ({ id, commandLine: '/bin/true' })));
    for (const filter of [undefined, "state eq 'active'"]) {
      let stop = false;
      let n = 0;
      const writer = (async () => {
        while (!stop) {
          const batch = [`a-${n}`, `p-${String(n % 300).padStart(3, '0')}x${n}`, `z-${n}`].map((id) => ({ id: `${id}${filter ? 'q' : ''}`, commandLine: '/bin/true' }));
          n++;
          await s.client.task.addCollection('paging', batch);
        }
      })();
      const seen: string[] = [];
      let page = await s.client.task.list('paging', { taskListOptions: { maxResults: 37, filter, select: 'id' } });
      seen.push(...page.map((t) => t.id!));
      while (page.odatanextLink) {
        await sleep(5);
        page = await s.client.task.listNext(page.odatanextLink);
        seen.push(...page.map((t) => t.id!));
      }
      stop = true;
      await writer;
      expect(n).toBeGreaterThan(2);
      const counts = new Map<string, number>();
      for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
      expect(pre.filter((id) => counts.get(id) !== 1)).toEqual([]);
      expect([...counts.values()].every((c) => c === 1)).toBe(true);
    }
  });
});

describe('pool usage metrics', () => {
  it('reports per-hour core hours of a pool whose node ran and was removed, with starttime/endtime and $filter', async () => {
    await s.client.pool.add({ id: 'usage-pool', vmSize: 'standard_d2s_v3', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1 });
    await waitFor('usage-pool node idle', async () => ((await s.client.computeNode.list('usage-pool')).some((n) => n.state === 'idle') ? true : undefined));
    await sleep(1500);
    await s.client.pool.resize('usage-pool', { targetDedicatedNodes: 0 });
    await waitFor('usage-pool empty', async () => {
      const p = await s.client.pool.get('usage-pool');
      return p.allocationState === 'steady' && p.currentDedicatedNodes === 0 ? true : undefined;
    });
    const startTime = new Date(Date.now() - 3 * 3_600_000);
    const endTime = new Date(Date.now() + 1000);
    const all = await s.client.pool.listUsageMetrics({ poolListUsageMetricsOptions: { startTime, endTime } });
    const usage = all.filter((m) => m.poolId === 'usage-pool');
    expect(usage.length).toBeGreaterThanOrEqual(1);
    expect(usage.every((m) => m.vmSize === 'standard_d2s_v3' && new Date(m.endTime).getTime() - new Date(m.startTime).getTime() === 3_600_000)).toBe(true);
    const coreHours = usage.reduce((n, m) => n + m.totalCoreHours, 0);
    expect(coreHours).toBeGreaterThan(2 * 1.5 / 3600);
    expect(coreHours).toBeLessThan(2 * 120 / 3600);
    expect(all.some((m) => m.poolId === POOL && m.totalCoreHours > 0)).toBe(true);
    const filtered = await s.client.pool.listUsageMetrics({ poolListUsageMetricsOptions: { startTime, endTime, filter: "poolId eq 'USAGE-POOL'" } });
    expect(filtered.map((m) => m.poolId)).toEqual(usage.map((m) => m.poolId));
    const paged = await s.client.pool.listUsageMetrics({ poolListUsageMetricsOptions: { startTime, endTime, maxResults: 1 } });
    const seen = [...paged];
    let link = paged.odatanextLink;
    while (link) {
      const next = await s.client.pool.listUsageMetricsNext(link);
      seen.push(...next);
      link = next.odatanextLink;
    }
    const key = (m: { poolId: string; startTime: Date; vmSize: string }) => `${m.poolId}|${m.startTime.toISOString()}|${m.vmSize}`;
    expect(seen.map(key)).toEqual(all.map(key));
    const st = (await s.client.pool.get('usage-pool', { poolGetOptions: { expand: 'stats' } })).stats!;
    expect(seconds(st.usageStats?.dedicatedCoreTime)).toBeGreaterThan(2 * 1.5);
    expect(await s.client.pool.listUsageMetrics({ poolListUsageMetricsOptions: { startTime: new Date(Date.now() + 7_200_000), endTime: new Date(Date.now() + 10_800_000) } })).toHaveLength(0);
    const bad = await rawRequest(s.url, s.accountName, s.accountKey, 'GET', `/poolusagemetrics?${API}&starttime=yesterday`);
    expect([bad.status, bad.json?.code]).toEqual([400, 'InvalidQueryParameterValue']);
  });
});
