/**
 * Fuzzing with a seeded PRNG (deterministic): thousands of random token soups, random
 * grammar-shaped formulas, mutated seed formulas and explosive shapes. Invariants:
 * - parseFormula returns or throws a FormulaError (never anything else);
 * - evaluateFormula / evaluateText never throw, return a well-formed outcome, never hit the
 *   "Internal evaluation error" path, and finish quickly under the given step bound.
 */
import { describe, expect, it } from 'vitest';
import type { AutoscaleInputs, AutoscaleOutcome, Sample } from '../../shared/domain/autoscale';
import { FormulaError, evaluateFormula, evaluateText, parseFormula } from '../../shared/domain/autoscale';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOW = Date.parse('2016-10-13T19:20:00.000Z');
const history = (f: (k: number) => number): Sample[] => Array.from({ length: 150 }, (_, k) => ({ time: new Date(NOW - (k + 1) * 30_000), value: f(k) }));
const INPUTS: AutoscaleInputs = {
  now: new Date(NOW),
  random: mulberry32(7),
  samples: { CPUPercent: history((k) => (k % 10) / 10), ActiveTasks: history((k) => k % 7), RunningTasks: history(() => 1), PendingTasks: history((k) => k).slice(0, 40) },
  current: { dedicatedNodes: 3, lowPriorityNodes: 1, preemptedNodes: 0, taskSlotsPerNode: 2, targetDedicatedNodes: 3, targetLowPriorityNodes: 1 },
  limits: { maxSteps: 200_000, maxVectorLength: 10_000 },
};

const NAMES = ['$TargetDedicatedNodes', '$TargetDedicated', '$TargetLowPriorityNodes', '$NodeDeallocationOption', '$CurrentDedicated', '$PreemptedNodeCount', '$TaskSlotsPerNode', '$CPUPercent', '$ActiveTasks', '$RunningTasks', '$PendingTasks', '$SampleNodeCount', '$x', '$y', 'x', 'y', 'v', 'TimeInterval_Minute', 'TimeInterval_Second', 'TimeInterval_Year', 'TimeInterval_100ns', 'taskcompletion', 'requeue', 'constructor', '__proto__', 'hasOwnProperty'];
const FUNCS = ['avg', 'len', 'lg', 'ln', 'log', 'max', 'min', 'norm', 'percentile', 'rand', 'range', 'std', 'stop', 'sum', 'time', 'val', 'vec', 'nosuch'];
const METHODS = ['GetSample', 'GetSamplePercent', 'GetSamplePeriod', 'Count', 'HistoryBeginTime', 'hour', 'weekday', 'year', 'Bogus'];
const NUMBERS = ['0', '1', '2', '0.5', '15', '70', '100', '1e308', '1e-320', '9999999999', '.5', '3e2'];
const STRINGS = ['""', '"taskcompletion"', '"Fri, 14 Oct 2016 18:36:43 GMT"', '"2016-10-13T19:18:47Z"', '"9999-12-31"', '"0001-01-01"', '"junk"'];
const OPS = ['+', '-', '*', '/', '<', '<=', '>', '>=', '==', '!=', '&&', '||', '!', '?', ':', '=', '(', ')', '[', ']', ',', '.', ';', '\n', '// c\n', '{', '#', '&', '"'];

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)] as T;
}

function tokenSoup(rnd: () => number): string {
  const n = 1 + Math.floor(rnd() * 60);
  const parts: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const r = rnd();
    parts.push(r < 0.25 ? pick(rnd, NAMES) : r < 0.35 ? pick(rnd, FUNCS) : r < 0.5 ? pick(rnd, NUMBERS) : r < 0.55 ? pick(rnd, STRINGS) : r < 0.6 ? pick(rnd, METHODS) : pick(rnd, OPS));
  }
  return parts.join(rnd() < 0.5 ? ' ' : '');
}

function expr(rnd: () => number, depth: number): string {
  const r = rnd();
  if (depth <= 0 || r < 0.2) {
    const leaf = rnd();
    return leaf < 0.4 ? pick(rnd, NUMBERS) : leaf < 0.8 ? pick(rnd, NAMES) : pick(rnd, STRINGS);
  }
  const d = depth - 1;
  if (r < 0.45) return `${expr(rnd, d)} ${pick(rnd, ['+', '-', '*', '/', '<', '<=', '>', '>=', '==', '!=', '&&', '||'])} ${expr(rnd, d)}`;
  if (r < 0.55) return `${pick(rnd, ['-', '!'])}${expr(rnd, d)}`;
  if (r < 0.62) return `(${expr(rnd, d)} ? ${expr(rnd, d)} : ${expr(rnd, d)})`;
  if (r < 0.78) {
    const args = Array.from({ length: Math.floor(rnd() * 4) }, () => expr(rnd, d));
    return `${pick(rnd, FUNCS)}(${args.join(', ')})`;
  }
  if (r < 0.9) {
    const args = Array.from({ length: Math.floor(rnd() * 4) }, () => expr(rnd, d));
    return `${pick(rnd, NAMES)}.${pick(rnd, METHODS)}(${args.join(', ')})`;
  }
  if (r < 0.95) return `time().${pick(rnd, METHODS)}`;
  return `[${Array.from({ length: Math.floor(rnd() * 4) }, () => expr(rnd, d)).join(', ')}]`;
}

