import { describe, expect, it } from 'vitest';
import type { AutoscaleInputs, BinaryOp, Value, ValueType } from '../../shared/domain/autoscale';
import { evaluateText } from '../../shared/domain/autoscale';
import { applyBinary, applyUnary } from '../../shared/domain/autoscale/operators';

const NOW = new Date('2016-10-13T19:18:47.805Z');
const inputs: AutoscaleInputs = {
  now: NOW,
  random: () => 0.25,
  samples: {},
  current: { dedicatedNodes: 3, lowPriorityNodes: 0, preemptedNodes: 0, taskSlotsPerNode: 1, targetDedicatedNodes: 2, targetLowPriorityNodes: 0 },
};

/** Evaluates `r = <expr>` and returns r's printed value, or the error message. */
function run(expr: string): string {
  const out = evaluateText(`r = ${expr}`, inputs);
  if (out.error) return `error: ${out.error.values[0]?.value}`;
  const m = /;r=(.*)$/.exec(out.results);
  return m?.[1] ?? `missing r in ${out.results}`;
}

const SAMPLE: Record<ValueType, Value> = {
  double: { type: 'double', value: 2 },
  doubleVec: { type: 'doubleVec', value: [1, 2] },
  string: { type: 'string', value: 'b' },
  timestamp: { type: 'timestamp', value: NOW.getTime() },
  timeinterval: { type: 'timeinterval', value: 60_000 },
};
const TYPES = Object.keys(SAMPLE) as ValueType[];
const OPS: BinaryOp[] = ['+', '-', '*', '/', '<', '<=', '==', '>=', '>', '!=', '&&', '||'];
const CMP = ['<', '<=', '==', '>=', '>', '!='];

/** The seed's operations table, verbatim ("double operator double | +, -, *, / | double", …), plus the lost `||`. */
const SEED_TABLE: [ValueType, string[], ValueType, ValueType][] = [
  ['double', ['+', '-', '*', '/'], 'double', 'double'],
  ['double', ['*'], 'timeinterval', 'timeinterval'],
  ['doubleVec', ['+', '-', '*', '/'], 'double', 'doubleVec'],
  ['doubleVec', ['+', '-', '*', '/'], 'doubleVec', 'doubleVec'],
  ['timeinterval', ['*', '/'], 'double', 'timeinterval'],
  ['timeinterval', ['+', '-'], 'timeinterval', 'timeinterval'],
  ['timeinterval', ['+'], 'timestamp', 'timestamp'],
  ['timestamp', ['+'], 'timeinterval', 'timestamp'],
  ['timestamp', ['-'], 'timestamp', 'timeinterval'],
  ['double', CMP, 'double', 'double'],
  ['string', CMP, 'string', 'double'],
  ['timestamp', CMP, 'timestamp', 'double'],
  ['timeinterval', CMP, 'timeinterval', 'double'],
  ['double', ['&&', '||'], 'double', 'double'],
];

function expected(l: ValueType, op: string, r: ValueType): ValueType | 'error' {
  const row = SEED_TABLE.find(([a, ops, b]) => a === l && b === r && ops.includes(op));
  return row ? row[3] : 'error';
}

const fail = (detail: string): never => {
  throw new Error(detail);
};
const matrix = TYPES.flatMap((l) => OPS.flatMap((op) => TYPES.map((r) => [l, op, r, expected(l, op, r)] as const)));

describe('operator matrix: exactly the seed table is allowed', () => {
  it.each(matrix)('%s %s %s → %s', (l, op, r, want) => {
    let got: string;
    try {
      got = applyBinary(op, SAMPLE[l], SAMPLE[r], fail).type;
    } catch (err) {
      got = 'error';
      expect((err as Error).message).toBe(`Operator '${op}' is not supported for operands of type ${l} and ${r}`);
    }
    expect(got).toBe(want);
  });

  it.each(
    TYPES.flatMap((t) =>
      (['-', '!'] as const).map((op) => [op, t, t === 'double' ? 'double' : op === '-' && t === 'timeinterval' ? 'timeinterval' : 'error'] as const),
    ),
  )('unary %s %s → %s', (op, t, want) => {
    let got: string;
    try {
      got = applyUnary(op, SAMPLE[t], fail).type;
    } catch {
      got = 'error';
    }
    expect(got).toBe(want);
  });

  it('covers 5 × 12 × 5 binary combinations, 46 of them allowed', () => {
    expect(matrix).toHaveLength(300);
    expect(matrix.filter((m) => m[3] !== 'error')).toHaveLength(46);
  });
});

