import { describe, expect, it } from 'vitest';
import { addCounts, STAT_COUNTS, zeroCounts } from '../../shared/domain/model';
import { coreMsWithin, hourlyUsage, isoDuration, jobStatsJson, poolStatsJson, resourceStats, runStatsDelta, taskRunStats, type NodeLifetime } from '../../shared/domain/stats';
import { decodeClaim, encodeClaim, waits } from '../../shared/services/claims';
import { moveDelta, sumDeltas } from '../../shared/services/taskflow';
import { lifetimeFromRow, lifetimeToRow } from '../../shared/storage/usage';

const GIB = 2 ** 30;
const H = 3_600_000;
const T = Date.parse('2026-03-01T10:00:00.000Z');

describe('isoDuration', () => {
  it.each([
    [0, 'PT0S'], [1, 'PT0.001S'], [1500, 'PT1.5S'], [60_000, 'PT60S'], [3_723_456, 'PT3723.456S'], [-5, 'PT0S'], [Number.NaN, 'PT0S'], [0.4, 'PT0S'], [2.6, 'PT0.003S'],
  ])('%s ms → %s', (ms, iso) => expect(isoDuration(ms)).toBe(iso));
});

const run = { startTime: '2026-03-01T10:00:00.000Z', endTime: '2026-03-01T10:00:02.250Z', stats: { userCpuMs: 1230, kernelCpuMs: 40, readBytes: 4096, writeBytes: 5 * 2 ** 20, readOps: 12, writeOps: 7 } };

describe('task statistics of a run', () => {
  it('wall clock from the node times, CPU and IO from the process, wait = creation → start', () => {
    expect(taskRunStats(run, { w: 500, q: 1750 })).toEqual({
      wallClockTime: 'PT2.25S', userCPUTime: 'PT1.23S', kernelCPUTime: 'PT0.04S', readIOps: 12, writeIOps: 7, readIOGiB: 4096 / GIB, writeIOGiB: 5 / 1024, waitTime: 'PT1.75S',
    });
  });

  it('a run the agent could not sample still has its wall clock; bad times count zero', () => {
    expect(taskRunStats({ startTime: run.startTime, endTime: run.endTime }, {})).toMatchObject({ wallClockTime: 'PT2.25S', userCPUTime: 'PT0S', readIOps: 0, waitTime: 'PT0S' });
    expect(taskRunStats({ startTime: run.endTime, endTime: run.startTime }, {}).wallClockTime).toBe('PT0S');
    expect(taskRunStats({ startTime: 'x', endTime: run.endTime }, {}).wallClockTime).toBe('PT0S');
  });
});

describe('job statistics: counter deltas summed over runs', () => {
  it('sums runs, counts a retry only when the run goes back to the queue, wait = Σ queue waits', () => {
    const deltas = [
      sumDeltas(moveDelta('running', 'active', 1, 1), runStatsDelta(run, { w: 100, q: 100 }, true)),
      sumDeltas(moveDelta('running', 'failed', 1, 1), runStatsDelta(run, { w: 40, q: 3000 }, false)),
      sumDeltas(moveDelta('running', 'succeeded', 1, 1), runStatsDelta({ ...run, stats: undefined }, {}, false)),
    ];
    const c = addCounts(addCounts(zeroCounts(), { running: 3, runningSlots: 3 }), sumDeltas(...deltas));
    expect(c).toMatchObject({ active: 1, running: 0, succeeded: 1, failed: 1, retries: 1, waitMs: 140, wallMs: 6750, userCpuMs: 2460, kernelCpuMs: 80, readOps: 24, writeOps: 14, readBytes: 8192, writeBytes: 10 * 2 ** 20 });
    expect(jobStatsJson('u', 's', 'l', c)).toEqual({
      url: 'u', startTime: 's', lastUpdateTime: 'l', userCPUTime: 'PT2.46S', kernelCPUTime: 'PT0.08S', wallClockTime: 'PT6.75S', readIOps: 24, writeIOps: 14,
      readIOGiB: 8192 / GIB, writeIOGiB: 10 / 1024, numSucceededTasks: 1, numFailedTasks: 1, numTaskRetries: 1, waitTime: 'PT0.14S',
    });
  });

  it('the statistics fields are counters like the others (zero, summed, stored as doubles)', () => {
    for (const f of STAT_COUNTS) expect(zeroCounts()[f]).toBe(0);
    const big = addCounts(zeroCounts(), { writeBytes: 3 * 2 ** 40, wallMs: 2 ** 33 });
    expect(addCounts(big, big)).toMatchObject({ writeBytes: 6 * 2 ** 40, wallMs: 2 ** 34 });
  });
});

describe('claim tokens carry the run waits', () => {
  it('wait in queue and since creation, in ms', () => {
    expect(waits('2026-03-01T10:00:05.000Z', { activeSince: '2026-03-01T10:00:04.000Z', creationTime: '2026-03-01T10:00:00.000Z' })).toEqual({ w: 1000, q: 5000 });
    expect(waits('2026-03-01T10:00:05.000Z', { activeSince: '2026-03-01T10:00:04.000Z' })).toEqual({ w: 1000, q: 1000 });
    expect(waits('2026-03-01T10:00:05.000Z', { activeSince: 'garbage' })).toEqual({});
  });

  it('old tokens (without w/q) still decode', () => {
    const old = Buffer.from(JSON.stringify({ c: 'x', r: 0, m: 0, e: 'W/"1"', s: 1, t: 'T' })).toString('base64url');
    expect(decodeClaim(old)).toEqual({ c: 'x', r: 0, m: 0, e: 'W/"1"', s: 1, t: 'T' });
    expect(decodeClaim(encodeClaim({ c: 'x', r: 0, m: 0, e: 'e', s: 1, t: 'T', w: 5, q: 9 }))).toMatchObject({ w: 5, q: 9 });
  });
});