function grammarFormula(rnd: () => number): string {
  const n = 1 + Math.floor(rnd() * 8);
  return Array.from({ length: n }, () => `${pick(rnd, NAMES)} = ${expr(rnd, 1 + Math.floor(rnd() * 5))}`).join(rnd() < 0.5 ? ';\n' : '; ');
}

/** Mostly well-typed formulas (about 1 in 20 sub-expressions deliberately ill-typed), to drive evaluation deep. */
type Ty = 'd' | 'v' | 'i' | 't';
function typed(rnd: () => number, ty: Ty, depth: number): string {
  if (rnd() < 0.05) ty = pick(rnd, ['d', 'v', 'i', 't'] as const);
  const d = depth - 1;
  const leaf = depth <= 0 || rnd() < 0.25;
  switch (ty) {
    case 'd':
      if (leaf) return pick(rnd, ['0', '1', '2.5', '70', 'x', '$TargetDedicatedNodes', '$CurrentDedicated', '$TaskSlotsPerNode', 'rand()', 'time().hour', 'len(v)']);
      return pick(rnd, [
        () => `${typed(rnd, 'd', d)} ${pick(rnd, ['+', '-', '*', '/', '<', '>=', '==', '&&', '||'])} ${typed(rnd, 'd', d)}`,
        () => `(${typed(rnd, 'd', d)} ? ${typed(rnd, 'd', d)} : ${typed(rnd, 'd', d)})`,
        () => `${pick(rnd, ['avg', 'max', 'min', 'sum', 'norm', 'len', 'range', 'std'])}(${typed(rnd, 'd', d)}, ${typed(rnd, 'v', d)})`,
        () => `percentile(${typed(rnd, 'v', d)}, ${pick(rnd, ['0', '50', '90', '100'])})`,
        () => `val(${typed(rnd, 'v', d)}, 0)`,
        () => `${pick(rnd, ['$CPUPercent', '$ActiveTasks', '$RunningTasks', '$PendingTasks'])}.GetSamplePercent(${typed(rnd, 'i', d)})`,
        () => `${typed(rnd, 'i', d)} < ${typed(rnd, 'i', d)}`,
        () => `${typed(rnd, 't', d)} >= ${typed(rnd, 't', d)}`,
        () => `!${typed(rnd, 'd', d)}`,
        () => `${pick(rnd, ['lg', 'ln', 'log'])}(${typed(rnd, 'd', d)})`,
      ])();
    case 'v':
      if (leaf) return pick(rnd, ['v', '[1, 2, 3]', '$ActiveTasks.GetSample(3)', '$CPUPercent.GetSample(TimeInterval_Minute * 10)', 'vec(x)']);
      return pick(rnd, [
        () => `${typed(rnd, 'v', d)} ${pick(rnd, ['+', '-', '*', '/'])} ${typed(rnd, 'd', d)}`,
        () => `vec(${typed(rnd, 'v', d)}, ${typed(rnd, 'd', d)})`,
        () => `${pick(rnd, ['$CPUPercent', '$ActiveTasks', '$RunningTasks'])}.GetSample(${typed(rnd, 'i', d)}, ${typed(rnd, 'i', d)})`,
        () => `${pick(rnd, ['lg', 'ln', 'log'])}(${typed(rnd, 'v', d)})`,
        () => `[${typed(rnd, 'd', d)}, ${typed(rnd, 'v', d)}]`,
      ])();
    case 'i':
      if (leaf) return pick(rnd, ['TimeInterval_Minute', 'TimeInterval_Second * 90', '$CPUPercent.GetSamplePeriod()', 'span']);
      return pick(rnd, [
        () => `${typed(rnd, 'i', d)} ${pick(rnd, ['+', '-'])} ${typed(rnd, 'i', d)}`,
        () => `${pick(rnd, ['2', '0.5', '3'])} * ${typed(rnd, 'i', d)}`,
        () => `${typed(rnd, 'i', d)} / ${pick(rnd, ['2', '4'])}`,
        () => `${typed(rnd, 't', d)} - ${typed(rnd, 't', d)}`,
        () => `-${typed(rnd, 'i', d)}`,
      ])();
    case 't':
      if (leaf) return pick(rnd, ['time()', 'now', 'time("2016-10-13T19:00:00Z")', 'time("Thu, 13 Oct 2016 18:00:00 GMT")', '$ActiveTasks.HistoryBeginTime()']);
      return pick(rnd, [() => `${typed(rnd, 't', d)} + ${typed(rnd, 'i', d)}`, () => `${typed(rnd, 'i', d)} + ${typed(rnd, 't', d)}`])();
  }
}

