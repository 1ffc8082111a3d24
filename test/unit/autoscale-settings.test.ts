import { describe, expect, it } from 'vitest';
import { evaluateText } from '../../shared/domain/autoscale';
import {
  applyOutcome, autoScaleSpec, checkEvaluable, checkFormula, disableAutoScale, enableAutoScale, evaluationIntervalSeconds,
  isEvaluationDue, nextEvaluationAfter, withInitialAutoScale,
} from '../../shared/domain/autoscaling';
import type { AllocationState, PoolRecord, PoolSpec } from '../../shared/domain/model';
import { autoScaleResize, newPool } from '../../shared/domain/pool';
import { BatchError } from '../../shared/errors';

const T0 = new Date('2024-04-11T19:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

const spec: PoolSpec = {
  id: 'p1', vmSize: 'standard_a1_v2', resizeTimeout: 'PT15M', targetDedicatedNodes: 0, targetLowPriorityNodes: 0,
  enableAutoScale: false, enableInterNodeCommunication: false, taskSlotsPerNode: 1, taskSchedulingPolicy: { nodeFillType: 'spread' }, metadata: [],
};

function pool(o: Partial<PoolRecord> = {}, allocationState: AllocationState = 'steady'): PoolRecord {
  return { ...newPool(spec, T0), allocationState, resizeGeneration: 3, ...o };
}

function errorOf(fn: () => unknown): { code: string; status: number; values: { key: string; value: string }[] } | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof BatchError) return { code: err.code, status: err.status, values: err.values };
    throw err;
  }
}

const outcome = (formula: string, current: Partial<PoolRecord> = {}) => evaluateText(formula, {
  now: T0, random: () => 0.5, samples: {},
  current: { dedicatedNodes: 0, lowPriorityNodes: 0, preemptedNodes: 0, taskSlotsPerNode: 1, targetDedicatedNodes: current.targetDedicatedNodes ?? 0, targetLowPriorityNodes: 0 },
});

describe('evaluation interval', () => {
  it('accepts 5 minutes to 168 hours by default', () => {
    expect(evaluationIntervalSeconds('PT5M', 300)).toBe(300);
    expect(evaluationIntervalSeconds('PT168H', 300)).toBe(604_800);
    expect(evaluationIntervalSeconds('P7D', 300)).toBe(604_800);
  });

  it.each(['PT4M59S', 'P7DT1S', 'PT0S', 'fifteen minutes', ''])('refuses %j with 400 InvalidAutoScalingSettings', (text) => {
    expect(errorOf(() => evaluationIntervalSeconds(text, 300))).toMatchObject({ code: 'InvalidAutoScalingSettings', status: 400 });
  });

  it('honours a configured lower minimum', () => {
    expect(evaluationIntervalSeconds('PT5S', 5)).toBe(5);
    expect(errorOf(() => evaluationIntervalSeconds('PT4S', 5))?.code).toBe('InvalidAutoScalingSettings');
  });
});

describe('formula checks for requests', () => {
  it('maps a syntax error to 400 AutoScalingFormulaSyntaxError with the positioned message', () => {
    const e = errorOf(() => checkFormula('$TargetDedicatedNodes = (1 + ;'));
    expect(e).toMatchObject({ code: 'AutoScalingFormulaSyntaxError', status: 400 });
    expect(e?.values[0]?.key).toBe('Message');
    expect(e?.values[0]?.value).toMatch(/^Line 1, Col \d+: /);
  });

  it('maps a formula over 8 KB to 400 AutoScalingFormulaTooLong', () => {
    expect(errorOf(() => checkFormula(`$a = 1;${' '.repeat(9000)}`))).toMatchObject({ code: 'AutoScalingFormulaTooLong', status: 400 });
  });

  it('lets an undefined symbol through (it fails at evaluation, as in Azure)', () => {
    expect(errorOf(() => checkFormula('$something_useless'))).toBeUndefined();
  });

  it('pool add: formula required, interval defaults to PT15M', () => {
    expect(errorOf(() => autoScaleSpec({}, 300))).toMatchObject({ code: 'MissingRequiredProperty', values: [{ key: 'PropertyName', value: 'autoScaleFormula' }] });
    expect(autoScaleSpec({ autoScaleFormula: '$TargetDedicatedNodes=1' }, 300)).toEqual({ autoScaleFormula: '$TargetDedicatedNodes=1', autoScaleEvaluationInterval: 'PT15M' });
    expect(errorOf(() => autoScaleSpec({ autoScaleFormula: '$TargetDedicatedNodes=1', autoScaleEvaluationInterval: 'PT1M' }, 300))?.code).toBe('InvalidAutoScalingSettings');
  });
});

