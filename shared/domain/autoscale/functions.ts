/**
 * Built-in functions (the seed's table). A doubleVecList argument is any comma-separated mix
 * of doubles and doubleVecs, flattened into one vector: avg(v, 7) with v = [1,2,3] is
 * avg(1,2,3,7) = 3.25.
 *
 * Choices where the seed is silent:
 * - avg, max, min, range, std and percentile of an empty list are evaluation errors; len, sum and
 *   norm of an empty list are 0. std is the sample standard deviation (n − 1); one value gives 0.
 * - lg/ln/log: one double argument gives a double; anything else is a doubleVecList and gives a
 *   doubleVec ("A vec(double) must explicitly be passed"). ln is the natural log.
 * - percentile(v, p): p is 0–100, nearest rank ("the percentile element": always an element of v).
 * - val(v, i): i is rounded down; out of range is an error.
 * - time(""), like time(), is now (the signature's default is "").
 * - vec(list) builds a doubleVec from a doubleVecList (the seed names vec(double) but does not list it).
 * - stop() ends the evaluation; assignments made before it stand.
 */
import type { Fail } from './operators';
import { parseDateTime } from './time';
import { dbl, stamp, vec, type Value } from './types';

export interface CallContext {
  readonly now: number;
  readonly random: () => number;
  readonly maxVectorLength: number;
  readonly fail: Fail;
}

/** Thrown by stop(); caught by the evaluator. */
export class StopSignal {
  readonly stop = true;
}

type Fn = (args: readonly Value[], ctx: CallContext, name: string) => Value;

export function flatten(args: readonly Value[], name: string, fail: Fail, limit = Infinity): number[] {
  const total = args.reduce((n, a) => n + (a.type === 'doubleVec' ? a.value.length : 1), 0);
  if (total > limit) fail(`The vector built by ${name} has ${total} elements; the limit is ${limit}`);
  const out: number[] = [];
  args.forEach((a, i) => {
    if (a.type === 'double') out.push(a.value);
    else if (a.type === 'doubleVec') for (const x of a.value) out.push(x);
    else fail(`Argument ${i + 1} of ${name} must be a double or doubleVec, not ${a.type}`);
  });
  return out;
}

function nonEmpty(xs: number[], name: string, fail: Fail): number[] {
  if (xs.length === 0) fail(`${name} needs at least one value`);
  return xs;
}

function arity(args: readonly Value[], min: number, max: number, name: string, fail: Fail): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    fail(`Function ${name} expects ${want} argument${want === '1' || want === 'at least 1' ? '' : 's'}, got ${args.length}`);
  }
}

const listFn =
  (f: (xs: number[], name: string, fail: Fail) => number): Fn =>
  (args, ctx, name) =>
    dbl(f(flatten(args, name, ctx.fail, ctx.maxVectorLength), name, ctx.fail));

const logFn =
  (f: (x: number) => number): Fn =>
  (args, ctx, name) => {
    const [only] = args;
    if (args.length === 1 && only?.type === 'double') return dbl(f(only.value));
    arity(args, 1, Infinity, name, ctx.fail);
    return vec(flatten(args, name, ctx.fail, ctx.maxVectorLength).map(f));
  };

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

function minOf(xs: number[]): number {
  return xs.reduce((a, b) => (b < a || Number.isNaN(b) ? b : a));
}

function maxOf(xs: number[]): number {
  return xs.reduce((a, b) => (b > a || Number.isNaN(b) ? b : a));
}

export const FUNCTIONS: Readonly<Record<string, Fn>> = {
  avg: listFn((xs, n, f) => sum(nonEmpty(xs, n, f)) / xs.length),
  len: listFn((xs) => xs.length),
  lg: logFn(Math.log2),
  ln: logFn(Math.log),
  log: logFn(Math.log10),
  max: listFn((xs, n, f) => maxOf(nonEmpty(xs, n, f))),
  min: listFn((xs, n, f) => minOf(nonEmpty(xs, n, f))),
  norm: listFn((xs) => Math.sqrt(sum(xs.map((x) => x * x)))),
  range: listFn((xs, n, f) => maxOf(nonEmpty(xs, n, f)) - minOf(xs)),
  std: listFn((xs, n, f) => {
    nonEmpty(xs, n, f);
    if (xs.length === 1) return 0;
    const mean = sum(xs) / xs.length;
    return Math.sqrt(sum(xs.map((x) => (x - mean) ** 2)) / (xs.length - 1));
  }),
  sum: listFn((xs) => sum(xs)),
  vec: (args, ctx, name) => vec(flatten(args, name, ctx.fail, ctx.maxVectorLength)),
  percentile: (args, ctx, name) => {
    arity(args, 2, 2, name, ctx.fail);
    const [v, p] = args;
    if (v?.type !== 'doubleVec') return ctx.fail(`Argument 1 of percentile must be a doubleVec, not ${v?.type}`);
    if (p?.type !== 'double') return ctx.fail(`Argument 2 of percentile must be a double, not ${p?.type}`);
    if (!(p.value >= 0 && p.value <= 100)) return ctx.fail('percentile p must be between 0 and 100');
    const sorted = nonEmpty([...v.value], name, ctx.fail).sort((a, b) => a - b);
    const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p.value / 100) * sorted.length)));
    return dbl(sorted[rank - 1] as number);
  },
  rand: (args, ctx, name) => {
    arity(args, 0, 0, name, ctx.fail);
    return dbl(ctx.random());
  },
  stop: (args, ctx, name) => {
    arity(args, 0, 0, name, ctx.fail);
    throw new StopSignal();
  },
  time: (args, ctx, name) => {
    arity(args, 0, 1, name, ctx.fail);
    const [s] = args;
    if (s === undefined) return stamp(ctx.now);
    if (s.type !== 'string') return ctx.fail(`Argument 1 of time must be a string, not ${s.type}`);
    if (s.value.trim() === '') return stamp(ctx.now);
    const ms = parseDateTime(s.value);
    if (ms === undefined) return ctx.fail(`time() cannot parse "${s.value}" (expected W3C-DTF or RFC 1123)`);
    return stamp(ms);
  },
  val: (args, ctx, name) => {
    arity(args, 2, 2, name, ctx.fail);
    const [v, i] = args;
    if (v?.type !== 'doubleVec') return ctx.fail(`Argument 1 of val must be a doubleVec, not ${v?.type}`);
    if (i?.type !== 'double') return ctx.fail(`Argument 2 of val must be a double, not ${i?.type}`);
    const idx = Math.floor(i.value);
    const x = v.value[idx];
    if (!(idx >= 0) || x === undefined) return ctx.fail(`val index ${i.value} is out of range for a vector of length ${v.value.length}`);
    return dbl(x);
  },
};
