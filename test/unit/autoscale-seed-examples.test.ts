/**
 * Every complete formula of the seed's autoscale article (seed-features §4.8 and §2.4), evaluated
 * with fixed samples and a fixed clock, asserting Azure's exact results string. The service
 * variables print under today's names ($TargetDedicatedNodes, $TargetLowPriorityNodes), as in the
 * recordings; the seed's 2017 sample output showed `$TargetDedicated=10;$NodeDeallocationOption=…`.
 */
import { describe, expect, it } from 'vitest';
import type { AutoscaleInputs, CurrentValues, Sample } from '../../shared/domain/autoscale';
import { evaluateText } from '../../shared/domain/autoscale';
import { CPU, EXAMPLE1, EXAMPLE2, EXAMPLE3, EXAMPLE4, INTRO, MONDAY, PENDING, PREEMPTED } from '../support/autoscale-seed-formulas';

const SVC = (td: string, nda = 'requeue', tlp = '0'): string => `$TargetDedicatedNodes=${td};$TargetLowPriorityNodes=${tlp};$NodeDeallocationOption=${nda}`;

/** Samples every 30 s at now − k·30 s, k = from…to. */
function series(now: string, from: number, to: number, value: (k: number) => number): Sample[] {
  const t = Date.parse(now);
  return Array.from({ length: to - from + 1 }, (_, i) => ({ time: new Date(t - (from + i) * 30_000), value: value(from + i) }));
}

function at(now: string, samples: Record<string, Sample[]> = {}, current: Partial<CurrentValues> = {}): AutoscaleInputs {
  return {
    now: new Date(now),
    random: () => 0.5,
    samples,
    current: { dedicatedNodes: 3, lowPriorityNodes: 0, preemptedNodes: 0, taskSlotsPerNode: 1, targetDedicatedNodes: 3, targetLowPriorityNodes: 0, ...current },
  };
}

const THU = '2016-10-13T19:18:47.805Z';

describe('recordings (autoscale_operations)', () => {
  it('evaluates $TargetDedicatedNodes=3 to the recorded results string', () => {
    const out = evaluateText('$TargetDedicatedNodes=3', at(THU, {}, { targetDedicatedNodes: 2 }));
    expect(out).toEqual({ targetDedicatedNodes: 3, targetLowPriorityNodes: 0, nodeDeallocationOption: 'requeue', results: SVC('3') });
  });

  it('reports $something_useless exactly as recorded, keeping the current target 2', () => {
    expect(evaluateText('$something_useless', at(THU, {}, { targetDedicatedNodes: 2 }))).toEqual({
      targetDedicatedNodes: 2,
      targetLowPriorityNodes: 0,
      nodeDeallocationOption: 'requeue',
      results: '$TargetDedicatedNodes=2;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue',
      error: {
        code: 'AutoScalingFormulaEvaluationError',
        message: 'The specified auto-scaling formula has evaluation error',
        values: [{ name: 'Message', value: 'Line 1, Col 1: Undefined symbol: $something_useless' }],
      },
    });
  });
});

const MON10 = '2016-10-17T10:00:00.000Z';
const SAT10 = '2016-10-15T10:00:00.000Z';
const SUN10 = '2016-10-16T10:00:00.000Z';
const EX4_EARLY = '2016-10-14T18:41:43.000Z';
const EX4_LATE = '2016-10-14T20:36:43.000Z';
const T = '2016-10-13T19:20:00.000Z';
const full = (name: string, v: (k: number) => number, to = 120): Record<string, Sample[]> => ({ [name]: series(T, 1, to, v) });

interface Case {
  name: string;
  formula: string;
  inputs: AutoscaleInputs;
  wantResults: string;
  wantTarget: number;
  wantError?: string;
}