function typedFormula(rnd: () => number): string {
  const lines = ['x = 2', 'v = [1, 2, 3]', 'span = TimeInterval_Minute * 5', 'now = time()'];
  const n = 1 + Math.floor(rnd() * 6);
  for (let i = 0; i < n; i += 1) {
    const ty = pick(rnd, ['d', 'v', 'i', 't'] as const);
    const target = ty === 'd' ? pick(rnd, ['x', '$TargetDedicatedNodes', '$TargetLowPriorityNodes', 'y']) : ty === 'v' ? 'v' : ty === 'i' ? 'span' : 'now';
    lines.push(`${target} = ${typed(rnd, ty, 1 + Math.floor(rnd() * 4))}`);
  }
  if (rnd() < 0.3) lines.push(`$NodeDeallocationOption = ${pick(rnd, ['taskcompletion', 'requeue', 'terminate', 'retaineddata', '"RETAINEDDATA"'])}`);
  return lines.join(';\n');
}

const SEEDS = [
  '$averageActiveTaskCount = avg($ActiveTasks.GetSample(TimeInterval_Minute * 15));\n$TargetDedicated = min(10, $averageActiveTaskCount);',
  '$totalNodes =\n (min($CPUPercent.GetSample(TimeInterval_Minute * 10)) > 0.7) ?\n ($CurrentDedicated * 1.1) : $CurrentDedicated;\n$TargetDedicated = min(400, $totalNodes)',
  '$TargetDedicated = (time().weekday == 1 ? 5:1);',
  '$curTime = time();\n$workHours = $curTime.hour >= 8 && $curTime.hour < 18;\n$isWeekday = $curTime.weekday >= 1 && $curTime.weekday <= 5;\n$TargetDedicated = $workHours && $isWeekday ? 20:10;',
  '$samples = $ActiveTasks.GetSamplePercent(TimeInterval_Minute * 15);\n$tasks = $samples < 70 ? max(0,$ActiveTasks.GetSample(1)) : max( $ActiveTasks.GetSample(1),\navg($ActiveTasks.GetSample(TimeInterval_Minute * 15)));\n$NodeDeallocationOption = taskcompletion;',
  '$TargetDedicated = 4;\nlifespan = time() - time("Fri, 14 Oct 2016 18:36:43 GMT");\nspan = TimeInterval_Minute * 60;\n$TargetDedicated = (lifespan > TimeInterval_Minute ? (max($RunningTasks.GetSample(span, 50), $ActiveTasks.GetSample(span, 50)) == 0 ? 0 : $TargetDedicated) : 4);',
  '$runningTasksSample = $RunningTasks.GetSample(60 * TimeInterval_Second, 120 * TimeInterval_Second, 75);',
];

function mutate(rnd: () => number, text: string): string {
  let s = text;
  const edits = 1 + Math.floor(rnd() * 4);
  for (let e = 0; e < edits; e += 1) {
    const i = Math.floor(rnd() * (s.length + 1));
    const j = Math.min(s.length, i + Math.floor(rnd() * 12));
    const r = rnd();
    if (r < 0.3) s = s.slice(0, i) + s.slice(j);
    else if (r < 0.55) s = s.slice(0, i) + pick(rnd, [...OPS, ...NUMBERS, ...NAMES, ...FUNCS, ...METHODS]) + s.slice(i);
    else if (r < 0.7) s = s.slice(0, i) + s.slice(i, j) + s.slice(i);
    else if (r < 0.85) s = s.slice(0, i) + String.fromCharCode(Math.floor(rnd() * 0x3000)) + s.slice(i);
    else s = s.slice(0, i) + s.slice(j) + s.slice(i, j);
  }
  return s;
}

