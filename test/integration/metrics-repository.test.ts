import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricSample } from '../../shared/domain/metrics';
import { StorageContext } from '../../shared/storage/context';
import { MetricRepository } from '../../shared/storage/metrics';
import { azuriteConnectionString, uniqueName } from '../support/storage';

const T = Date.parse('2024-04-11T19:00:00.000Z');
const P = 30_000;
let ctx: StorageContext;
let repo: MetricRepository;

const sample = (poolId: string, k: number, values: Record<string, number>, jobTotals: Record<string, [number, number]> = {}): MetricSample => ({ poolId, time: T + k * P, values, jobTotals });

beforeAll(async () => {
  ctx = new StorageContext({ connectionString: azuriteConnectionString(), prefix: uniqueName('m') });
  await ctx.tables.metrics.client.createTable();
  repo = new MetricRepository(ctx.tables.metrics);
});
afterAll(async () => {
  await ctx?.tables.metrics.client.deleteTable();
});

describe('MetricRepository against Azurite', () => {
  it('stores samples per pool and lists them newest first, missing metrics staying missing', async () => {
    for (let k = 0; k < 5; k++) await repo.put(sample('pa', k, k === 2 ? { ActiveTasks: k } : { ActiveTasks: k, CPUPercent: 10 * k, MemoryBytes: 2 ** 33 + k }, { j: [k, 0] }));
    await repo.put(sample('pb', 0, { ActiveTasks: 99 }));
    const latest = await repo.latest('pa');
    expect(latest).toEqual(sample('pa', 4, { ActiveTasks: 4, CPUPercent: 40, MemoryBytes: 2 ** 33 + 4 }, { j: [4, 0] }));
    const all = await repo.range('pa', T, T + 4 * P);
    expect(all.map((s) => s.time)).toEqual([4, 3, 2, 1, 0].map((k) => T + k * P));
    expect(all.find((s) => s.time === T + 2 * P)?.values).toEqual({ ActiveTasks: 2 });
    expect(all[0]?.jobTotals).toEqual({});
    expect(await repo.latest('nobody')).toBeUndefined();
  });

  it('selects a closed time range', async () => {
    const some = await repo.range('pa', T + P, T + 3 * P);
    expect(some.map((s) => s.values.ActiveTasks)).toEqual([3, 2, 1]);
  });

  it('replaces the sample of the same period (idempotent writers)', async () => {
    await repo.put(sample('pa', 4, { ActiveTasks: 40 }));
    expect((await repo.latest('pa'))?.values).toEqual({ ActiveTasks: 40 });
    expect(await repo.range('pa', T, T + 4 * P)).toHaveLength(5);
  });

  it('deletes samples older than a time, then a whole pool, in batches', async () => {
    expect(await repo.deleteBefore('pa', T + 2 * P)).toBe(2);
    expect((await repo.range('pa', 0, T + 10 * P)).map((s) => s.values.ActiveTasks)).toEqual([40, 3, 2]);
    for (let k = 10; k < 160; k++) await repo.put(sample('pa', k, { ActiveTasks: k }));
    expect(await repo.deletePool('pa')).toBe(153);
    expect(await repo.latest('pa')).toBeUndefined();
    expect((await repo.latest('pb'))?.values.ActiveTasks).toBe(99);
  });
});
