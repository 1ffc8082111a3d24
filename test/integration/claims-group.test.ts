import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobAdd, taskAdd } from '../../shared/api/schemas';
import { loadConfig } from '../../shared/config';
import { createRuntime, type Runtime } from '../../shared/runtime';
import { claimTasks } from '../../shared/services/claims';
import { activeJobsOnPool, addJob, taskCounts } from '../../shared/services/jobs';
import { addTasks } from '../../shared/services/tasks';
import { TABLES, TASK_BUCKETS, bucketOf, jobPartitionsFilter, taskPartition } from '../../shared/storage/keys';
import { byBucket, COUNTS_TTL_MS } from '../../shared/services/taskflow';
import { azuriteConnectionString, uniqueName } from '../support/storage';

let rt: Runtime;

beforeAll(async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bp-claims-'));
  rt = createRuntime(loadConfig({ AzureWebJobsStorage: azuriteConnectionString(), BATCHPLANE_STORAGE_PREFIX: uniqueName('g'), BATCHPLANE_DATA_DIR: dataDir }));
  await rt.storage.ensure();
});
afterAll(async () => {
  if (rt) await Promise.all(TABLES.map((t) => rt.storage.tables[t].client.deleteTable()));
});

async function jobWithTasks(poolId: string, n: number, slots = 1): Promise<string> {
  const id = uniqueName('job');
  await addJob(rt, jobAdd.parse({ id, poolInfo: { poolId } }));
  const bodies = Array.from({ length: n }, (_, i) => taskAdd.parse({ id: `t${String(i).padStart(3, '0')}`, commandLine: '/bin/true', requiredSlots: slots }));
  await addTasks(rt, id, bodies);
  return id;
}

describe('group commit of claims', () => {
  it('claims of many nodes arriving together share transactions, and no task is handed out twice', async () => {
    const poolId = uniqueName('pool');
    const jobId = await jobWithTasks(poolId, 40);
    await activeJobsOnPool(rt, poolId); // warm the per-process job list, so only claim traffic is counted
    const before = rt.storage.counter.snapshot().table;
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => claimTasks(rt, { poolId, nodeId: `n${i}`, freeSlots: 4, claimId: `x${i}` })));
    const requests = rt.storage.counter.snapshot().table - before;
    const ids = claims.flat().map((a) => a.taskId);
    expect(ids).toHaveLength(32);
    expect(new Set(ids).size).toBe(32);
    for (const got of claims) expect(got).toHaveLength(4);
    // FIFO within each bucket (a bucket's tasks were added in id order): what was taken of a
    // bucket is the start of its queue; and across buckets at most one was taken in part.
    const all = Array.from({ length: 40 }, (_, i) => `t${String(i).padStart(3, '0')}`);
    let partial = 0;
    for (const [bucket, ofBucket] of byBucket(all, (id) => id)) {
      const taken = ofBucket.filter((id) => ids.includes(id));
      expect(taken, `bucket ${bucket}`).toEqual(ofBucket.slice(0, taken.length));
      if (taken.length > 0 && taken.length < ofBucket.length) partial++;
    }
    expect(partial).toBeLessThanOrEqual(1);
    // One read per bucket queue (shared by the 8 claims), then per bucket the leading claim's
    // transaction and one for the claims that queued behind it (each after a first read of its
    // counter shard): at most 4 requests per bucket, not 8 transactions per bucket.
    expect(requests).toBeLessThanOrEqual(TASK_BUCKETS + 4 * TASK_BUCKETS);
    const counts = await rt.tasks.counts(jobId);
    expect(counts).toMatchObject({ active: 8, running: 32, activeSlots: 8, runningSlots: 32 });
  });

  it('a waiter is never given more slots than it offered, and leftover work stays queued', async () => {
    const poolId = uniqueName('pool');
    const jobId = await jobWithTasks(poolId, 6, 2);
    const claims = await Promise.all([1, 2, 3, 4].map((free, i) => claimTasks(rt, { poolId, nodeId: `n${i}`, freeSlots: free, claimId: `y${i}` })));
    expect(claims.map((c) => c.reduce((n, a) => n + a.requiredSlots, 0))).toEqual([0, 2, 2, 4]);
    const counts = await rt.tasks.counts(jobId);
    expect(counts).toMatchObject({ active: 2, running: 4 });
  });
});

