/**
 * Evaluates a parsed formula against one snapshot of inputs. Pure: the clock and the random
 * source come in through AutoscaleInputs.
 *
 * Steps of evaluateFormula:
 *   1. run the statements in order (a later statement sees earlier assignments; stop() ends early);
 *   2. on success, apply the targets: rounded down and clamped to [0, 2^31 − 1] (the seed leaves
 *      rounding open; the results string still shows the value as evaluated);
 *   3. on any evaluation error, keep the current targets ("no change to pool size will be made")
 *      and report the service variables only, with Azure's error shape.
 *
 * Bounds: every expression node costs one step and every vector element produced costs one
 * more; exceeding maxSteps or maxVectorLength is an evaluation error, never a hang.
 */
import type { Expr, Formula, Statement } from './ast';
import { FormulaError, evalError, type Pos } from './errors';
import { FUNCTIONS, StopSignal, flatten } from './functions';
import { applyBinary, applyUnary, unsupported, type Fail } from './operators';
import { buildResults } from './results';
import { MetricHistory } from './samples';
import { timestampMember } from './time';
import {
  CURRENT_VARIABLES, DEALLOCATION_OPTIONS, MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, SAMPLED_METRICS, TIME_INTERVALS,
  dbl, interval, str, vec,
  type AutoscaleInputs, type AutoscaleOutcome, type NodeDeallocationOption, type Value,
} from './types';

export const DEFAULT_MAX_STEPS = 10_000_000;
export const DEFAULT_MAX_VECTOR_LENGTH = 1_000_000;
const MAX_TARGET = 2_147_483_647;
/** error.message of an AutoScaleRun (the first is Azure's, from the recordings; the other two are ours). */
export const EVALUATION_ERROR_MESSAGE = 'The specified auto-scaling formula has evaluation error';
export const SYNTAX_ERROR_MESSAGE = 'The specified auto-scaling formula has syntax error';
export const TOO_LONG_MESSAGE = 'The specified auto-scaling formula is too long';

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

type Slot = 'dedicated' | 'dedicatedAlias' | 'lowPriority' | 'lowPriorityAlias';
/** Read-write targets. Azure: if both a name and its alias are assigned, the full name wins. */
const TARGETS: Readonly<Record<string, { slot: Slot; other: Slot }>> = {
  $TargetDedicatedNodes: { slot: 'dedicated', other: 'dedicatedAlias' },
  $TargetDedicated: { slot: 'dedicatedAlias', other: 'dedicated' },
  $TargetLowPriorityNodes: { slot: 'lowPriority', other: 'lowPriorityAlias' },
  $TargetLowPriority: { slot: 'lowPriorityAlias', other: 'lowPriority' },
};

class Run {
  private steps = 0;
  private readonly maxSteps: number;
  private readonly maxVector: number;
  private readonly now: number;
  readonly user = new Map<string, Value>();
  readonly slots: Partial<Record<Slot, Value>> = {};
  deallocation: NodeDeallocationOption = 'requeue';
  private readonly metrics = new Map<string, MetricHistory>();

  constructor(private readonly inputs: AutoscaleInputs) {
    this.maxSteps = inputs.limits?.maxSteps ?? DEFAULT_MAX_STEPS;
    this.maxVector = inputs.limits?.maxVectorLength ?? DEFAULT_MAX_VECTOR_LENGTH;
    this.now = inputs.now instanceof Date ? inputs.now.getTime() : NaN;
    if (!(this.now >= MIN_TIMESTAMP_MS && this.now <= MAX_TIMESTAMP_MS)) throw evalError(undefined, 'The evaluation time is invalid');
  }

  execute(statements: readonly Statement[]): void {
    try {
      for (const s of statements) {
        this.tick(1, s.pos);
        if (s.kind === 'assign') this.assign(s.name, this.eval(s.value), s.pos);
        else this.eval(s.expr);
      }
    } catch (err) {
      if (!(err instanceof StopSignal)) throw err;
    }
  }

  target(name: '$TargetDedicatedNodes' | '$TargetLowPriorityNodes'): Value {
    const t = TARGETS[name] as { slot: Slot; other: Slot };
    const cur = name === '$TargetDedicatedNodes' ? this.inputs.current.targetDedicatedNodes : this.inputs.current.targetLowPriorityNodes;
    return this.slots[t.slot] ?? this.slots[t.other] ?? dbl(cur);
  }