const life = (over: Partial<NodeLifetime>): NodeLifetime => ({ poolId: 'p', nodeId: 'n', vmSize: 'standard_d2s_v3', cores: 2, dedicated: true, start: T, end: T + H, ...over });

describe('pool statistics', () => {
  it('dedicated core time over the pool lifetime; low-priority nodes do not count', () => {
    const s = poolStatsJson({ url: 'u', since: T, now: T + 2 * H, lifetimes: [life({ nodeId: 'a' }), life({ nodeId: 'b', start: T + H, end: T + 2 * H, cores: 4 }), life({ nodeId: 'c', dedicated: false })] });
    expect(s).toMatchObject({ url: 'u', startTime: '2026-03-01T10:00:00.000Z', lastUpdateTime: '2026-03-01T12:00:00.000Z', usageStats: { dedicatedCoreTime: `PT${6 * 3600}S` } });
  });

  it('a lifetime before the pool was created (an earlier pool of the same id) is cut at its creation', () => {
    expect(coreMsWithin(life({ start: T - H, end: T + H }), T, T + 5 * H)).toBe(2 * H);
  });

  it('resource statistics: averages weighted by the time each node covered, peaks, sums', () => {
    const r = resourceStats([
      { cpuPercent: 0, memoryBytes: 0, upMs: 1000, cpuPercentAvg: 10, memoryBytesAvg: GIB, memoryBytesPeak: 2 * GIB, diskBytesAvg: 4 * GIB, diskBytesPeak: 5 * GIB, diskReadBytesTotal: GIB, diskWriteBytesTotal: 2 * GIB, diskReadOpsTotal: 10, diskWriteOpsTotal: 20, networkInBytesTotal: GIB / 2, networkOutBytesTotal: GIB / 4 },
      { cpuPercent: 0, memoryBytes: 0, upMs: 3000, cpuPercentAvg: 50, memoryBytesAvg: 3 * GIB, memoryBytesPeak: 3 * GIB, diskReadOpsTotal: 1 },
      { cpuPercent: 99, memoryBytes: 99 },
    ]);
    expect(r).toEqual({
      avgCPUPercentage: 40, avgMemoryGiB: 2.5, peakMemoryGiB: 3, avgDiskGiB: 4, peakDiskGiB: 5, diskReadIOps: 11, diskWriteIOps: 20,
      diskReadGiB: 1, diskWriteGiB: 2, networkReadGiB: 0.5, networkWriteGiB: 0.25,
    });
    expect(resourceStats([])).toMatchObject({ avgCPUPercentage: 0, peakMemoryGiB: 0, diskReadIOps: 0 });
  });
});

describe('pool usage metrics per hour', () => {
  it('splits lifetimes at hour boundaries, sums nodes of a pool and size, sorts by pool then time', () => {
    const m = hourlyUsage([
      life({ nodeId: 'a', start: T + H / 2, end: T + 2 * H + H / 4 }), // 0.5 h, 1 h, 0.25 h × 2 cores
      life({ nodeId: 'b', start: T + H, end: T + H + H / 2, cores: 1, vmSize: 'STANDARD_D2S_V3' }),
      life({ poolId: 'a-pool', nodeId: 'c', start: T, end: T + H / 10, vmSize: 'standard_a1_v2', cores: 1 }),
    ], T, T + 3 * H);
    expect(m).toEqual([
      { poolId: 'a-pool', startTime: '2026-03-01T10:00:00.000Z', endTime: '2026-03-01T11:00:00.000Z', vmSize: 'standard_a1_v2', totalCoreHours: 0.1 },
      { poolId: 'p', startTime: '2026-03-01T10:00:00.000Z', endTime: '2026-03-01T11:00:00.000Z', vmSize: 'standard_d2s_v3', totalCoreHours: 1 },
      { poolId: 'p', startTime: '2026-03-01T11:00:00.000Z', endTime: '2026-03-01T12:00:00.000Z', vmSize: 'standard_d2s_v3', totalCoreHours: 2.5 },
      { poolId: 'p', startTime: '2026-03-01T12:00:00.000Z', endTime: '2026-03-01T13:00:00.000Z', vmSize: 'standard_d2s_v3', totalCoreHours: 0.5 },
    ]);
  });

  it('reports whole hours that overlap the range, and nothing outside it', () => {
    const l = [life({ start: T, end: T + 3 * H })];
    expect(hourlyUsage(l, T + H + 1, T + H + 2).map((e) => [e.startTime, e.totalCoreHours])).toEqual([['2026-03-01T11:00:00.000Z', 2]]);
    expect(hourlyUsage(l, T + 5 * H, T + 6 * H)).toEqual([]);
  });

  it('usage rows keep what the aggregation needs', () => {
    const l = life({ usage: { cpuPercent: 1, memoryBytes: 2, upMs: 3 } });
    expect(lifetimeFromRow(lifetimeToRow(l))).toEqual(l);
  });

  it('usage rows are keyed by the ids\' keys and keep the ids as given', () => {
    const l = life({ poolId: 'CasePool', nodeId: 'TVMPS_X' });
    const row = lifetimeToRow(l);
    expect([row.partitionKey, row.rowKey]).toEqual(['casepool', 'tvmps_x']);
    expect(lifetimeFromRow(row)).toEqual(l);
    // Rows written before the ids were kept: the keys are the ids.
    const { poolId: _p, nodeId: _n, ...old } = row;
    expect(lifetimeFromRow(old)).toMatchObject({ poolId: 'casepool', nodeId: 'tvmps_x' });
  });
});
