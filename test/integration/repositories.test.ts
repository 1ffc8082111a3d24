import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchEtag } from '../../shared/api/etag';
import type { JobRecord, NodeRecord, PoolRecord } from '../../shared/domain/model';
import { newPool } from '../../shared/domain/pool';
import { QUEUES, StorageContext } from '../../shared/storage/context';
import { StorageError } from '../../shared/storage/errors';
import { JobRepository } from '../../shared/storage/jobs';
import { TABLES } from '../../shared/storage/keys';
import { NodeRepository } from '../../shared/storage/nodes';
import { PoolRepository } from '../../shared/storage/pools';
import type { Page, Stored } from '../../shared/storage/table';
import { azuriteConnectionString, uniqueName } from '../support/storage';

const T = '2024-04-11T19:04:59.032Z';
let ctx: StorageContext;
let pools: PoolRepository;
let nodes: NodeRepository;
let jobs: JobRepository;

beforeAll(async () => {
  ctx = new StorageContext({ connectionString: azuriteConnectionString(), prefix: uniqueName('r') });
  await ctx.ensure();
  pools = new PoolRepository(ctx.tables.pools);
  nodes = new NodeRepository(ctx.tables.nodes);
  jobs = new JobRepository(ctx.tables.jobs);
});
afterAll(async () => {
  if (!ctx) return;
  await Promise.all(TABLES.map((t) => ctx.tables[t].client.deleteTable()));
  await Promise.all(Object.values(QUEUES).map((q) => ctx.queue(q).deleteIfExists()));
});

function pool(id: string, extra: Partial<PoolRecord> = {}): PoolRecord {
  return {
    ...newPool({
      id, vmSize: 'Standard_D2s_v3', displayName: 'Pööl ✓', virtualMachineConfiguration: { imageReference: { publisher: 'canonical' }, nodeAgentSKUId: 'batch.node.ubuntu 22.04' },
      resizeTimeout: 'PT15M', targetDedicatedNodes: 2, targetLowPriorityNodes: 0, enableAutoScale: false, enableInterNodeCommunication: false,
      taskSlotsPerNode: 4, taskSchedulingPolicy: { nodeFillType: 'pack' }, metadata: [{ name: 'm', value: 'v' }],
    }, new Date(T)),
    ...extra,
  };
}

function node(poolId: string, id: string, extra: Partial<NodeRecord> = {}): NodeRecord {
  return {
    id, poolId, state: 'idle', schedulingState: 'enabled', stateTransitionTime: T, allocationTime: T, ipAddress: '127.0.0.1', affinityId: `TVM:${id}`,
    vmSize: 'standard_d2s_v3', isDedicated: true, totalTasksRun: 0, totalTasksSucceeded: 0, runningTasksCount: 0, runningTaskSlotsCount: 0,
    provider: { pid: 1234, root: '/tmp/n' }, ...extra,
  };
}

function job(id: string, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    id, priority: 0, maxParallelTasks: -1, allowTaskPreemption: false, usesTaskDependencies: false, onAllTasksComplete: 'noaction', onTaskFailure: 'noaction',
    poolInfo: { poolId: 'p1' }, commonEnvironmentSettings: [{ name: 'E', value: 'é' }], metadata: [], state: 'active', stateTransitionTime: T,
    creationTime: T, lastModified: T, executionInfo: { startTime: T, poolId: 'p1' }, ...extra,
  };
}

async function storageErrorOf(p: Promise<unknown>): Promise<StorageError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StorageError) return err;
    throw err;
  }
  throw new Error('expected a StorageError');
}

async function drain<T>(next: (continuation?: string) => Promise<Page<Stored<T>>>): Promise<{ pages: number[]; items: T[] }> {
  const pages: number[] = [];
  const items: T[] = [];
  let continuation: string | undefined;
  do {
    const p = await next(continuation);
    pages.push(p.items.length);
    items.push(...p.items.map((i) => i.value));
    continuation = p.continuation;
  } while (continuation);
  return { pages, items };
}

interface Crud<T> {
  make(id: string): T;
  change(v: T): T;
  insert(v: T): Promise<string>;
  get(v: T): Promise<Stored<T> | undefined>;
  update(v: T, etag: string): Promise<string>;
  remove(v: T, etag?: string): Promise<boolean>;
}