describe('enableAutoScale', () => {
  it('enables a steady pool and starts the schedule at the request time', () => {
    const p = enableAutoScale(pool(), { autoScaleFormula: '$TargetDedicatedNodes=2', autoScaleEvaluationInterval: 'PT6M' }, T0, 300);
    expect(p).toMatchObject({ enableAutoScale: true, autoScaleFormula: '$TargetDedicatedNodes=2', autoScaleEvaluationInterval: 'PT6M', autoScaleEnabledAt: T0.toISOString(), nextAutoScaleEvaluation: at(360_000).toISOString(), lastModified: T0.toISOString() });
  });

  it('requires a formula when autoscale is off, and a steady pool', () => {
    expect(errorOf(() => enableAutoScale(pool(), { autoScaleEvaluationInterval: 'PT6M' }, T0, 300))?.code).toBe('MissingRequiredProperty');
    expect(errorOf(() => enableAutoScale(pool({}, 'resizing'), { autoScaleFormula: '$TargetDedicatedNodes=1' }, T0, 300))).toMatchObject({ code: 'PoolBeingResized', status: 409 });
    expect(errorOf(() => enableAutoScale(pool({ state: 'deleting' }), { autoScaleFormula: '$TargetDedicatedNodes=1' }, T0, 300))?.code).toBe('PoolBeingDeleted');
  });

  it('rate-limits enables of one pool to one per 30 s (503 TooManyEnableAutoScaleRequests)', () => {
    const on = enableAutoScale(pool(), { autoScaleFormula: '$TargetDedicatedNodes=1' }, T0, 300);
    expect(errorOf(() => enableAutoScale(on, { autoScaleFormula: '$TargetDedicatedNodes=2' }, at(29_999), 300))).toMatchObject({ code: 'TooManyEnableAutoScaleRequests', status: 503 });
    expect(enableAutoScale(on, { autoScaleFormula: '$TargetDedicatedNodes=2' }, at(30_000), 300).autoScaleFormula).toBe('$TargetDedicatedNodes=2');
  });

  it('on an enabled pool: needs formula or interval; a formula keeps the schedule, an interval restarts it', () => {
    const on = enableAutoScale(pool(), { autoScaleFormula: '$TargetDedicatedNodes=1' }, T0, 300);
    expect(on.nextAutoScaleEvaluation).toBe(at(900_000).toISOString());
    expect(errorOf(() => enableAutoScale(on, {}, at(60_000), 300))?.code).toBe('InvalidAutoScalingSettings');
    const formulaOnly = enableAutoScale(on, { autoScaleFormula: '$TargetDedicatedNodes=4' }, at(60_000), 300);
    expect(formulaOnly).toMatchObject({ autoScaleEvaluationInterval: 'PT15M', nextAutoScaleEvaluation: at(900_000).toISOString() });
    const intervalOnly = enableAutoScale(on, { autoScaleEvaluationInterval: 'PT10M' }, at(60_000), 300);
    expect(intervalOnly).toMatchObject({ autoScaleFormula: '$TargetDedicatedNodes=1', nextAutoScaleEvaluation: at(660_000).toISOString() });
  });

  it('validates the new formula and interval', () => {
    expect(errorOf(() => enableAutoScale(pool(), { autoScaleFormula: '$TargetDedicatedNodes = = 1' }, T0, 300))?.code).toBe('AutoScalingFormulaSyntaxError');
    expect(errorOf(() => enableAutoScale(pool(), { autoScaleFormula: '$TargetDedicatedNodes = 1', autoScaleEvaluationInterval: 'PT169H' }, T0, 300))?.code).toBe('InvalidAutoScalingSettings');
  });
});

describe('disableAutoScale', () => {
  const on = { enableAutoScale: true, autoScaleFormula: '$TargetDedicatedNodes=3', autoScaleEvaluationInterval: 'PT5M', nextAutoScaleEvaluation: T0.toISOString() };

  it('keeps a steady pool at its current size and clears the autoscale settings', () => {
    const p = disableAutoScale(pool({ ...on, targetDedicatedNodes: 3, currentDedicatedNodes: 2 }), at(1000));
    expect(p).toMatchObject({ enableAutoScale: false, targetDedicatedNodes: 2, lastModified: at(1000).toISOString() });
    expect(p.autoScaleFormula).toBeUndefined();
    expect(p.nextAutoScaleEvaluation).toBeUndefined();
  });

  it('keeps the target of a resize in flight', () => {
    expect(disableAutoScale(pool({ ...on, targetDedicatedNodes: 3, currentDedicatedNodes: 1 }, 'resizing'), T0).targetDedicatedNodes).toBe(3);
  });

  it('is a no-op on a pool without autoscale', () => {
    const p = pool();
    expect(disableAutoScale(p, T0)).toBe(p);
    expect(errorOf(() => checkEvaluable(p))).toMatchObject({ code: 'OperationInvalidForCurrentState', status: 409 });
  });
});

