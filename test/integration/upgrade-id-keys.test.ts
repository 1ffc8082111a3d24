import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config';
import type { NodeRecord } from '../../shared/domain/model';
import { newPool } from '../../shared/domain/pool';
import { createRuntime, type Runtime } from '../../shared/runtime';
import { addJob } from '../../shared/services/jobs';
import { addTasks } from '../../shared/services/tasks';
import { bucketOf, idKey, jobOfPartition, TABLES, TASK_ROWS_FROM, type TableName } from '../../shared/storage/keys';
import { sampleToRow } from '../../shared/storage/metrics';
import { nodeFromRow } from '../../shared/storage/nodes';
import { poolFromRow, poolToRow } from '../../shared/storage/pools';
import { jobFromRow } from '../../shared/storage/jobs';
import type { Row } from '../../shared/storage/table';
import { taskFromRow } from '../../shared/storage/tasks';
import { stored, taskRowUnderIdKeys, upgradeIdKeys } from '../../shared/storage/upgrade-id-keys';
import { lifetimeToRow } from '../../shared/storage/usage';
import { azuriteConnectionString, uniqueName } from '../support/storage';

/**
 * The one-off move to case-insensitive id keys, on rows laid out as the earlier version wrote them:
 * the same rows the services write now, under the ids as given (case-preserving keys).
 */
const T = '2026-12-01T10:00:00.000Z';
let rt: Runtime;

beforeAll(async () => {
  rt = createRuntime(loadConfig({ AzureWebJobsStorage: azuriteConnectionString(), BATCHPLANE_STORAGE_PREFIX: uniqueName('up'), BATCHPLANE_ACCOUNT_NAME: 'acct' }));
  await rt.storage.ensure();
});
afterAll(async () => {
  if (rt) await Promise.all(TABLES.map((t) => rt.storage.tables[t].client.deleteTable()));
});

function node(poolId: string, id: string): NodeRecord {
  return {
    id, poolId, state: 'idle', schedulingState: 'enabled', stateTransitionTime: T, allocationTime: T, ipAddress: '127.0.0.1', affinityId: `TVM:${id}`,
    vmSize: 'standard_d2s_v3', isDedicated: true, totalTasksRun: 0, totalTasksSucceeded: 0, runningTasksCount: 0, runningTaskSlotsCount: 0,
    provider: { pid: 1234, root: '/tmp/n' },
  };
}

function pool(id: string) {
  return newPool({
    id, vmSize: 'standard_d2s_v3', virtualMachineConfiguration: { imageReference: { publisher: 'canonical' }, nodeAgentSKUId: 'batch.node.ubuntu 22.04' },
    resizeTimeout: 'PT15M', targetDedicatedNodes: 0, targetLowPriorityNodes: 0, enableAutoScale: false, enableInterNodeCommunication: false,
    taskSlotsPerNode: 1, taskSchedulingPolicy: { nodeFillType: 'spread' }, metadata: [],
  }, new Date(T));
}

/** The jobs' ids as given, by key: a tasks partition's counters and chunks do not name their job. */
const JOB_IDS = new Map(['LegacyJob', 'HalfJob'].map((id) => [idKey(id), id]));

/** The earlier version's keys of a row the current code wrote. */
function legacy(table: TableName, row: Row): Row {
  switch (table) {
    case 'pools':
      return row.partitionKey === 'pool' && row.rowKey < '~' ? { ...row, rowKey: poolFromRow(row).id } : row;
    case 'jobs': {
      const j = jobFromRow(row);
      return { ...row, rowKey: j.id, poolId: j.poolInfo.poolId ?? '' };
    }
    case 'nodes': {
      const n = nodeFromRow(row);
      return { ...row, partitionKey: n.poolId, rowKey: n.id };
    }
    case 'tasks': {
      const { jobId: _jobId, ...rest } = row;
      const job = JOB_IDS.get(jobOfPartition(row.partitionKey)) ?? jobOfPartition(row.partitionKey);
      const partitionKey = `${job}${row.partitionKey.slice(jobOfPartition(row.partitionKey).length)}`;
      return row.rowKey >= TASK_ROWS_FROM ? { ...rest, partitionKey, rowKey: taskFromRow(row).id } : { ...rest, partitionKey };
    }
    default:
      return row;
  }
}

async function rows(table: TableName): Promise<Row[]> {
  return (await rt.storage.tables[table].all(undefined)).map((r) => stored(r.row));
}

/** Rewrites a table as the earlier version laid it out. */
async function toEarlierLayout(table: TableName): Promise<void> {
  for (const row of await rows(table)) {
    const old = legacy(table, row);
    await rt.storage.tables[table].upsert(old, 'Replace');
    if (old.partitionKey !== row.partitionKey || old.rowKey !== row.rowKey) await rt.storage.tables[table].delete(row.partitionKey, row.rowKey);
  }
}