/** The behaviour every repository shares: insert/get/update/delete with ETags. */
function crudSuite<T>(name: string, crud: () => Crud<T>): void {
  describe(`${name}: insert / get / update / delete`, () => {
    it('insert then get returns the same record and ETag', async () => {
      const c = crud();
      const v = c.make(uniqueName('a'));
      const etag = await c.insert(v);
      expect(etag).toMatch(/^W\/"datetime'/);
      expect(batchEtag(etag)).toMatch(/^0x8[0-9A-F]{14}$/);
      expect(await c.get(v)).toEqual({ value: v, etag });
    });

    it('a duplicate insert → StorageError 409 isConflict (EntityAlreadyExists)', async () => {
      const c = crud();
      const v = c.make(uniqueName('d'));
      await c.insert(v);
      const e = await storageErrorOf(c.insert(c.change(v)));
      expect([e.status, e.isConflict, e.code]).toEqual([409, true, 'EntityAlreadyExists']);
      expect((await c.get(v))!.value).toEqual(v);
    });

    it('get of a missing row → undefined', async () => {
      const c = crud();
      expect(await c.get(c.make(uniqueName('m')))).toBeUndefined();
    });

    it('update with the current ETag writes and returns a new ETag; a stale one → 412', async () => {
      const c = crud();
      const v = c.make(uniqueName('u'));
      const e1 = await c.insert(v);
      const changed = c.change(v);
      const e2 = await c.update(changed, e1);
      expect(e2).not.toBe(e1);
      expect(batchEtag(e2)).not.toBe(batchEtag(e1));
      const e = await storageErrorOf(c.update(c.change(changed), e1));
      expect([e.status, e.isPreconditionFailed, e.code]).toEqual([412, true, 'UpdateConditionNotSatisfied']);
      expect(await c.get(v)).toEqual({ value: changed, etag: e2 });
    });

    it('update of a missing row → 404 isNotFound', async () => {
      const c = crud();
      const e = await storageErrorOf(c.update(c.make(uniqueName('n')), '*'));
      expect([e.status, e.isNotFound]).toEqual([404, true]);
    });

    it('delete: a stale ETag → 412, the current one → true, again → false', async () => {
      const c = crud();
      const v = c.make(uniqueName('x'));
      const e1 = await c.insert(v);
      const e2 = await c.update(c.change(v), e1);
      expect((await storageErrorOf(c.remove(v, e1))).status).toBe(412);
      expect(await c.remove(v, e2)).toBe(true);
      expect(await c.get(v)).toBeUndefined();
      expect(await c.remove(v)).toBe(false);
    });
  });
}

crudSuite<PoolRecord>('PoolRepository', () => ({
  make: (id) => pool(id),
  change: (p) => ({ ...p, allocationState: 'steady', currentDedicatedNodes: p.currentDedicatedNodes + 1 }),
  insert: (p) => pools.insert(p),
  get: (p) => pools.get(p.id),
  update: (p, etag) => pools.update(p, etag),
  remove: (p, etag) => pools.delete(p.id, etag),
}));

const NODE_POOL = 'crudpool';
crudSuite<NodeRecord>('NodeRepository', () => ({
  make: (id) => node(NODE_POOL, id),
  change: (n) => ({ ...n, state: 'running', runningTasksCount: n.runningTasksCount + 1 }),
  insert: (n) => nodes.insert(n),
  get: (n) => nodes.get(n.poolId, n.id),
  update: (n, etag) => nodes.update(n, etag),
  remove: (n, etag) => nodes.delete(n.poolId, n.id, etag),
}));

crudSuite<JobRecord>('JobRepository', () => ({
  make: (id) => job(id),
  change: (j) => ({ ...j, priority: j.priority + 1, state: 'terminating' }),
  insert: (j) => jobs.insert(j),
  get: (j) => jobs.get(j.id),
  update: (j, etag) => jobs.update(j, etag),
  remove: (j, etag) => jobs.delete(j.id, etag),
}));

describe('lists with a table filter and paging', () => {
  it('PoolRepository.list: filter on state / lower-cased vmSize, pages of 2 with continuations', async () => {
    const tag = uniqueName('lp');
    const range = `RowKey ge '${tag}' and RowKey lt '${tag}~'`;
    const made = [
      pool(`${tag}-1`), pool(`${tag}-2`, { state: 'deleting' }), pool(`${tag}-3`, { vmSize: 'STANDARD_A1' }), pool(`${tag}-4`), pool(`${tag}-5`), pool(`${tag}-6`, { state: 'deleting' }),
    ];
    for (const p of made) await pools.insert(p);
    const active = await drain((c) => pools.list(`${range} and state eq 'active'`, 2, c));
    expect(active.items.map((p) => p.id)).toEqual([1, 3, 4, 5].map((i) => `${tag}-${i}`));
    expect(active.pages.every((n) => n <= 2)).toBe(true);
    expect(active.pages.length).toBeGreaterThanOrEqual(2);
    expect((await pools.list(`${range} and vmSize eq 'standard_a1'`, 10)).items.map((i) => i.value)).toEqual([made[2]]);
    const everything = await drain((c) => pools.list(range, 4, c));
    expect(everything.items).toEqual(made);
    expect((await pools.all()).filter((s) => s.value.id.startsWith(tag)).map((s) => s.value)).toEqual(made);
  });

  it('NodeRepository: partition per pool, page with a filter, listByPool and all()', async () => {
    const [pa, pb] = [uniqueName('pa'), uniqueName('pb')];
    const inA = ['n1', 'n2', 'n3', 'n4', 'n5'].map((id, i) => node(pa, id, { state: i % 2 ? 'running' : 'idle' }));
    const inB = [node(pb, 'n1'), node(pb, 'n9', { state: 'unusable' })];
    for (const n of [...inA, ...inB]) await nodes.insert(n);
    const idle = await drain((c) => nodes.page(pa, "state eq 'idle'", 2, c));
    expect(idle.items).toEqual([inA[0], inA[2], inA[4]]);
    expect(idle.pages.every((n) => n <= 2)).toBe(true);
    expect((await drain((c) => nodes.page(pa, undefined, 2, c))).items).toEqual(inA);
    expect((await nodes.listByPool(pb)).map((s) => s.value)).toEqual(inB);
    expect((await nodes.get(pb, 'n1'))!.value).toEqual(inB[0]);
    const all = (await nodes.all()).map((s) => s.value).filter((n) => n.poolId === pa || n.poolId === pb);
    expect(all).toEqual([...inA, ...inB]);
  });

  it('JobRepository: list by priority, activeOnPool, onPool and all', async () => {
    const tag = uniqueName('lj');
    const poolId = uniqueName('jp');
    const range = `RowKey ge '${tag}' and RowKey lt '${tag}~'`;
    const made = [
      job(`${tag}-1`, { priority: 5, poolInfo: { poolId } }),
      job(`${tag}-2`, { priority: 50, poolInfo: { poolId } }),
      job(`${tag}-3`, { priority: 500, state: 'completed', poolInfo: { poolId } }),
      job(`${tag}-4`, { priority: -5, poolInfo: {} }),
      job(`${tag}-5`, { priority: 11, poolInfo: { poolId: 'elsewhere' } }),
    ];
    for (const j of made) await jobs.insert(j);
    const high = await drain((c) => jobs.list(`${range} and priority gt 10`, 1, c));
    expect(high.items.map((j) => j.id)).toEqual([2, 3, 5].map((i) => `${tag}-${i}`));
    expect(high.pages.length).toBeGreaterThanOrEqual(3);
    expect((await jobs.activeOnPool(poolId)).map((s) => s.value)).toEqual([made[0], made[1]]);
    expect((await jobs.onPool(poolId)).map((s) => s.value.id).sort()).toEqual([1, 2, 3].map((i) => `${tag}-${i}`));
    expect((await jobs.all()).map((s) => s.value.id)).toEqual(expect.arrayContaining(made.map((j) => j.id)));
    expect((await jobs.list(`${range} and poolId eq ''`, 10)).items.map((s) => s.value)).toEqual([made[3]]);
  });
});
