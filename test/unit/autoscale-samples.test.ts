import { describe, expect, it } from 'vitest';
import type { AutoscaleInputs, Sample } from '../../shared/domain/autoscale';
import { evaluateText } from '../../shared/domain/autoscale';

const NOW = Date.parse('2016-10-13T19:20:00.000Z');
const SEC = 1000;

/** One sample every 30 s at now − k·30 s for k in [from, to], values from `value(k)`. */
function series(from: number, to: number, value: (k: number) => number = () => 1): Sample[] {
  const out: Sample[] = [];
  for (let k = from; k <= to; k += 1) out.push({ time: new Date(NOW - k * 30 * SEC), value: value(k) });
  return out;
}

function inputs(samples: Record<string, Sample[]>): AutoscaleInputs {
  return {
    now: new Date(NOW),
    random: () => 0,
    samples,
    current: { dedicatedNodes: 3, lowPriorityNodes: 1, preemptedNodes: 2, taskSlotsPerNode: 4, targetDedicatedNodes: 3, targetLowPriorityNodes: 1 },
  };
}

function r(expr: string, samples: Record<string, Sample[]>): string {
  const out = evaluateText(`r = ${expr}`, inputs(samples));
  if (out.error) return `error: ${out.error.values[0]?.value}`;
  return /(?:^|;)r=([^;]*)/.exec(out.results)?.[1] ?? out.results;
}

const FULL = { CPUPercent: series(1, 120, (k) => k), RunningTasks: series(1, 120) };
/** "If the last minute of history was not available": the two newest samples are missing. */
const GAP = { CPUPercent: series(3, 120, (k) => k), RunningTasks: series(3, 120) };

describe('GetSample by time window (the seed: 30 s samples, look-back intervals)', () => {
  it.each([
    ['len($CPUPercent.GetSample(TimeInterval_Minute * 10))', FULL, '20'],
    ['len($CPUPercent.GetSample(TimeInterval_Minute * 10))', GAP, '18'],
    ['len($CPUPercent.GetSample(TimeInterval_Minute * 10, 80))', GAP, '18'],
    ['len($CPUPercent.GetSample(TimeInterval_Minute * 5))', FULL, '10'],
    ['$RunningTasks.GetSample(1 * TimeInterval_Minute, 6 * TimeInterval_Minute)', FULL, '[1,1,1,1,1,1,1,1,1,1]'],
    ['$RunningTasks.GetSample(6 * TimeInterval_Minute, 1 * TimeInterval_Minute)', FULL, '[1,1,1,1,1,1,1,1,1,1]'],
    ['$CPUPercent.GetSample(1 * TimeInterval_Minute, 3 * TimeInterval_Minute)', FULL, '[6,5,4,3]'],
    ['$RunningTasks.GetSample(60 * TimeInterval_Second, 120 * TimeInterval_Second, 75)', FULL, '[1,1]'],
    ['$CPUPercent.GetSample(time() + -2 * TimeInterval_Minute)', FULL, '[4,3,2,1]'],
    ['$CPUPercent.GetSample(time("2016-10-13T19:17:00Z"), time("2016-10-13T19:18:00Z"))', FULL, '[6,5]'],
    ['$CPUPercent.GetSample(time("2016-10-13T19:17:00Z"), TimeInterval_Minute * 2, 100)', FULL, '[6,5]'],
    ['$CPUPercent.GetSample(TimeInterval_Zero)', FULL, '[]'],
    ['$CPUPercent.GetSample(TimeInterval_Minute)', {}, '[]'],
  ])('%s (case %#)', (expr, samples, want) => {
    expect(r(expr, samples)).toBe(want);
  });

  it.each([
    ['$CPUPercent.GetSample(TimeInterval_Minute * 10, 95)', GAP, 'Line 1, Col 17: Insufficient data from data set: $CPUPercent wanted 95%, received 90%'],
    ['$RunningTasks.GetSample(60 * TimeInterval_Second, 120 * TimeInterval_Second, 75)', { RunningTasks: series(4, 10) }, 'Line 1, Col 19: Insufficient data from data set: $RunningTasks wanted 75%, received 50%'],
    ['$CPUPercent.GetSample(TimeInterval_Zero, 1)', FULL, 'Line 1, Col 17: Insufficient data from data set: $CPUPercent wanted 1%, received 0%'],
    ['$CPUPercent.GetSample(TimeInterval_Minute, 101)', FULL, 'Line 1, Col 17: GetSample samplePercent must be between 0 and 100'],
    ['$CPUPercent.GetSample(TimeInterval_Minute, TimeInterval_Second, TimeInterval_Hour)', FULL, 'Line 1, Col 17: GetSample samplePercent must be a double'],
    ['$CPUPercent.GetSample(TimeInterval_Minute, 50, 50)', FULL, 'Line 1, Col 17: GetSample samplePercent must be a double'],
    ['$CPUPercent.GetSample("x")', FULL, 'Line 1, Col 17: A sample time must be a timestamp or timeinterval, not string'],
    ['$CPUPercent.GetSample(TimeInterval_Minute, "x")', FULL, 'Line 1, Col 17: A sample time must be a timestamp or timeinterval, not string'],
    ['$CPUPercent.GetSample(1, 2)', FULL, 'Line 1, Col 17: GetSample expects (count), (start[, samplePercent]) or (start, end[, samplePercent])'],
    ['$CPUPercent.GetSample()', FULL, 'Line 1, Col 17: GetSample expects (count), (start[, samplePercent]) or (start, end[, samplePercent])'],
  ])('%s fails', (expr, samples, want) => {
    expect(r(expr, samples)).toBe(`error: ${want}`);
  });

  it('a failed samplePercent requirement fails the whole evaluation and keeps the pool unchanged', () => {
    const out = evaluateText('$TargetDedicatedNodes = 10; $s = $CPUPercent.GetSample(TimeInterval_Minute * 10, 95)', inputs(GAP));
    expect(out.targetDedicatedNodes).toBe(3);
    expect(out.results).toBe('$TargetDedicatedNodes=3;$TargetLowPriorityNodes=1;$NodeDeallocationOption=requeue');
    expect(out.error?.values).toEqual([{ name: 'Message', value: 'Line 1, Col 46: Insufficient data from data set: $CPUPercent wanted 95%, received 90%' }]);
  });
});