  private tick(n: number, pos: Pos): void {
    this.steps += n;
    if (this.steps > this.maxSteps) throw evalError(pos, `The evaluation exceeded its limit of ${this.maxSteps} steps`);
  }

  private failAt(pos: Pos): Fail {
    return (detail: string): never => {
      throw evalError(pos, detail);
    };
  }

  private assign(name: string, v: Value, pos: Pos): void {
    const fail = this.failAt(pos);
    if (own(TARGETS, name)) {
      if (v.type !== 'double') fail(`${name} must be assigned a double, not ${v.type}`);
      else if (!Number.isFinite(v.value)) fail(`${name} must be a finite number, not ${v.value}`);
      this.slots[(TARGETS[name] as { slot: Slot }).slot] = v;
    } else if (name === '$NodeDeallocationOption') {
      const option = v.type === 'string' ? v.value.toLowerCase() : '';
      const known = DEALLOCATION_OPTIONS.find((o) => o === option);
      if (known === undefined) {
        fail(`$NodeDeallocationOption must be one of ${DEALLOCATION_OPTIONS.join(', ')}`);
      } else this.deallocation = known;
    } else if (own(CURRENT_VARIABLES, name) || this.isMetric(name)) {
      fail(`Cannot assign to read-only variable ${name}`);
    } else if (own(TIME_INTERVALS, name) || (DEALLOCATION_OPTIONS as readonly string[]).includes(name)) {
      fail(`Cannot assign to constant ${name}`);
    } else {
      this.user.set(name, v);
    }
  }

  private isMetric(name: string): boolean {
    return name.startsWith('$') && SAMPLED_METRICS.has(name.slice(1));
  }

  private eval(e: Expr): Value {
    this.tick(1, e.pos);
    const v = this.evalNode(e);
    if (v.type === 'doubleVec') {
      if (v.value.length > this.maxVector) {
        throw evalError(e.pos, `The vector has ${v.value.length} elements; the limit is ${this.maxVector}`);
      }
      this.tick(v.value.length, e.pos);
    }
    return v;
  }

  private evalNode(e: Expr): Value {
    switch (e.kind) {
      case 'number':
        return dbl(e.value);
      case 'string':
        return str(e.value);
      case 'ident':
        return this.lookup(e.name, e.pos);
      case 'vector':
        return vec(flatten(e.items.map((i) => this.eval(i)), 'the vector literal', this.failAt(e.pos), this.maxVector));
      case 'unary':
        return applyUnary(e.op, this.eval(e.operand), this.failAt(e.pos));
      case 'binary': {
        const fail = this.failAt(e.opPos);
        const l = this.eval(e.left);
        if (e.op === '&&' || e.op === '||') {
          if (l.type !== 'double') return unsupported(e.op, l, undefined, fail);
          if (e.op === '&&' ? l.value === 0 : l.value !== 0) return dbl(e.op === '&&' ? 0 : 1);
        }
        return applyBinary(e.op, l, this.eval(e.right), fail);
      }
      case 'ternary': {
        const c = this.eval(e.cond);
        if (c.type !== 'double') throw evalError(e.pos, `The condition of '?:' must be a double, not ${c.type}`);
        return this.eval(c.value !== 0 ? e.then : e.otherwise);
      }
      case 'call': {
        if (!own(FUNCTIONS, e.name)) throw evalError(e.pos, `Undefined function: ${e.name}`);
        const fn = FUNCTIONS[e.name] as (typeof FUNCTIONS)[string];
        const args = e.args.map((a) => this.eval(a));
        return fn(args, { now: this.now, random: this.inputs.random, maxVectorLength: this.maxVector, fail: this.failAt(e.pos) }, e.name);
      }
      case 'method': {
        const history = e.target.kind === 'ident' ? this.history(e.target.name) : undefined;
        if (history === undefined) {
          const t = this.eval(e.target);
          throw evalError(e.namePos, `Undefined method: ${e.name} on a value of type ${t.type}`);
        }
        const args = e.args.map((a) => this.eval(a));
        return history.call(e.name, args, this.now, this.failAt(e.namePos));
      }
      case 'member': {
        const t = this.eval(e.target);
        if (t.type !== 'timestamp') throw evalError(e.namePos, `Undefined member: ${e.name} on a value of type ${t.type}`);
        const m = timestampMember(t.value, e.name);
        if (m === undefined) {
          throw evalError(e.namePos, `Undefined member: ${e.name} (a timestamp has year, month, day, weekday, hour, minute, second)`);
        }
        return dbl(m);
      }
      default: {
        const never: never = e;
        return never;
      }
    }
  }