describe('upgradeIdKeys on Azurite', () => {
  it('moves every row of the earlier layout to its idKey, and the services find it in any case', async () => {
    await rt.pools.insert(pool('LegacyPool'));
    await rt.nodes.insert(node('LegacyPool', 'TVMPS_N1'));
    await addJob(rt, { id: 'LegacyJob', poolInfo: { poolId: 'LegacyPool' } } as never);
    const added = await addTasks(rt, 'LegacyJob', [{ id: 'Task-A', commandLine: '/bin/true' }, { id: 'task-b', commandLine: '/bin/true' }] as never);
    expect(added.map((r) => r.status)).toEqual(['success', 'success']);
    await rt.storage.tables.metrics.upsert({ ...sampleToRow({ poolId: 'LegacyPool', time: Date.parse(T), values: { $CPUPercent: 12.5 }, jobTotals: {} }), partitionKey: 'LegacyPool' });
    const life = { poolId: 'LegacyPool', nodeId: 'TVMPS_N0', vmSize: 'standard_d2s_v3', cores: 2, dedicated: true, start: Date.parse(T), end: Date.parse(T) + 3_600_000 };
    const { poolId: _p, nodeId: _n, ...lifeRow } = lifetimeToRow(life);
    await rt.storage.tables.usage.upsert({ ...lifeRow, partitionKey: 'LegacyPool', rowKey: 'TVMPS_N0' });
    // Two pools whose ids differ only by case, as the earlier version allowed.
    for (const id of ['Twin', 'TWIN']) await rt.storage.tables.pools.create({ ...poolToRow(pool(id)), rowKey: id });
    for (const t of ['pools', 'jobs', 'nodes', 'tasks'] as const) await toEarlierLayout(t);
    const legacyTasks = await rows('tasks');
    expect(legacyTasks.filter((r) => r.partitionKey.startsWith('LegacyJob~')).map((r) => r.rowKey.slice(0, 3)).sort()).toEqual(['!c!', '!c!', '!q!', '!q!', 'Tas', 'tas']);
    expect(await rt.pools.get('LegacyPool')).toBeUndefined(); // the earlier layout is out of reach of the current keys

    await rt.storage.tables.pools.delete('meta', 'id-keys');
    const report = await upgradeIdKeys(rt.storage.tables);
    expect(report?.collisions).toEqual(["pool Twin (its key is TWIN's)"]);
    expect(report?.moved).toEqual({ pools: 2, jobs: 1, nodes: 1, tasks: 6, metrics: 1, usage: 1 });

    expect((await rt.pools.get('legacypool'))?.value.id).toBe('LegacyPool');
    expect((await rt.pools.get('twin'))?.value.id).toBe('TWIN');
    expect((await rt.jobs.get('LEGACYJOB'))?.value.id).toBe('LegacyJob');
    expect((await rt.jobs.activeOnPool('legacyPOOL')).map((j) => j.value.id)).toEqual(['LegacyJob']);
    expect((await rt.nodes.get('LEGACYPOOL', 'tvmps_n1'))?.value.id).toBe('TVMPS_N1');
    const a = await rt.tasks.get('legacyjob', 'TASK-A');
    expect([a?.value.id, a?.value.jobId]).toEqual(['Task-A', 'LegacyJob']);
    expect((await rt.tasks.get('LegacyJob', 'Task-B'))?.value.id).toBe('task-b');
    expect(await rt.tasks.counts('LEGACYJOB')).toMatchObject({ active: 2 });
    const queued = await rt.tasks.chunks('legacyjob', bucketOf('Task-A'), 10);
    expect(queued.flatMap((c) => c.entries.map((e) => e.spec.id))).toContain('Task-A');
    expect((await rt.storage.tables.metrics.all(`PartitionKey eq 'legacypool'`)).length).toBe(1);
    expect((await rt.storage.tables.usage.all(`PartitionKey eq 'legacypool'`)).map((r) => [r.row.rowKey, r.row.poolId, r.row.nodeId])).toEqual([['tvmps_n0', 'LegacyPool', 'TVMPS_N0']]);

    // Nothing is left under an old key but the pool that lost its key to its twin.
    for (const t of TABLES) {
      const left = (await rows(t)).filter((r) => r.partitionKey !== 'meta' && (r.partitionKey !== idKey(r.partitionKey) || r.rowKey !== idKey(r.rowKey)));
      expect(left.map((r) => `${t}:${r.partitionKey}/${r.rowKey}`)).toEqual(t === 'pools' ? ['pools:pool/Twin'] : []);
    }
    // Once per account: the marker makes the next start a single read; a repeated run moves nothing.
    expect(await upgradeIdKeys(rt.storage.tables)).toBeUndefined();
    await rt.storage.tables.pools.delete('meta', 'id-keys');
    expect((await upgradeIdKeys(rt.storage.tables))?.moved).toEqual({ pools: 0, nodes: 0, jobs: 0, tasks: 0, metrics: 0, usage: 0 });
  });

  it('finishes a move that stopped after writing the new rows (copies, never a loss)', async () => {
    await addJob(rt, { id: 'HalfJob', poolInfo: { poolId: 'LegacyPool' } } as never);
    await addTasks(rt, 'HalfJob', [{ id: 'Half-1', commandLine: '/bin/true' }] as never);
    const current = (await rows('tasks')).filter((r) => r.partitionKey.startsWith('halfjob~'));
    // The crash: the old rows are back next to their copies.
    for (const r of current) await rt.storage.tables.tasks.upsert(legacy('tasks', r), 'Replace');
    expect(taskRowUnderIdKeys(legacy('tasks', current.find((r) => r.rowKey >= TASK_ROWS_FROM)!))).toMatchObject({ partitionKey: expect.stringMatching(/^halfjob~/), rowKey: 'half-1', jobId: 'HalfJob' });
    await rt.storage.tables.pools.delete('meta', 'id-keys');
    const report = await upgradeIdKeys(rt.storage.tables);
    expect(report?.moved.tasks).toBe(current.length);
    expect((await rows('tasks')).filter((r) => r.partitionKey.startsWith('HalfJob~'))).toEqual([]);
    expect((await rt.tasks.get('HALFJOB', 'half-1'))?.value.id).toBe('Half-1');
    expect(await rt.tasks.counts('halfjob')).toMatchObject({ active: 1 });
  });
});