const EXPLOSIVE = [
  `x = ${'('.repeat(127)}1${')'.repeat(127)}`,
  `x = ${'('.repeat(129)}1${')'.repeat(129)}`,
  `x = ${'-'.repeat(3000)}1`,
  `x = ${'!'.repeat(127)}1`,
  `x = 1${' + 1'.repeat(2000)}`,
  `x = ${'max('.repeat(1000)}1${')'.repeat(1000)}`,
  `x = ${Array.from({ length: 60 }, () => 'x').join(' ? ')}`,
  ['v = [1, 2, 3]', ...Array.from({ length: 99 }, () => 'v = vec(v, v, v)')].join(';'),
  ['v = [1, 2, 3]', ...Array.from({ length: 99 }, () => 'v = [v, v] * 2')].join(';'),
  ['v = $CPUPercent.GetSample(150)', ...Array.from({ length: 99 }, () => 'v = sum(v, v, v, v, v, v, v, v)')].join(';'),
  ['t = time("9999-12-31")', ...Array.from({ length: 99 }, () => 't = t + TimeInterval_Year')].join(';'),
  ['i = TimeInterval_Year', ...Array.from({ length: 99 }, () => 'i = i * 1e6')].join(';'),
  ['x = 1e308', ...Array.from({ length: 99 }, () => 'x = x * x')].join(';'),
  'x = '.padEnd(8192, '1'),
  `${'a'.repeat(8180)} = 1`,
  ';'.repeat(8192),
  '"'.repeat(4000),
  '\u0000\uffff\ud800',
];

interface Problem {
  formula: string;
  problem: string;
}

function checkOutcome(out: AutoscaleOutcome): string | undefined {
  if (!out.results.startsWith('$TargetDedicatedNodes=')) return `bad results ${out.results}`;
  for (const n of [out.targetDedicatedNodes, out.targetLowPriorityNodes]) if (!Number.isInteger(n) || n < 0) return `bad target ${n}`;
  const msg = out.error?.values[0]?.value ?? '';
  if (msg.startsWith('Internal evaluation error')) return msg;
  if (out.error && !/^(Line \d+, Col \d+: |The formula is |The evaluation time)/.test(msg)) return `unpositioned error ${msg}`;
  return undefined;
}

function check(formula: string, problems: Problem[]): void {
  const started = performance.now();
  try {
    let parsed;
    try {
      parsed = parseFormula(formula);
    } catch (err) {
      if (!(err instanceof FormulaError)) throw err;
      if (err.code === 'AutoScalingFormulaSyntaxError' && !(err.line !== undefined && err.line >= 1 && err.col !== undefined && err.col >= 1)) {
        problems.push({ formula, problem: `syntax error without position: ${err.message}` });
      }
    }
    if (parsed) {
      const bad = checkOutcome(evaluateFormula(parsed, INPUTS));
      if (bad) problems.push({ formula, problem: bad });
    }
    const bad = checkOutcome(evaluateText(formula, INPUTS));
    if (bad) problems.push({ formula, problem: bad });
  } catch (err) {
    problems.push({ formula, problem: `threw ${String(err)}` });
  }
  const ms = performance.now() - started;
  if (ms > 500) problems.push({ formula, problem: `took ${ms.toFixed(0)} ms` });
}

describe('fuzz: parse/evaluate never throw anything but FormulaError, and always finish', () => {
  it.each([
    ['token soup', 1, 2000, tokenSoup],
    ['grammar-shaped formulas', 2, 2000, grammarFormula],
    ['mutated seed formulas', 3, 2000, (rnd: () => number) => mutate(rnd, pick(rnd, SEEDS))],
    ['well-typed formulas', 4, 2000, typedFormula],
    ['mutated well-typed formulas', 5, 1000, (rnd: () => number) => mutate(rnd, typedFormula(rnd))],
  ] as const)('%s (seed %i, %i cases)', (_name, seed, count, gen) => {
    const rnd = mulberry32(seed);
    const problems: Problem[] = [];
    for (let i = 0; i < count; i += 1) check(gen(rnd), problems);
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('explosive shapes stay bounded', () => {
    const problems: Problem[] = [];
    for (const f of EXPLOSIVE) check(f, problems);
    expect(problems.map((p) => ({ formula: p.formula.slice(0, 60), problem: p.problem }))).toEqual([]);
  });

  it('the generators reach deep evaluation: grammar-shaped formulas parse, well-typed ones mostly succeed', () => {
    const rnd = mulberry32(2);
    let parsed = 0;
    let succeeded = 0;
    for (let i = 0; i < 500; i += 1) {
      try {
        parseFormula(grammarFormula(rnd));
        parsed += 1;
      } catch {
        // counted below
      }
      if (evaluateText(typedFormula(rnd), INPUTS).error === undefined) succeeded += 1;
    }
    expect(parsed).toBeGreaterThan(450);
    expect(succeeded).toBeGreaterThan(250);
  });
});
