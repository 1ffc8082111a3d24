/**
 * Autoscale metric samples of a pool (pure). One sample per pool per sampling period (Azure: 30 s),
 * timed at the start of its period, holding:
 *
 * - task metrics over the jobs of the pool that have not completed: $ActiveTasks, $RunningTasks,
 *   $PendingTasks (= active + running) and the slot-aware $ActiveSlots, $RunningSlots, $PendingSlots;
 * - $SucceededTasks / $FailedTasks: tasks that finished in the period (the increase of each job's
 *   counters since the previous sample; a job created after it counts from zero). The seed only says
 *   "the number of tasks that finished successfully"; a per-sample count is what "a sample is 30
 *   seconds worth of metrics data" implies. Without a previous sample within two periods these two
 *   are missing from the sample (unknown), never guessed;
 * - node metrics: $CurrentDedicatedNodes, $CurrentLowPriorityNodes, $PreemptedNodeCount, $TaskSlotsPerNode;
 * - usage metrics averaged over the nodes whose agent reported usage recently ($SampleNodeCount is
 *   their number): $CPUPercent (0–100), $MemoryBytes, $DiskBytes, $DiskReadBytes, $DiskWriteBytes,
 *   $DiskReadOps, $DiskWriteOps, $NetworkInBytes, $NetworkOutBytes. With no report, those are missing.
 *   $WallClockSeconds is not measured (always missing).
 */
import type { Sample } from './autoscale';
import type { NodeRecord, TaskCounts } from './model';
import type { NodeUsage } from '../nodes/protocol';

/** Samples are kept this long per pool (a formula can look back at most one day). */
export const SAMPLE_RETENTION_MS = 24 * 3600 * 1000;

const USAGE_METRICS: readonly [string, keyof NodeUsage][] = [
  ['CPUPercent', 'cpuPercent'], ['MemoryBytes', 'memoryBytes'], ['DiskBytes', 'diskBytes'],
  ['DiskReadBytes', 'diskReadBytes'], ['DiskWriteBytes', 'diskWriteBytes'], ['DiskReadOps', 'diskReadOps'],
  ['DiskWriteOps', 'diskWriteOps'], ['NetworkInBytes', 'networkInBytes'], ['NetworkOutBytes', 'networkOutBytes'],
];

export const METRIC_NAMES: readonly string[] = [
  'ActiveTasks', 'RunningTasks', 'PendingTasks', 'SucceededTasks', 'FailedTasks', 'ActiveSlots', 'RunningSlots', 'PendingSlots',
  'CurrentDedicatedNodes', 'CurrentLowPriorityNodes', 'PreemptedNodeCount', 'TaskSlotsPerNode', 'SampleNodeCount',
  ...USAGE_METRICS.map(([name]) => name),
];

export interface MetricSample {
  poolId: string;
  /** Start of the sampling period (ms since the epoch). */
  time: number;
  values: Record<string, number>;
  /** Succeeded and failed counters per job at sampling time (the baseline of the next sample). */
  jobTotals: Record<string, [number, number]>;
}

export interface SampleSnapshot {
  poolId: string;
  now: Date;
  periodMs: number;
  taskSlotsPerNode: number;
  nodes: readonly NodeRecord[];
  /** Jobs of the pool: not completed, or completed since the previous sample. */
  jobs: readonly { id: string; creationTime: string; completed: boolean; counts: TaskCounts }[];
  previous?: MetricSample;
  /** A node's usage counts when its agent talked within this long. */
  usageMaxAgeMs: number;
}

/** The start of the sampling period that contains `now`. */
export function samplePeriodStart(now: Date, periodMs: number): number {
  return Math.floor(now.getTime() / periodMs) * periodMs;
}

export function buildSample(s: SampleSnapshot): MetricSample {
  const time = samplePeriodStart(s.now, s.periodMs);
  const v: Record<string, number> = {};
  const open = s.jobs.filter((j) => !j.completed);
  const sum = (k: keyof TaskCounts): number => open.reduce((n, j) => n + j.counts[k], 0);
  v.ActiveTasks = sum('active');
  v.RunningTasks = sum('running');
  v.PendingTasks = v.ActiveTasks + v.RunningTasks;
  v.ActiveSlots = sum('activeSlots');
  v.RunningSlots = sum('runningSlots');
  v.PendingSlots = v.ActiveSlots + v.RunningSlots;
  const jobTotals: Record<string, [number, number]> = {};
  for (const j of s.jobs) jobTotals[j.id] = [j.counts.succeeded, j.counts.failed];
  const prev = s.previous && s.previous.time < time && time - s.previous.time <= 2 * s.periodMs ? s.previous : undefined;
  if (prev) {
    let ok = 0;
    let failed = 0;
    for (const j of s.jobs) {
      const base = prev.jobTotals[j.id] ?? (Date.parse(j.creationTime) >= prev.time ? [0, 0] : undefined);
      if (!base) continue;
      ok += Math.max(0, j.counts.succeeded - base[0]);
      failed += Math.max(0, j.counts.failed - base[1]);
    }
    v.SucceededTasks = ok;
    v.FailedTasks = failed;
  }
  v.CurrentDedicatedNodes = s.nodes.filter((n) => n.isDedicated).length;
  v.CurrentLowPriorityNodes = s.nodes.filter((n) => !n.isDedicated).length;
  v.PreemptedNodeCount = s.nodes.filter((n) => n.state === 'preempted').length;
  v.TaskSlotsPerNode = s.taskSlotsPerNode;
  const fresh = s.nodes.filter((n) => n.usage && n.lastSeen && s.now.getTime() - Date.parse(n.lastSeen) <= s.usageMaxAgeMs);
  v.SampleNodeCount = fresh.length;
  for (const [name, field] of USAGE_METRICS) {
    const values = fresh.map((n) => n.usage?.[field]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    if (values.length) v[name] = values.reduce((a, b) => a + b, 0) / values.length;
  }
  return { poolId: s.poolId, time, values: v, jobTotals };
}

/** Samples (any order) → the evaluator's per-metric series. A metric missing from a sample is a missing sample. */
export function seriesOf(samples: readonly MetricSample[]): Record<string, Sample[]> {
  const out: Record<string, Sample[]> = {};
  for (const s of samples) {
    for (const [name, value] of Object.entries(s.values)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      (out[name] ??= []).push({ time: new Date(s.time), value });
    }
  }
  return out;
}