  private history(name: string): MetricHistory | undefined {
    const key = own(CURRENT_VARIABLES, name)
      ? (CURRENT_VARIABLES[name] as { sampleKey: string }).sampleKey
      : this.isMetric(name)
        ? name.slice(1)
        : undefined;
    if (key === undefined) return undefined;
    let h = this.metrics.get(name);
    if (h === undefined) {
      const samples = own(this.inputs.samples, key) ? this.inputs.samples[key] : undefined;
      h = new MetricHistory(name, samples, this.now);
      this.metrics.set(name, h);
    }
    return h;
  }

  private lookup(name: string, pos: Pos): Value {
    const u = this.user.get(name);
    if (u !== undefined) return u;
    if (name === '$TargetDedicatedNodes' || name === '$TargetLowPriorityNodes') return this.target(name);
    if (own(TARGETS, name)) {
      const t = TARGETS[name] as { slot: Slot; other: Slot };
      return this.target(t.slot === 'dedicatedAlias' ? '$TargetDedicatedNodes' : '$TargetLowPriorityNodes');
    }
    if (name === '$NodeDeallocationOption') return str(this.deallocation);
    if (own(CURRENT_VARIABLES, name)) {
      const { field } = CURRENT_VARIABLES[name] as { field: keyof AutoscaleInputs['current'] };
      return dbl(this.inputs.current[field]);
    }
    if (this.isMetric(name)) {
      throw evalError(pos, `${name} is a sampled metric; use one of its methods, e.g. ${name}.GetSample(TimeInterval_Minute * 5)`);
    }
    if (own(TIME_INTERVALS, name)) return interval(TIME_INTERVALS[name] as number);
    if ((DEALLOCATION_OPTIONS as readonly string[]).includes(name)) return str(name);
    throw evalError(pos, `Undefined symbol: ${name}`);
  }
}

function applyTarget(v: Value): number {
  return v.type === 'double' ? Math.min(MAX_TARGET, Math.max(0, Math.floor(v.value))) : 0;
}

export function evaluateFormula(formula: Formula, inputs: AutoscaleInputs): AutoscaleOutcome {
  try {
    const run = new Run(inputs);
    run.execute(formula.statements);
    const dedicated = run.target('$TargetDedicatedNodes');
    const lowPriority = run.target('$TargetLowPriorityNodes');
    return {
      targetDedicatedNodes: applyTarget(dedicated),
      targetLowPriorityNodes: applyTarget(lowPriority),
      nodeDeallocationOption: run.deallocation,
      results: buildResults({
        targetDedicatedNodes: dedicated,
        targetLowPriorityNodes: lowPriority,
        nodeDeallocationOption: run.deallocation,
        userVariables: run.user,
      }),
    };
  } catch (err) {
    return failedOutcome(inputs, err);
  }
}

/** The outcome of a failed evaluation: current targets, service variables only, Azure's error shape. */
export function failedOutcome(inputs: AutoscaleInputs, err: unknown): AutoscaleOutcome {
  const message =
    err instanceof FormulaError ? err.message : `Internal evaluation error: ${err instanceof Error ? err.message : String(err)}`;
  const summary =
    err instanceof FormulaError && err.code === 'AutoScalingFormulaSyntaxError'
      ? SYNTAX_ERROR_MESSAGE
      : err instanceof FormulaError && err.code === 'AutoScalingFormulaTooLong'
        ? TOO_LONG_MESSAGE
        : EVALUATION_ERROR_MESSAGE;
  const current = inputs.current;
  return {
    targetDedicatedNodes: current.targetDedicatedNodes,
    targetLowPriorityNodes: current.targetLowPriorityNodes,
    nodeDeallocationOption: 'requeue',
    results: buildResults({
      targetDedicatedNodes: dbl(current.targetDedicatedNodes),
      targetLowPriorityNodes: dbl(current.targetLowPriorityNodes),
      nodeDeallocationOption: 'requeue',
      userVariables: new Map(),
    }),
    error: { code: 'AutoScalingFormulaEvaluationError', message: summary, values: [{ name: 'Message', value: message }] },
  };
}