describe('GetSample(count)', () => {
  it.each([
    ['$CPUPercent.GetSample(1)', FULL, '[1]'],
    ['$CPUPercent.GetSample(3)', FULL, '[3,2,1]'],
    ['$CPUPercent.GetSample(2.9)', FULL, '[2,1]'],
    ['$CPUPercent.GetSample(0)', {}, '[]'],
    ['len($CPUPercent.GetSample(120))', FULL, '120'],
  ])('%s (case %#)', (expr, samples, want) => {
    expect(r(expr, samples)).toBe(want);
  });

  it.each([
    ['$ActiveTasks.GetSample(1)', {}, 'Line 1, Col 18: Insufficient data from data set: $ActiveTasks wanted 1, received 0'],
    ['$CPUPercent.GetSample(121)', FULL, 'Line 1, Col 17: Insufficient data from data set: $CPUPercent wanted 121, received 120'],
    ['$CPUPercent.GetSample(-1)', FULL, 'Line 1, Col 17: GetSample count must be a non-negative number'],
    ['$CPUPercent.GetSample(1 / 0)', FULL, 'Line 1, Col 17: GetSample count must be a non-negative number'],
  ])('%s fails', (expr, samples, want) => {
    expect(r(expr, samples)).toBe(`error: ${want}`);
  });
});

