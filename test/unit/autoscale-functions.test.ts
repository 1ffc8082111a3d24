import { describe, expect, it } from 'vitest';
import type { AutoscaleInputs } from '../../shared/domain/autoscale';
import { evaluateText, formatDouble } from '../../shared/domain/autoscale';
import { parseDateTime } from '../../shared/domain/autoscale/time';

const inputs: AutoscaleInputs = {
  now: new Date('2016-10-13T19:18:47.805Z'),
  random: () => 0.625,
  samples: {},
  current: { dedicatedNodes: 3, lowPriorityNodes: 0, preemptedNodes: 0, taskSlotsPerNode: 1, targetDedicatedNodes: 2, targetLowPriorityNodes: 0 },
};

function run(formula: string): string {
  const out = evaluateText(formula, inputs);
  if (out.error) return `error: ${out.error.values[0]?.value}`;
  return /(?:^|;)r=([^;]*)/.exec(out.results)?.[1] ?? `missing r in ${out.results}`;
}
const r = (expr: string): string => run(`r = ${expr}`);

describe('functions over doubleVecList', () => {
  it.each([
    // the seed: "if v = [1,2,3] … avg(v, 7) is equivalent to avg(1,2,3,7)"
    ['v = [1, 2, 3]; r = avg(v, 7)', '3.25'],
    ['v = [1, 2, 3]; r = avg(v) == avg(1, 2, 3)', '1'],
    ['r = avg(2)', '2'],
    ['r = len([1, 2], 3, [])', '3'],
    ['r = len()', '0'],
    ['r = max(0, [3, -1], 2)', '3'],
    ['r = min(0, [3, -1], 2)', '-1'],
    ['r = norm(3, [4])', '5'],
    ['r = norm()', '0'],
    ['r = range([5, 1, 3])', '4'],
    ['r = std(2, 4, 4, 4, 5, 5, 7, 9)', '2.1380899352994'],
    ['r = std(5)', '0'],
    ['r = sum([1, 2], 3.5)', '6.5'],
    ['r = sum()', '0'],
    ['r = vec(1, [2, 3])', '[1,2,3]'],
    ['r = vec()', '[]'],
    ['r = lg(8)', '3'],
    ['r = lg(vec(8))', '[3]'],
    ['r = lg(2, 4)', '[1,2]'],
    ['r = ln(1)', '0'],
    ['r = ln([1, 1])', '[0,0]'],
    ['r = log(1000)', '3'],
    ['r = log([10, 100])', '[1,2]'],
    ['r = log(0)', '-Infinity'],
    ['r = log(-1)', 'NaN'],
  ])('%s → %s', (formula, want) => {
    expect(run(formula)).toBe(want);
  });

  it.each([
    ['avg()', 'Line 1, Col 5: avg needs at least one value'],
    ['max([])', 'Line 1, Col 5: max needs at least one value'],
    ['min()', 'Line 1, Col 5: min needs at least one value'],
    ['range()', 'Line 1, Col 5: range needs at least one value'],
    ['std()', 'Line 1, Col 5: std needs at least one value'],
    ['avg("x")', 'Line 1, Col 5: Argument 1 of avg must be a double or doubleVec, not string'],
    ['sum(1, time())', 'Line 1, Col 5: Argument 2 of sum must be a double or doubleVec, not timestamp'],
    ['lg()', 'Line 1, Col 5: Function lg expects at least 1 argument, got 0'],
    ['nosuch(1)', 'Line 1, Col 5: Undefined function: nosuch'],
    ['constructor(1)', 'Line 1, Col 5: Undefined function: constructor'],
    ['$x(1)', 'Line 1, Col 5: Undefined function: $x'],
  ])('%s → %s', (expr, want) => {
    expect(r(expr)).toBe(`error: ${want}`);
  });
});