const CASES: Case[] = [
  // Intro example [E L2780]
  { name: 'intro, avg 4', formula: INTRO, inputs: at(T, full('ActiveTasks', () => 4)), wantResults: `${SVC('4')};$averageActiveTaskCount=4`, wantTarget: 4 },
  { name: 'intro, avg 3.5 (rounded down when applied)', formula: INTRO, inputs: at(T, full('ActiveTasks', (k) => (k % 2 ? 3 : 4))), wantResults: `${SVC('3.5')};$averageActiveTaskCount=3.5`, wantTarget: 3 },
  { name: 'intro, capped at 10', formula: INTRO, inputs: at(T, full('ActiveTasks', () => 25)), wantResults: `${SVC('10')};$averageActiveTaskCount=25`, wantTarget: 10 },
  { name: 'intro, no samples yet', formula: INTRO, inputs: at(T), wantResults: SVC('3'), wantTarget: 3, wantError: 'Line 1, Col 27: avg needs at least one value' },
  // Generic statement shapes [E L2765, L2771]: placeholders, so evaluation names the first unknown function
  { name: 'generic shape', formula: '$myNewVariable = function($ServiceDefinedVariable, $myCustomVariable);', inputs: at(T), wantResults: SVC('3'), wantTarget: 3, wantError: 'Line 1, Col 18: Undefined function: function' },
  { name: 'generic two statements', formula: '$variable1 = function1($ServiceDefinedVariable);  \n$variable2 = function2($OtherServiceDefinedVariable, $variable1);', inputs: at(T), wantResults: SVC('3'), wantTarget: 3, wantError: 'Line 1, Col 14: Undefined function: function1' },
  // Sample expressions [E L2922–2972]
  { name: 'GetSample(5 min)', formula: 's = $CPUPercent.GetSample(TimeInterval_Minute * 5)', inputs: at(T, full('CPUPercent', () => 0.5)), wantResults: `${SVC('3')};s=[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]`, wantTarget: 3 },
  { name: 'GetSample(10 min): 20 samples', formula: 'n = len($CPUPercent.GetSample(TimeInterval_Minute * 10))', inputs: at(T, full('CPUPercent', () => 1)), wantResults: `${SVC('3')};n=20`, wantTarget: 3 },
  { name: 'GetSample(10 min), last minute missing: 18', formula: 'n = len($CPUPercent.GetSample(TimeInterval_Minute * 10))', inputs: at(T, { CPUPercent: series(T, 3, 120, () => 1) }), wantResults: `${SVC('3')};n=18`, wantTarget: 3 },
  { name: 'GetSample(10 min, 95) fails at 90%', formula: '$CPUPercent.GetSample(TimeInterval_Minute * 10, 95)', inputs: at(T, { CPUPercent: series(T, 3, 120, () => 1) }), wantResults: SVC('3'), wantTarget: 3, wantError: 'Line 1, Col 13: Insufficient data from data set: $CPUPercent wanted 95%, received 90%' },
  { name: 'GetSample(10 min, 80) succeeds at 90%', formula: '$CPUPercent.GetSample(TimeInterval_Minute * 10, 80)', inputs: at(T, { CPUPercent: series(T, 3, 120, () => 1) }), wantResults: SVC('3'), wantTarget: 3 },
  { name: '$runningTasksSample: 10 values', formula: '$runningTasksSample = $RunningTasks.GetSample(1 * TimeInterval_Minute, 6 * TimeInterval_Minute);', inputs: at(T, full('RunningTasks', () => 1)), wantResults: `${SVC('3')};$runningTasksSample=[1,1,1,1,1,1,1,1,1,1]`, wantTarget: 3 },
  { name: '$runningTasksSample with 75%', formula: '$runningTasksSample = $RunningTasks.GetSample(60 * TimeInterval_Second, 120 * TimeInterval_Second, 75);', inputs: at(T, full('RunningTasks', () => 1)), wantResults: `${SVC('3')};$runningTasksSample=[1,1]`, wantTarget: 3 },
  // CPU formula ("Write an autoscale formula") [E L3003–3035]
  { name: 'CPU high: 110%', formula: CPU, inputs: at(T, full('CPUPercent', () => 0.9), { dedicatedNodes: 10 }), wantResults: `${SVC('11')};$totalNodes=11`, wantTarget: 11 },
  { name: 'CPU low: 90%', formula: CPU, inputs: at(T, full('CPUPercent', () => 0.1), { dedicatedNodes: 10 }), wantResults: `${SVC('9')};$totalNodes=9`, wantTarget: 9 },
  { name: 'CPU medium: unchanged', formula: CPU, inputs: at(T, full('CPUPercent', () => 0.5), { dedicatedNodes: 10 }), wantResults: `${SVC('10')};$totalNodes=10`, wantTarget: 10 },
  { name: 'CPU high: 3.3 nodes', formula: CPU, inputs: at(T, full('CPUPercent', () => 0.9)), wantResults: `${SVC('3.3')};$totalNodes=3.3`, wantTarget: 3 },
  { name: 'CPU high: capped at 400', formula: CPU, inputs: at(T, full('CPUPercent', () => 0.9), { dedicatedNodes: 500 }), wantResults: `${SVC('400')};$totalNodes=550`, wantTarget: 400 },
  { name: 'CPU: no samples', formula: CPU, inputs: at(T), wantResults: SVC('3'), wantTarget: 3, wantError: 'Line 2, Col 6: min needs at least one value' },
  // Monday formula [E L3060, L3108]
  { name: 'Monday', formula: MONDAY, inputs: at(MON10), wantResults: SVC('5'), wantTarget: 5 },
  { name: 'Thursday', formula: MONDAY, inputs: at(THU), wantResults: SVC('1'), wantTarget: 1 },
  { name: 'Sunday', formula: MONDAY, inputs: at(SUN10), wantResults: SVC('1'), wantTarget: 1 },
  { name: 'Monday, no semicolon', formula: '$TargetDedicated = (time().weekday == 1 ? 5:1)', inputs: at(MON10), wantResults: SVC('5'), wantTarget: 5 },
  // Trivial enabling formulas [E L3139, L3163]
  { name: '$TargetDedicated = 0', formula: '$TargetDedicated = 0', inputs: at(T), wantResults: SVC('0'), wantTarget: 0 },
  { name: 'rendered {pool.CurrentDedicated}', formula: '$TargetDedicated = 3;', inputs: at(T, {}, { targetDedicatedNodes: 7 }), wantResults: SVC('3'), wantTarget: 3 },
  { name: 'today: $CurrentDedicatedNodes', formula: '$TargetDedicatedNodes = $CurrentDedicatedNodes;', inputs: at(T, {}, { targetDedicatedNodes: 7 }), wantResults: SVC('3'), wantTarget: 3 },
  { name: 'unrendered C# {pool.CurrentDedicated}', formula: '$TargetDedicated = {pool.CurrentDedicated};', inputs: at(T), wantResults: SVC('3'), wantTarget: 3, wantError: "Line 1, Col 20: Unexpected character '{'" },
  // Example 1 [E L3277–3283] and the two sample outputs [E L3227, L3259]
  { name: 'Example 1, seed output 1', formula: EXAMPLE1, inputs: at(THU), wantResults: `${SVC('10')};$curTime=2016-10-13T19:18:47.805Z;$isWeekday=1;$isWorkingWeekdayHour=0;$workHours=0`, wantTarget: 10 },
  { name: 'Example 1, seed output 2', formula: EXAMPLE1, inputs: at('2016-10-14T18:36:43.282Z'), wantResults: `${SVC('10')};$curTime=2016-10-14T18:36:43.282Z;$isWeekday=1;$isWorkingWeekdayHour=0;$workHours=0`, wantTarget: 10 },
  { name: 'Example 1, Monday 10:00', formula: EXAMPLE1, inputs: at(MON10), wantResults: `${SVC('20')};$curTime=2016-10-17T10:00:00.000Z;$isWeekday=1;$isWorkingWeekdayHour=1;$workHours=1`, wantTarget: 20 },
  { name: 'Example 1, Saturday 10:00', formula: EXAMPLE1, inputs: at(SAT10), wantResults: `${SVC('10')};$curTime=2016-10-15T10:00:00.000Z;$isWeekday=0;$isWorkingWeekdayHour=0;$workHours=1`, wantTarget: 10 },
  { name: 'Example 1, Sunday 10:00', formula: EXAMPLE1, inputs: at(SUN10), wantResults: `${SVC('10')};$curTime=2016-10-16T10:00:00.000Z;$isWeekday=0;$isWorkingWeekdayHour=0;$workHours=1`, wantTarget: 10 },
  // Example 2 [E L3291–3306]
  { name: 'Example 2, busy', formula: EXAMPLE2, inputs: at(T, full('ActiveTasks', () => 8)), wantResults: `${SVC('8', 'taskcompletion')};$samples=100;$targetVMs=8;$tasks=8`, wantTarget: 8 },
  { name: 'Example 2, sparse samples use the last one, capped at 20', formula: EXAMPLE2, inputs: at(T, { ActiveTasks: series(T, 1, 5, () => 30) }), wantResults: `${SVC('20', 'taskcompletion')};$samples=16.6666666666667;$targetVMs=30;$tasks=30`, wantTarget: 20 },
  { name: 'Example 2, idle halves the target', formula: EXAMPLE2, inputs: at(T, full('ActiveTasks', () => 0), { targetDedicatedNodes: 6 }), wantResults: `${SVC('3', 'taskcompletion')};$samples=100;$targetVMs=3;$tasks=0`, wantTarget: 3 },
  { name: 'Example 2, no samples at all', formula: EXAMPLE2, inputs: at(T), wantResults: SVC('3'), wantTarget: 3, wantError: 'Line 5, Col 45: Insufficient data from data set: $ActiveTasks wanted 1, received 0' },
  // Example 3 [E L3312–3328]
  { name: 'Example 3, grow', formula: EXAMPLE3, inputs: at(T, full('ActiveTasks', () => 10), { targetDedicatedNodes: 1 }), wantResults: `${SVC('3', 'taskcompletion')};$cores=4;$extraVMs=2.25;$samples=100;$targetVMs=3.25;$tasks=10`, wantTarget: 3 },
  { name: 'Example 3, shrink to 0.75', formula: EXAMPLE3, inputs: at(T, full('ActiveTasks', () => 0), { targetDedicatedNodes: 2 }), wantResults: `${SVC('0.75', 'taskcompletion')};$cores=8;$extraVMs=-1.25;$samples=100;$targetVMs=0.75;$tasks=0`, wantTarget: 0 },
  // Example 4 [E L3345–3356]
  { name: 'Example 4, first 10 minutes', formula: EXAMPLE4, inputs: at(EX4_EARLY, {}, { targetDedicatedNodes: 7 }), wantResults: `${SVC('4')};lifespan=00:05:00;ratio=50;span=01:00:00;startup=00:10:00`, wantTarget: 4 },
  {
    name: 'Example 4, idle for an hour',
    formula: EXAMPLE4,
    inputs: at(EX4_LATE, { RunningTasks: series(EX4_LATE, 1, 120, () => 0), ActiveTasks: series(EX4_LATE, 1, 120, () => 0) }, { targetDedicatedNodes: 7 }),
    wantResults: `${SVC('0')};lifespan=02:00:00;ratio=50;span=01:00:00;startup=00:10:00`,
    wantTarget: 0,
  },
  {
    name: 'Example 4, busy: keeps the 4 assigned by its first statement',
    formula: EXAMPLE4,
    inputs: at(EX4_LATE, { RunningTasks: series(EX4_LATE, 1, 120, (k) => (k === 7 ? 2 : 0)), ActiveTasks: series(EX4_LATE, 1, 120, () => 0) }, { targetDedicatedNodes: 7 }),
    wantResults: `${SVC('4')};lifespan=02:00:00;ratio=50;span=01:00:00;startup=00:10:00`,
    wantTarget: 4,
  },
  {
    name: 'Example 4, under 50% of the samples',
    formula: EXAMPLE4,
    inputs: at(EX4_LATE, { RunningTasks: series(EX4_LATE, 1, 40, () => 0), ActiveTasks: series(EX4_LATE, 1, 120, () => 0) }, { targetDedicatedNodes: 7 }),
    wantResults: SVC('7'),
    wantTarget: 7,
    wantError: 'Line 8, Col 65: Insufficient data from data set: $RunningTasks wanted 50%, received 33%',
  },
];