describe('operator values (end to end through formulas)', () => {
  it.each([
    ['7 / 2', '3.5'],
    ['1 + 2 * 3 - 4', '3'],
    ['0.1 + 0.2', '0.3'],
    ['1 / 0', 'Infinity'],
    ['-1 / 0', '-Infinity'],
    ['0 / 0', 'NaN'],
    ['[1, 2, 3] + 1', '[2,3,4]'],
    ['[1, 2, 3] - 1', '[0,1,2]'],
    ['[1, 2, 3] * 2', '[2,4,6]'],
    ['[1, 2, 3] / 2', '[0.5,1,1.5]'],
    ['[1, 2, 3] * [2, 2, 2]', '[2,4,6]'],
    ['[4, 6] / [2, 3] + [1, 1] - [0, 1]', '[3,2]'],
    ['2 * TimeInterval_Minute', '00:02:00'],
    ['TimeInterval_Minute * 15', '00:15:00'],
    ['TimeInterval_Hour / 4', '00:15:00'],
    ['TimeInterval_Day + TimeInterval_Hour', '1.01:00:00'],
    ['TimeInterval_Day - TimeInterval_Week', '-6.00:00:00'],
    ['-TimeInterval_Second', '-00:00:01'],
    ['TimeInterval_100ns', '00:00:00.0000001'],
    ['TimeInterval_Millisecond * 1.5', '00:00:00.0015000'],
    ['TimeInterval_Year', '365.00:00:00'],
    ['TimeInterval_Zero', '00:00:00'],
    ['time("2016-10-13T19:18:47.805Z") + TimeInterval_Day', '2016-10-14T19:18:47.805Z'],
    ['TimeInterval_Second + time("2016-10-13T19:18:47.805Z")', '2016-10-13T19:18:48.805Z'],
    ['time("2016-10-14T00:00:00Z") - time("2016-10-13T00:00:00Z")', '1.00:00:00'],
    ['time() - time()', '00:00:00'],
    ['!0', '1'],
    ['!5', '0'],
    ['-(3)', '-3'],
    ['"abc" < "abd"', '1'],
    ['"B" < "a"', '1'],
    ['"b" == "b"', '1'],
    ['"b" != "b"', '0'],
    ['time() > time("2016-01-01")', '1'],
    ['time() == time("2016-10-13T19:18:47.805Z")', '1'],
    ['TimeInterval_Minute <= TimeInterval_Second * 60', '1'],
    ['TimeInterval_Minute < TimeInterval_Second', '0'],
    ['3 > 2 > 1', '0'],
    ['2 >= 2', '1'],
    ['1 && 0', '0'],
    ['2 || 0', '1'],
    ['-1 && 3', '1'],
    ['0 && $undefined', '0'],
    ['1 || $undefined', '1'],
    ['0 ? $undefined : 4', '4'],
    ['0.5 ? 1 : 2', '1'],
  ])('%s = %s', (expr, want) => {
    expect(run(expr)).toBe(want);
  });

  it.each([
    ['"a" + "b"', "Line 1, Col 9: Operator '+' is not supported for operands of type string and string"],
    ['1 + [1, 2]', "Line 1, Col 7: Operator '+' is not supported for operands of type double and doubleVec"],
    ['[1, 2] < 3', "Line 1, Col 12: Operator '<' is not supported for operands of type doubleVec and double"],
    ['[1, 2] - [1, 2, 3]', "Line 1, Col 12: Operator '-' needs vectors of equal length (got 2 and 3)"],
    ['-[1]', "Line 1, Col 5: Operator '-' is not supported for an operand of type doubleVec"],
    ['!"x"', "Line 1, Col 5: Operator '!' is not supported for an operand of type string"],
    ['"x" && 1', "Line 1, Col 9: Operator '&&' is not supported for an operand of type string"],
    ['1 && "x"', "Line 1, Col 7: Operator '&&' is not supported for operands of type double and string"],
    ['TimeInterval_Minute / TimeInterval_Second', "Line 1, Col 25: Operator '/' is not supported for operands of type timeinterval and timeinterval"],
    ['time() + time()', "Line 1, Col 12: Operator '+' is not supported for operands of type timestamp and timestamp"],
    ['"x" ? 1 : 2', "Line 1, Col 5: The condition of '?:' must be a double, not string"],
    ['TimeInterval_Year * 1e10', 'Line 1, Col 23: The timeinterval is out of range'],
    ['time("9999-12-31T12:00:00Z") + TimeInterval_Day', 'Line 1, Col 34: The timestamp is out of range'],
    ['TimeInterval_Minute / 0', 'Line 1, Col 25: The timeinterval is out of range'],
  ])('%s → %s', (expr, want) => {
    expect(run(expr)).toBe(`error: ${want}`);
  });
});