describe('percentile, val, rand, stop, time', () => {
  it.each([
    ['percentile([15, 20, 35, 40, 50], 40)', '20'],
    ['percentile([15, 20, 35, 40, 50], 100)', '50'],
    ['percentile([15, 20, 35, 40, 50], 0)', '15'],
    ['percentile([50, 15, 40, 20, 35], 50)', '35'],
    ['val([4, 5, 6], 0)', '4'],
    ['val([4, 5, 6], 2)', '6'],
    ['val([4, 5, 6], 1.9)', '5'],
    ['rand()', '0.625'],
    ['time()', '2016-10-13T19:18:47.805Z'],
    ['time("")', '2016-10-13T19:18:47.805Z'],
    ['time("Fri, 14 Oct 2016 18:36:43 GMT")', '2016-10-14T18:36:43.000Z'],
    ['time("2016-10-14T18:36:43.282Z")', '2016-10-14T18:36:43.282Z'],
    ['time("2016-10-14T20:36:43+02:00")', '2016-10-14T18:36:43.000Z'],
    ['time("2016")', '2016-01-01T00:00:00.000Z'],
    ['time().year', '2016'],
    ['time().month', '10'],
    ['time().day', '13'],
    ['time().weekday', '4'],
    ['time().hour', '19'],
    ['time().minute', '18'],
    ['time().second', '47'],
    ['time("2016-10-16").weekday', '0'],
    ['time("2016-10-17").weekday', '1'],
    ['time("2016-10-15").weekday', '6'],
  ])('%s = %s', (expr, want) => {
    expect(r(expr)).toBe(want);
  });

  it.each([
    ['percentile([], 50)', 'Line 1, Col 5: percentile needs at least one value'],
    ['percentile(5, 50)', 'Line 1, Col 5: Argument 1 of percentile must be a doubleVec, not double'],
    ['percentile([1], 101)', 'Line 1, Col 5: percentile p must be between 0 and 100'],
    ['percentile([1])', 'Line 1, Col 5: Function percentile expects 2 arguments, got 1'],
    ['val([4, 5], 2)', 'Line 1, Col 5: val index 2 is out of range for a vector of length 2'],
    ['val([4, 5], -1)', 'Line 1, Col 5: val index -1 is out of range for a vector of length 2'],
    ['val(4, 0)', 'Line 1, Col 5: Argument 1 of val must be a doubleVec, not double'],
    ['rand(1)', 'Line 1, Col 5: Function rand expects 0 arguments, got 1'],
    ['time(5)', 'Line 1, Col 5: Argument 1 of time must be a string, not double'],
    ['time("yesterday")', 'Line 1, Col 5: time() cannot parse "yesterday" (expected W3C-DTF or RFC 1123)'],
    ['time("a", "b")', 'Line 1, Col 5: Function time expects 0 to 1 arguments, got 2'],
    ['time().millisecond', 'Line 1, Col 12: Undefined member: millisecond (a timestamp has year, month, day, weekday, hour, minute, second)'],
    ['(1).hour', 'Line 1, Col 9: Undefined member: hour on a value of type double'],
    ['stop(1)', 'Line 1, Col 5: Function stop expects 0 arguments, got 1'],
  ])('%s → %s', (expr, want) => {
    expect(r(expr)).toBe(`error: ${want}`);
  });

  it('stop() ends evaluation; earlier assignments stand and later ones never run', () => {
    const out = evaluateText('$TargetDedicatedNodes = 5; a = 1; stop(); $TargetDedicatedNodes = 9; b = $undefined', inputs);
    expect(out.error).toBeUndefined();
    expect(out.results).toBe('$TargetDedicatedNodes=5;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue;a=1');
    expect(out.targetDedicatedNodes).toBe(5);
    expect(evaluateText('a = 0 ? 1 : stop(); a = 2', inputs).results).toBe('$TargetDedicatedNodes=2;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue');
  });
});

describe('time(string): W3C-DTF and RFC 1123', () => {
  it.each([
    ['1997', '1997-01-01T00:00:00.000Z'],
    ['1997-07', '1997-07-01T00:00:00.000Z'],
    ['1997-07-16', '1997-07-16T00:00:00.000Z'],
    ['1997-07-16T19:20+01:00', '1997-07-16T18:20:00.000Z'],
    ['1997-07-16T19:20:30+01:00', '1997-07-16T18:20:30.000Z'],
    ['1997-07-16T19:20:30.45+01:00', '1997-07-16T18:20:30.450Z'],
    ['1997-07-16T19:20:30.45-05:30', '1997-07-17T00:50:30.450Z'],
    ['1997-07-16T19:20:30Z', '1997-07-16T19:20:30.000Z'],
    ['1997-07-16T19:20:30', '1997-07-16T19:20:30.000Z'],
    ['0001-01-01', '0001-01-01T00:00:00.000Z'],
    ['Sun, 06 Nov 1994 08:49:37 GMT', '1994-11-06T08:49:37.000Z'],
    ['06 Nov 1994 08:49:37 GMT', '1994-11-06T08:49:37.000Z'],
    ['Sun, 6 Nov 1994 08:49 UT', '1994-11-06T08:49:00.000Z'],
    ['Sun, 06 Nov 1994 08:49:37 +0200', '1994-11-06T06:49:37.000Z'],
    ['Sun, 06 Nov 1994 08:49:37 EST', '1994-11-06T13:49:37.000Z'],
    ['  Fri, 14 Oct 2016 18:36:43 GMT  ', '2016-10-14T18:36:43.000Z'],
  ])('%j → %s', (text, want) => {
    const ms = parseDateTime(text);
    expect(ms === undefined ? 'undefined' : new Date(ms).toISOString()).toBe(want);
  });

  it.each(['', 'yesterday', '1997-13-01', '1997-02-30', '1997-07-16T25:00Z', '1997-07-16T19:20:30+25:00', 'Mon, 06 Nov 1994 08:49:37 GMT', '06 Foo 1994 08:49:37 GMT', '0000-01-01', '10000-01-01', '1997-7-16'])(
    'rejects %j',
    (text) => {
      expect(parseDateTime(text)).toBeUndefined();
    },
  );
});

describe('doubles print like .NET double.ToString() (G15)', () => {
  it.each([
    [10, '10'], [0, '0'], [-0, '0'], [0.5, '0.5'], [-2.25, '-2.25'], [3 * 1.1, '3.3'], [0.1 + 0.2, '0.3'],
    [1 / 3, '0.333333333333333'], [2 / 3, '0.666666666666667'], [123456789012345, '123456789012345'],
    [1e15, '1E+15'], [1.5e20, '1.5E+20'], [1e-4, '0.0001'], [1e-5, '1E-05'], [1.25e-7, '1.25E-07'],
    [-1e300, '-1E+300'], [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'], [100, '100'], [2.7, '2.7'],
  ])('%d → %s', (x, want) => {
    expect(formatDouble(x)).toBe(want);
  });
});