describe('seed formulas: exact results strings', () => {
  it.each(CASES)('$name', ({ formula, inputs, wantResults, wantTarget, wantError }) => {
    const out = evaluateText(formula, inputs);
    expect(out.error?.values[0]?.value).toBe(wantError);
    expect(out.results).toBe(wantResults);
    expect(out.targetDedicatedNodes).toBe(wantTarget);
  });
});

describe("today's documentation samples (beyond the seed)", () => {
  it('pending tasks formula', () => {
    const formula = PENDING;
    const out = evaluateText(formula, at(T, full('PendingTasks', (k) => k)));
    expect(out.results).toBe(`${SVC('3.5', 'taskcompletion')};maxNumberofVMs=25;pendingTaskSamplePercent=100;pendingTaskSamples=3.5;startingNumberOfVMs=1`);
  });

  it('preempted nodes formula', () => {
    const formula = PREEMPTED;
    const out = evaluateText(formula, at(T, full('PreemptedNodeCount', () => 4)));
    expect(out.results).toBe(`${SVC('4', 'taskcompletion', '21')};maxNumberofVMs=25`);
    expect([out.targetDedicatedNodes, out.targetLowPriorityNodes, out.nodeDeallocationOption]).toEqual([4, 21, 'taskcompletion']);
  });
});