describe('GetSamplePercent, GetSamplePeriod, Count, HistoryBeginTime', () => {
  it.each([
    ['$CPUPercent.GetSamplePercent(TimeInterval_Minute * 10)', FULL, '100'],
    ['$CPUPercent.GetSamplePercent(TimeInterval_Minute * 10)', GAP, '90'],
    ['$CPUPercent.GetSamplePercent(TimeInterval_Minute * 10, TimeInterval_Minute)', GAP, '100'],
    ['$CPUPercent.GetSamplePercent(TimeInterval_Minute * 15)', { CPUPercent: series(1, 20) }, '66.6666666666667'],
    ['$CPUPercent.GetSamplePercent(TimeInterval_Minute * 10)', {}, '0'],
    ['$CPUPercent.GetSamplePeriod()', FULL, '00:00:30'],
    ['$CPUPercent.Count()', FULL, '120'],
    ['$CPUPercent.Count()', {}, '0'],
    ['$CPUPercent.HistoryBeginTime()', FULL, '2016-10-13T18:20:00.000Z'],
  ])('%s (case %#)', (expr, samples, want) => {
    expect(r(expr, samples)).toBe(want);
  });

  it.each([
    ['$CPUPercent.HistoryBeginTime()', {}, 'Line 1, Col 17: No samples are available for $CPUPercent'],
    ['$CPUPercent.Count(1)', FULL, 'Line 1, Col 17: Count expects no arguments'],
    ['$CPUPercent.GetSamplePeriod(1)', FULL, 'Line 1, Col 17: GetSamplePeriod expects no arguments'],
    ['$CPUPercent.GetSamplePercent()', FULL, 'Line 1, Col 17: GetSamplePercent expects (start[, end])'],
    ['$CPUPercent.GetSamples(1)', FULL, 'Line 1, Col 17: Undefined method: $CPUPercent.GetSamples'],
  ])('%s fails', (expr, samples, want) => {
    expect(r(expr, samples)).toBe(`error: ${want}`);
  });
});

describe('sample input handling and metric variables', () => {
  it('sorts samples, ignores samples after now and invalid dates', () => {
    const s = [...series(1, 3, (k) => k)].reverse();
    s.push({ time: new Date(NOW + 30 * SEC), value: 99 }, { time: new Date(NaN), value: 98 });
    expect(r('$CPUPercent.GetSample(3)', { CPUPercent: s })).toBe('[3,2,1]');
    expect(r('$CPUPercent.Count()', { CPUPercent: s })).toBe('3');
  });

  it.each([
    'CPUPercent', 'WallClockSeconds', 'MemoryBytes', 'DiskBytes', 'DiskReadBytes', 'DiskWriteBytes', 'DiskReadOps', 'DiskWriteOps',
    'NetworkInBytes', 'NetworkOutBytes', 'SampleNodeCount', 'ActiveTasks', 'RunningTasks', 'PendingTasks', 'SucceededTasks',
    'FailedTasks', 'ActiveSlots', 'RunningSlots', 'PendingSlots',
  ])('$%s is a sampled metric: methods work, direct use and assignment fail', (name) => {
    expect(r(`$${name}.GetSample(2)`, { [name]: series(1, 5, (k) => k * 10) })).toBe('[20,10]');
    expect(r(`$${name} + 1`, {})).toBe(`error: Line 1, Col 5: $${name} is a sampled metric; use one of its methods, e.g. $${name}.GetSample(TimeInterval_Minute * 5)`);
    expect(r(`1; $${name} = 1`, {})).toBe(`error: Line 1, Col 8: Cannot assign to read-only variable $${name}`);
  });

  it.each([
    ['$CurrentDedicatedNodes', '3', 'CurrentDedicatedNodes'],
    ['$CurrentDedicated', '3', 'CurrentDedicatedNodes'],
    ['$CurrentLowPriorityNodes', '1', 'CurrentLowPriorityNodes'],
    ['$PreemptedNodeCount', '2', 'PreemptedNodeCount'],
    ['$TaskSlotsPerNode', '4', 'TaskSlotsPerNode'],
  ])('%s is a read-only double (%s) and also a metric object over samples.%s', (name, value, key) => {
    expect(r(`${name} * 1`, {})).toBe(value);
    expect(r(`${name}.GetSample(1)`, { [key]: series(1, 2, () => 7) })).toBe('[7]');
    expect(r(`1; ${name} = 1`, {})).toBe(`error: Line 1, Col 8: Cannot assign to read-only variable ${name}`);
  });

  it('methods exist only on metric variables', () => {
    expect(r('time().GetSample(1)', FULL)).toBe('error: Line 1, Col 12: Undefined method: GetSample on a value of type timestamp');
    expect(r('$nope.GetSample(1)', FULL)).toBe('error: Line 1, Col 5: Undefined symbol: $nope');
  });
});
