import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, buildSample, samplePeriodStart, seriesOf, type MetricSample, type SampleSnapshot } from '../../shared/domain/metrics';
import { zeroCounts, type NodeRecord, type TaskCounts } from '../../shared/domain/model';
import { sampleFromRow, sampleToRow } from '../../shared/storage/metrics';
import { sampleKey, sampleTimeOf } from '../../shared/storage/keys';

const NOW = new Date('2024-04-11T19:00:47.000Z');
const PERIOD = 30_000;
const T = samplePeriodStart(NOW, PERIOD);

const counts = (c: Partial<TaskCounts>): TaskCounts => ({ ...zeroCounts(), ...c });

function node(id: string, o: Partial<NodeRecord> = {}): NodeRecord {
  return {
    id, poolId: 'p', state: 'idle', schedulingState: 'enabled', stateTransitionTime: '', allocationTime: '', ipAddress: '', affinityId: '', vmSize: 'standard_a1_v2',
    isDedicated: true, totalTasksRun: 0, totalTasksSucceeded: 0, runningTasksCount: 0, runningTaskSlotsCount: 0, provider: {}, ...o,
  };
}

function snap(o: Partial<SampleSnapshot> = {}): SampleSnapshot {
  return { poolId: 'p', now: NOW, periodMs: PERIOD, taskSlotsPerNode: 2, nodes: [], jobs: [], usageMaxAgeMs: 60_000, ...o };
}

const prev = (jobTotals: Record<string, [number, number]>, time = T - PERIOD): MetricSample => ({ poolId: 'p', time, values: {}, jobTotals });

describe('buildSample', () => {
  it('is timed at the start of its period', () => {
    expect(buildSample(snap()).time).toBe(Date.parse('2024-04-11T19:00:30.000Z'));
  });

  it('sums task and slot counts over the jobs that have not completed', () => {
    const s = buildSample(snap({
      jobs: [
        { id: 'a', creationTime: '2024-01-01T00:00:00Z', completed: false, counts: counts({ active: 3, running: 2, activeSlots: 6, runningSlots: 2 }) },
        { id: 'b', creationTime: '2024-01-01T00:00:00Z', completed: false, counts: counts({ active: 1, activeSlots: 1 }) },
        { id: 'c', creationTime: '2024-01-01T00:00:00Z', completed: true, counts: counts({ active: 9 }) },
      ],
    }));
    expect(s.values).toMatchObject({ ActiveTasks: 4, RunningTasks: 2, PendingTasks: 6, ActiveSlots: 7, RunningSlots: 2, PendingSlots: 9 });
  });

  it('counts tasks finished in the period from the previous sample, new jobs from zero', () => {
    const s = buildSample(snap({
      previous: prev({ a: [10, 1], c: [4, 0] }),
      jobs: [
        { id: 'a', creationTime: '2024-01-01T00:00:00Z', completed: false, counts: counts({ succeeded: 13, failed: 2 }) },
        { id: 'c', creationTime: '2024-01-01T00:00:00Z', completed: true, counts: counts({ succeeded: 5, failed: 0 }) },
        { id: 'new', creationTime: '2024-04-11T19:00:10Z', completed: false, counts: counts({ succeeded: 2, failed: 1 }) },
        { id: 'unknown-old', creationTime: '2024-01-01T00:00:00Z', completed: false, counts: counts({ succeeded: 50 }) },
      ],
    }));
    expect(s.values).toMatchObject({ SucceededTasks: 6, FailedTasks: 2 });
    expect(s.jobTotals).toEqual({ a: [13, 2], c: [5, 0], new: [2, 1], 'unknown-old': [50, 0] });
  });

  it('leaves succeeded/failed missing without a recent previous sample', () => {
    const jobs = [{ id: 'a', creationTime: '2024-01-01T00:00:00Z', completed: false, counts: counts({ succeeded: 3 }) }];
    expect(buildSample(snap({ jobs })).values.SucceededTasks).toBeUndefined();
    expect(buildSample(snap({ jobs, previous: prev({ a: [1, 0] }, T - 3 * PERIOD) })).values.SucceededTasks).toBeUndefined();
    expect(buildSample(snap({ jobs, previous: prev({ a: [1, 0] }, T) })).values.SucceededTasks).toBeUndefined();
  });

  it('counts nodes and averages the usage of nodes that reported recently', () => {
    const seen = (ago: number): string => new Date(NOW.getTime() - ago).toISOString();
    const s = buildSample(snap({
      nodes: [
        node('n1', { lastSeen: seen(1000), usage: { cpuPercent: 20, memoryBytes: 1000, diskBytes: 50 } }),
        node('n2', { lastSeen: seen(5000), usage: { cpuPercent: 60, memoryBytes: 3000 } }),
        node('n3', { lastSeen: seen(120_000), usage: { cpuPercent: 100, memoryBytes: 9 } }),
        node('n4', { state: 'starting' }),
      ],
    }));
    expect(s.values).toMatchObject({ CurrentDedicatedNodes: 4, CurrentLowPriorityNodes: 0, PreemptedNodeCount: 0, TaskSlotsPerNode: 2, SampleNodeCount: 2, CPUPercent: 40, MemoryBytes: 2000, DiskBytes: 50 });
    expect(s.values.NetworkInBytes).toBeUndefined();
  });

  it('has no usage metrics at all when no node reported', () => {
    const s = buildSample(snap({ nodes: [node('n1')] }));
    expect(s.values.SampleNodeCount).toBe(0);
    expect(s.values.CPUPercent).toBeUndefined();
  });
});

describe('series and rows', () => {
  it('turns samples into per-metric series, skipping missing values', () => {
    const s = seriesOf([
      { poolId: 'p', time: 60_000, values: { ActiveTasks: 2, CPUPercent: 10 }, jobTotals: {} },
      { poolId: 'p', time: 30_000, values: { ActiveTasks: 1 }, jobTotals: {} },
    ]);
    expect(s.ActiveTasks).toEqual([{ time: new Date(60_000), value: 2 }, { time: new Date(30_000), value: 1 }]);
    expect(s.CPUPercent).toEqual([{ time: new Date(60_000), value: 10 }]);
  });

  it('keys sort newest first and round-trip the time', () => {
    expect(sampleKey(T) < sampleKey(T - PERIOD)).toBe(true);
    expect(sampleKey(T)).toHaveLength(13);
    expect(sampleTimeOf(sampleKey(T))).toBe(T);
  });

  it('converts a sample to a row and back (only known metrics, absent stays absent)', () => {
    const s: MetricSample = { poolId: 'p', time: T, values: { ActiveTasks: 3, MemoryBytes: 8_589_934_592, Bogus: 1 }, jobTotals: { j: [1, 2] } };
    const row = sampleToRow(s);
    expect(row).toMatchObject({ partitionKey: 'p', rowKey: sampleKey(T), ActiveTasks: 3, MemoryBytes: 8_589_934_592 });
    expect(row.Bogus).toBeUndefined();
    expect(sampleFromRow(row)).toEqual({ poolId: 'p', time: T, values: { ActiveTasks: 3, MemoryBytes: 8_589_934_592 }, jobTotals: { j: [1, 2] } });
    expect(METRIC_NAMES).toContain('PendingSlots');
  });
});
