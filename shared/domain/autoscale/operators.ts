/**
 * The seed's operations table, and nothing more:
 *
 *   double ⊕ double (+ - * /) → double         double * timeinterval → timeinterval
 *   doubleVec ⊕ double (+ - * /) → doubleVec   doubleVec ⊕ doubleVec (+ - * /) → doubleVec
 *   timeinterval (* /) double → timeinterval   timeinterval (+ -) timeinterval → timeinterval
 *   timeinterval + timestamp → timestamp       timestamp + timeinterval → timestamp
 *   timestamp - timestamp → timeinterval       -double, !double → double; -timeinterval → timeinterval
 *   double, string, timestamp, timeinterval: (< <= == >= > !=) with the same type → double (1 or 0)
 *   double (&& ||) double → double (evaluated with short-circuit in evaluator.ts)
 *
 * Any other combination is an evaluation error. Vectors combine element-wise and must have equal
 * lengths. Timestamps stay within .NET DateTime's range and timeintervals within TimeSpan's.
 */
import type { BinaryOp, UnaryOp } from './ast';
import { MAX_INTERVAL_MS, MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, bool, dbl, interval, stamp, vec, type Value } from './types';

export type Fail = (detail: string) => never;

type Arith = '+' | '-' | '*' | '/';
const ARITH: ReadonlySet<string> = new Set(['+', '-', '*', '/']);
const COMPARE: ReadonlySet<string> = new Set(['<', '<=', '==', '>=', '>', '!=']);

function arith(op: Arith, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
  }
}

function compare(op: BinaryOp, a: number | string, b: number | string): Value {
  switch (op) {
    case '<':
      return bool(a < b);
    case '<=':
      return bool(a <= b);
    case '>':
      return bool(a > b);
    case '>=':
      return bool(a >= b);
    case '==':
      return bool(a === b);
    default:
      return bool(a !== b);
  }
}

function checkedInterval(ms: number, fail: Fail): Value {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_INTERVAL_MS) fail('The timeinterval is out of range');
  return interval(ms);
}

function checkedStamp(ms: number, fail: Fail): Value {
  if (!(ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS)) fail('The timestamp is out of range');
  return stamp(ms);
}

export function unsupported(op: string, l: Value, r: Value | undefined, fail: Fail): never {
  return fail(
    r === undefined
      ? `Operator '${op}' is not supported for an operand of type ${l.type}`
      : `Operator '${op}' is not supported for operands of type ${l.type} and ${r.type}`,
  );
}

/** Applies a binary operator (including && and || on already-evaluated doubles). */
export function applyBinary(op: BinaryOp, l: Value, r: Value, fail: Fail): Value {
  if (op === '&&' || op === '||') {
    if (l.type !== 'double' || r.type !== 'double') return unsupported(op, l, r, fail);
    return op === '&&' ? bool(l.value !== 0 && r.value !== 0) : bool(l.value !== 0 || r.value !== 0);
  }
  if (COMPARE.has(op)) {
    if (l.type !== r.type || l.type === 'doubleVec') return unsupported(op, l, r, fail);
    return compare(op, l.value as number | string, r.value as number | string);
  }
  const a = op as Arith;
  if (l.type === 'double' && r.type === 'double') return dbl(arith(a, l.value, r.value));
  if (l.type === 'doubleVec' && r.type === 'double') return vec(l.value.map((x) => arith(a, x, r.value)));
  if (l.type === 'doubleVec' && r.type === 'doubleVec') {
    if (l.value.length !== r.value.length) {
      fail(`Operator '${op}' needs vectors of equal length (got ${l.value.length} and ${r.value.length})`);
    }
    const rv = r.value;
    return vec(l.value.map((x, i) => arith(a, x, rv[i] as number)));
  }
  if (op === '*' && l.type === 'double' && r.type === 'timeinterval') return checkedInterval(l.value * r.value, fail);
  if ((op === '*' || op === '/') && l.type === 'timeinterval' && r.type === 'double') {
    return checkedInterval(arith(op, l.value, r.value), fail);
  }
  if ((op === '+' || op === '-') && l.type === 'timeinterval' && r.type === 'timeinterval') {
    return checkedInterval(arith(op, l.value, r.value), fail);
  }
  if (op === '+' && l.type === 'timeinterval' && r.type === 'timestamp') return checkedStamp(l.value + r.value, fail);
  if (op === '+' && l.type === 'timestamp' && r.type === 'timeinterval') return checkedStamp(l.value + r.value, fail);
  if (op === '-' && l.type === 'timestamp' && r.type === 'timestamp') return checkedInterval(l.value - r.value, fail);
  if (!ARITH.has(op)) fail(`Unknown operator '${op}'`);
  return unsupported(op, l, r, fail);
}

export function applyUnary(op: UnaryOp, v: Value, fail: Fail): Value {
  if (v.type === 'double') return op === '-' ? dbl(-v.value) : bool(v.value === 0);
  if (op === '-' && v.type === 'timeinterval') return interval(-v.value);
  return unsupported(op, v, undefined, fail);
}