describe('adds spread over buckets', () => {
  it('eight concurrent addtaskcollection calls of 100 tasks on one job all succeed, and the counts are exact', async () => {
    const poolId = uniqueName('pool');
    const id = uniqueName('job');
    await addJob(rt, jobAdd.parse({ id, poolInfo: { poolId } }));
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, c) => addTasks(rt, id, Array.from({ length: 100 }, (_, i) => taskAdd.parse({ id: `c${c}-${String(i).padStart(3, '0')}`, commandLine: '/bin/true' })))),
    );
    expect(results.flat().filter((r) => r.status !== 'success')).toEqual([]);
    expect(await rt.tasks.counts(id)).toMatchObject({ active: 800, activeSlots: 800, running: 0 });
    // Every bucket holds its share, each task in the bucket of its id.
    const rows = await rt.storage.tables.tasks.all(`${jobPartitionsFilter(id)} and RowKey gt '!~'`, ['PartitionKey', 'RowKey']);
    expect(rows).toHaveLength(800);
    for (const { row } of rows) expect(row.partitionKey).toBe(taskPartition(id, bucketOf(row.rowKey)));
    expect(new Set(rows.map((r) => r.row.partitionKey)).size).toBe(TASK_BUCKETS);
  });

  it('concurrent adds share the transactions of a bucket (group commit)', async () => {
    const id = uniqueName('job');
    await addJob(rt, jobAdd.parse({ id, poolInfo: { poolId: uniqueName('pool') } }));
    const before = rt.storage.counter.snapshot().table;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, c) => addTasks(rt, id, Array.from({ length: 40 }, (_, i) => taskAdd.parse({ id: `g${c}-${String(i).padStart(2, '0')}`, commandLine: '/bin/true' })))),
    );
    const requests = rt.storage.counter.snapshot().table - before;
    expect(results.flat().filter((r) => r.status !== 'success')).toEqual([]);
    // 320 tasks, ~40 per bucket: the first call's group leads each bucket, the seven others queue
    // behind it and share the next transaction (each with a counter read): far below 8 per bucket.
    expect(requests).toBeLessThanOrEqual(1 + 5 * TASK_BUCKETS);
    expect(await rt.tasks.counts(id)).toMatchObject({ active: 320, activeSlots: 320 });
    const rows = await rt.storage.tables.tasks.all(`${jobPartitionsFilter(id)} and RowKey gt '!~'`, ['PartitionKey', 'RowKey']);
    expect(rows).toHaveLength(320);
  });

  it('the same new id in two concurrent adds: one call adds it, the other gets TaskExists', async () => {
    const id = uniqueName('job');
    await addJob(rt, jobAdd.parse({ id, poolInfo: { poolId: uniqueName('pool') } }));
    const body = (t: string) => taskAdd.parse({ id: t, commandLine: '/bin/true' });
    const [a, b, c] = await Promise.all([addTasks(rt, id, [body('lead')]), addTasks(rt, id, [body('same'), body('x1')]), addTasks(rt, id, [body('same'), body('x2')])]);
    expect(a[0]!.status).toBe('success');
    expect([b[0]!.status, c[0]!.status].sort()).toEqual(['clientError', 'success']);
    expect([b[0]!, c[0]!].find((r) => r.status === 'clientError')!.error?.code).toBe('TaskExists');
    expect([b[1]!.status, c[1]!.status]).toEqual(['success', 'success']);
    expect(await rt.tasks.counts(id)).toMatchObject({ active: 4 });
  });

  it('a duplicate id in one bucket is reported as TaskExists and the rest of every bucket is added', async () => {
    const poolId = uniqueName('pool');
    const id = await jobWithTasks(poolId, 3);
    const again = await addTasks(rt, id, ['t001', 'n1', 'n2', 'n3', 'n4'].map((t) => taskAdd.parse({ id: t, commandLine: '/bin/true' })));
    expect(again.map((r) => [r.taskId, r.status, r.error?.code])).toEqual([['t001', 'clientError', 'TaskExists'], ['n1', 'success', undefined], ['n2', 'success', undefined], ['n3', 'success', undefined], ['n4', 'success', undefined]]);
    expect(await rt.tasks.counts(id)).toMatchObject({ active: 7 });
  });
});

describe('task counts cache', () => {
  it('commits that land while the counts are being read are neither lost nor counted twice', async () => {
    const poolId = uniqueName('pool');
    const jobId = await jobWithTasks(poolId, 40);
    await new Promise((r) => setTimeout(r, COUNTS_TTL_MS + 50)); // the add's figures age out of the cache
    const during = taskCounts(rt, jobId);
    const claims = await Promise.all([0, 1, 2].map((i) => claimTasks(rt, { poolId, nodeId: `c${i}`, freeSlots: 3, claimId: `w${i}` })));
    await during;
    expect(claims.flat()).toHaveLength(9);
    expect(await taskCounts(rt, jobId)).toMatchObject({ active: 31, running: 9, activeSlots: 31, runningSlots: 9 });
    expect(await rt.tasks.counts(jobId)).toMatchObject({ active: 31, running: 9 });
  });

  it('follows this process’s own commits at once and serves repeated reads without storage requests', async () => {
    const poolId = uniqueName('pool');
    const jobId = await jobWithTasks(poolId, 10);
    expect(await taskCounts(rt, jobId)).toMatchObject({ active: 10, running: 0 });
    await claimTasks(rt, { poolId, nodeId: 'n0', freeSlots: 3, claimId: 'z0' });
    expect(await taskCounts(rt, jobId)).toMatchObject({ active: 7, running: 3 });
    const before = rt.storage.counter.snapshot().table;
    const reads = await Promise.all(Array.from({ length: 10 }, () => taskCounts(rt, jobId)));
    // Each call still checks that the job exists (one point read); the counts come from the cache.
    expect(rt.storage.counter.snapshot().table - before).toBe(10);
    for (const r of reads) expect(r).toMatchObject({ active: 7, running: 3 });
  });
});