describe('applying an evaluation', () => {
  const auto = (o: Partial<PoolRecord> = {}, a: AllocationState = 'steady') => pool({ enableAutoScale: true, autoScaleFormula: 'x', autoScaleEvaluationInterval: 'PT5M', ...o }, a);

  it('records the run; an error changes nothing else', () => {
    const p = auto({ targetDedicatedNodes: 2, currentDedicatedNodes: 2 });
    const next = applyOutcome(p, outcome('$something_useless', p), T0);
    expect(next.autoScaleRun).toMatchObject({ timestamp: T0.toISOString(), error: { code: 'AutoScalingFormulaEvaluationError' } });
    expect(next.autoScaleRun?.error?.values?.[0]?.value).toBe('Line 1, Col 1: Undefined symbol: $something_useless');
    expect(next).toMatchObject({ targetDedicatedNodes: 2, resizeGeneration: 3, allocationState: 'steady' });
  });

  it('new targets start a resize (new generation, deallocation option from the formula)', () => {
    const next = applyOutcome(auto(), outcome('$TargetDedicatedNodes = 4; $NodeDeallocationOption = taskcompletion;'), T0);
    expect(next).toMatchObject({ targetDedicatedNodes: 4, allocationState: 'resizing', resizeGeneration: 4, nodeDeallocationOption: 'taskcompletion', autoScaleRun: { results: '$TargetDedicatedNodes=4;$TargetLowPriorityNodes=0;$NodeDeallocationOption=taskcompletion' } });
  });

  it('unchanged targets on a pool that reached them start nothing', () => {
    const p = auto({ targetDedicatedNodes: 2, currentDedicatedNodes: 2, nodeDeallocationOption: 'requeue' });
    expect(autoScaleResize(p, { dedicated: 2, lowPriority: 0, deallocation: 'requeue' }, T0)).toBe(p);
  });

  it('a steady pool short of its target (core quota) tries again', () => {
    const p = auto({ targetDedicatedNodes: 5, currentDedicatedNodes: 3, resizeErrors: [{ code: 'AccountCoreQuotaReached', message: 'm' }] });
    const next = autoScaleResize(p, { dedicated: 5, lowPriority: 0, deallocation: 'requeue' }, T0);
    expect(next).toMatchObject({ allocationState: 'resizing', resizeGeneration: 4 });
    expect(next.resizeErrors).toBeUndefined();
  });

  it('a new target during a resize re-targets it; the same target leaves it alone; stopping and non-autoscale pools are untouched', () => {
    const resizing = auto({ targetDedicatedNodes: 4, allocationStateTransitionTime: 'then' }, 'resizing');
    expect(autoScaleResize(resizing, { dedicated: 1, lowPriority: 0, deallocation: 'requeue' }, T0)).toMatchObject({ targetDedicatedNodes: 1, resizeGeneration: 4, allocationStateTransitionTime: 'then' });
    expect(autoScaleResize({ ...resizing, nodeDeallocationOption: 'requeue' }, { dedicated: 4, lowPriority: 0, deallocation: 'requeue' }, T0).resizeGeneration).toBe(3);
    const stopping = auto({}, 'stopping');
    expect(autoScaleResize(stopping, { dedicated: 9, lowPriority: 0, deallocation: 'requeue' }, T0)).toBe(stopping);
    const manual = pool();
    expect(autoScaleResize(manual, { dedicated: 9, lowPriority: 0, deallocation: 'requeue' }, T0)).toBe(manual);
  });
});

describe('schedule and creation', () => {
  it('is due once the next evaluation time has come, only while active and enabled', () => {
    const p = pool({ enableAutoScale: true, autoScaleFormula: 'x', nextAutoScaleEvaluation: at(5000).toISOString() });
    expect(isEvaluationDue(p, at(4999))).toBe(false);
    expect(isEvaluationDue(p, at(5000))).toBe(true);
    expect(isEvaluationDue({ ...p, state: 'deleting' }, at(5000))).toBe(false);
    expect(isEvaluationDue({ ...p, enableAutoScale: false }, at(5000))).toBe(false);
  });

  it('advances on the grid of the last enable, skipping missed evaluations', () => {
    const p = pool({ nextAutoScaleEvaluation: at(300_000).toISOString() });
    expect(nextEvaluationAfter(p, at(300_000), 300)).toBe(at(600_000).toISOString());
    expect(nextEvaluationAfter(p, at(1_000_000), 300)).toBe(at(1_200_000).toISOString());
  });

  it('evaluates at creation: the formula gives the initial size, a failing one gives 0', () => {
    const auto = { ...newPool({ ...spec, enableAutoScale: true, autoScaleFormula: '$TargetDedicatedNodes = 2', autoScaleEvaluationInterval: 'PT5M' }, T0) };
    expect(withInitialAutoScale(auto, T0, () => 0.5)).toMatchObject({ targetDedicatedNodes: 2, nodeDeallocationOption: 'requeue', nextAutoScaleEvaluation: at(300_000).toISOString(), autoScaleRun: { timestamp: T0.toISOString() } });
    const failing = withInitialAutoScale({ ...auto, autoScaleFormula: '$TargetDedicatedNodes = max($PendingTasks.GetSample(1))' }, T0, () => 0.5);
    expect(failing.targetDedicatedNodes).toBe(0);
    expect(failing.autoScaleRun?.error?.values?.[0]?.value).toMatch(/Insufficient data/);
    const manual = newPool(spec, T0);
    expect(withInitialAutoScale(manual, T0, () => 0.5)).toBe(manual);
  });
});
