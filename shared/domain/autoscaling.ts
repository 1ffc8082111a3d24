/**
 * Pure autoscale rules of a pool (REST Pool_EnableAutoScale / DisableAutoScale / EvaluateAutoScale
 * and the periodic evaluation): settings validation, the enable/disable transitions, the
 * evaluation schedule, and turning an AutoscaleOutcome into the pool's new record. No I/O.
 *
 * Decisions where Azure leaves room (documented here once):
 * - enableautoscale more than once in 30 s per pool → 503 TooManyEnableAutoScaleRequests (the
 *   Batch error-code table lists it as ServiceUnavailable; clients with a retry policy retry it).
 * - enabling on a pool whose autoscale is off while it is resizing → 409 PoolBeingResized ("You
 *   cannot enable automatic scaling on a Pool if a resize operation is in progress").
 * - every enable evaluates at once; a new interval (or enabling a disabled pool) restarts the
 *   schedule from the request time; a formula-only change keeps the schedule.
 * - disable keeps the last target while a resize is in flight, else the pool's current size.
 */
import { parse as parseIsoDuration, toSeconds } from 'iso8601-duration';
import { BatchError } from '../errors';
import { FormulaError, evaluateFormula, parseFormula, type AutoscaleInputs, type AutoscaleOutcome, type Formula, type Sample } from './autoscale';
import type { AutoScaleRun, NodeRecord, PoolRecord } from './model';
import { autoScaleResize } from './pool';

export const DEFAULT_EVALUATION_INTERVAL = 'PT15M';
export const MAX_EVALUATION_INTERVAL_SECONDS = 168 * 3600;
export const ENABLE_RATE_LIMIT_MS = 30_000;

export interface AutoScaleSettings {
  autoScaleFormula?: string;
  autoScaleEvaluationInterval?: string;
}

function invalidSettings(name: string, value: string, reason: string): BatchError {
  return new BatchError('InvalidAutoScalingSettings', 'The specified auto-scaling settings are not valid.', [
    { key: 'PropertyName', value: name }, { key: 'PropertyValue', value }, { key: 'Reason', value: reason },
  ]);
}

/** The interval in seconds; outside [minSeconds, 168 h] or not an ISO 8601 duration → 400 InvalidAutoScalingSettings. */
export function evaluationIntervalSeconds(text: string, minSeconds: number): number {
  let secs: number;
  try {
    secs = toSeconds(parseIsoDuration(text));
  } catch {
    secs = NaN;
  }
  if (!Number.isFinite(secs) || secs < minSeconds || secs > MAX_EVALUATION_INTERVAL_SECONDS) {
    throw invalidSettings('autoScaleEvaluationInterval', text, `The interval must be an ISO 8601 duration between ${minSeconds} seconds and 168 hours.`);
  }
  return secs;
}

/** Parses a formula for a request: syntax → 400 AutoScalingFormulaSyntaxError, size → 400 AutoScalingFormulaTooLong. */
export function checkFormula(text: string): Formula {
  try {
    return parseFormula(text);
  } catch (err) {
    if (!(err instanceof FormulaError)) throw err;
    const detail = [{ key: 'Message', value: err.message }];
    if (err.code === 'AutoScalingFormulaTooLong') throw new BatchError('AutoScalingFormulaTooLong', 'The specified auto-scaling formula exceeds lengths limit.', detail);
    throw new BatchError('AutoScalingFormulaSyntaxError', 'The specified auto-scaling formula has a syntax error.', detail);
  }
}

/** Autoscale settings of a pool add body (enableAutoScale true): formula required and valid, interval in range. */
export function autoScaleSpec(s: AutoScaleSettings, minSeconds: number): { autoScaleFormula: string; autoScaleEvaluationInterval: string } {
  if (s.autoScaleFormula === undefined) {
    throw new BatchError('MissingRequiredProperty', 'A property that is required for this request was not specified.', [{ key: 'PropertyName', value: 'autoScaleFormula' }]);
  }
  checkFormula(s.autoScaleFormula);
  const interval = s.autoScaleEvaluationInterval ?? DEFAULT_EVALUATION_INTERVAL;
  evaluationIntervalSeconds(interval, minSeconds);
  return { autoScaleFormula: s.autoScaleFormula, autoScaleEvaluationInterval: interval };
}

/** enableautoscale: the pool with the new settings (not yet evaluated). */
export function enableAutoScale(p: PoolRecord, s: AutoScaleSettings, now: Date, minSeconds: number): PoolRecord {
  if (p.state === 'deleting') throw new BatchError('PoolBeingDeleted', 'The specified pool has been marked for deletion and is being reclaimed.');
  if (p.autoScaleEnabledAt && now.getTime() - Date.parse(p.autoScaleEnabledAt) < ENABLE_RATE_LIMIT_MS) {
    throw new BatchError('TooManyEnableAutoScaleRequests', 'Too many Enable Pool AutoScale requests are issued on the pool. Requests for the same pool must be separated by at least 30 seconds.');
  }
  if (!p.enableAutoScale) {
    if (s.autoScaleFormula === undefined) {
      throw new BatchError('MissingRequiredProperty', 'A property that is required for this request was not specified.', [{ key: 'PropertyName', value: 'autoScaleFormula' }]);
    }
    if (p.allocationState !== 'steady') throw new BatchError('PoolBeingResized', 'The specified pool is currently being resized.');
  } else if (s.autoScaleFormula === undefined && s.autoScaleEvaluationInterval === undefined) {
    throw invalidSettings('autoScaleFormula', '', 'Specify autoScaleFormula, autoScaleEvaluationInterval or both.');
  }
  if (s.autoScaleFormula !== undefined) checkFormula(s.autoScaleFormula);
  const interval = s.autoScaleEvaluationInterval ?? p.autoScaleEvaluationInterval ?? DEFAULT_EVALUATION_INTERVAL;
  // A kept interval was valid when it was set (the minimum may have been configured lower then).
  const secs = evaluationIntervalSeconds(interval, s.autoScaleEvaluationInterval === undefined ? 1 : minSeconds);
  const restart = !p.enableAutoScale || s.autoScaleEvaluationInterval !== undefined || !p.nextAutoScaleEvaluation;
  const t = now.toISOString();
  return {
    ...p,
    enableAutoScale: true,
    autoScaleFormula: s.autoScaleFormula ?? p.autoScaleFormula,
    autoScaleEvaluationInterval: interval,
    autoScaleEnabledAt: t,
    nextAutoScaleEvaluation: restart ? new Date(now.getTime() + secs * 1000).toISOString() : p.nextAutoScaleEvaluation,
    lastModified: t,
  };
}

/** disableautoscale: autoscale off; the pool keeps its size (or the target of the resize in flight). */
export function disableAutoScale(p: PoolRecord, now: Date): PoolRecord {
  if (p.state === 'deleting') throw new BatchError('PoolBeingDeleted', 'The specified pool has been marked for deletion and is being reclaimed.');
  if (!p.enableAutoScale) return p;
  const steady = p.allocationState === 'steady';
  return {
    ...p,
    enableAutoScale: false,
    autoScaleFormula: undefined,
    autoScaleEvaluationInterval: undefined,
    autoScaleRun: undefined,
    nextAutoScaleEvaluation: undefined,
    targetDedicatedNodes: steady ? p.currentDedicatedNodes : p.targetDedicatedNodes,
    targetLowPriorityNodes: steady ? p.currentLowPriorityNodes : p.targetLowPriorityNodes,
    lastModified: now.toISOString(),
  };
}

/** evaluateautoscale requires autoscale on the pool ("You can't evaluate … on non-autoscale-enabled pool"). */
export function checkEvaluable(p: PoolRecord): void {
  if (!p.enableAutoScale) {
    throw new BatchError('OperationInvalidForCurrentState', 'The specified operation is not valid for the current state of the resource: autoscale is not enabled on the pool.');
  }
}

export function autoScaleRunOf(o: AutoscaleOutcome, now: Date): AutoScaleRun {
  return { timestamp: now.toISOString(), results: o.results, ...(o.error ? { error: o.error } : {}) };
}

/** Records an evaluation; a successful one also applies its targets (a new resize when they change). */
export function applyOutcome(p: PoolRecord, o: AutoscaleOutcome, now: Date): PoolRecord {
  const recorded: PoolRecord = { ...p, autoScaleRun: autoScaleRunOf(o, now) };
  if (o.error) return recorded;
  return autoScaleResize(recorded, { dedicated: o.targetDedicatedNodes, lowPriority: o.targetLowPriorityNodes, deallocation: o.nodeDeallocationOption }, now);
}

/**
 * Pool creation with enableAutoScale: the formula is evaluated at once (a new pool has no nodes
 * and no samples) and its targets are the pool's initial size (0 when the evaluation fails).
 */
export function withInitialAutoScale(p: PoolRecord, now: Date, random: () => number): PoolRecord {
  if (!p.enableAutoScale || p.autoScaleFormula === undefined) return p;
  const secs = evaluationIntervalSeconds(p.autoScaleEvaluationInterval ?? DEFAULT_EVALUATION_INTERVAL, 1);
  const outcome = evaluateFormula(checkFormula(p.autoScaleFormula), autoscaleInputs(p, [], {}, now, random));
  return initialAutoScale(p, outcome, now, secs);
}

export function initialAutoScale(p: PoolRecord, o: AutoscaleOutcome, now: Date, intervalSecs: number): PoolRecord {
  return {
    ...p,
    targetDedicatedNodes: o.error ? 0 : o.targetDedicatedNodes,
    targetLowPriorityNodes: o.error ? 0 : o.targetLowPriorityNodes,
    nodeDeallocationOption: o.nodeDeallocationOption,
    autoScaleRun: autoScaleRunOf(o, now),
    nextAutoScaleEvaluation: new Date(now.getTime() + intervalSecs * 1000).toISOString(),
  };
}

export function isEvaluationDue(p: PoolRecord, now: Date): boolean {
  if (p.state !== 'active' || !p.enableAutoScale || !p.autoScaleFormula) return false;
  return !p.nextAutoScaleEvaluation || Date.parse(p.nextAutoScaleEvaluation) <= now.getTime();
}

/** The next scheduled time strictly after `now`, on the grid started by the last enable (missed runs are skipped). */
export function nextEvaluationAfter(p: PoolRecord, now: Date, intervalSecs: number): string {
  const step = intervalSecs * 1000;
  const from = p.nextAutoScaleEvaluation ? Date.parse(p.nextAutoScaleEvaluation) : now.getTime();
  const behind = Math.max(0, now.getTime() - from);
  return new Date(from + (Math.floor(behind / step) + 1) * step).toISOString();
}

/** The inputs of one evaluation: the pool's targets and node counts now, and its metric samples. */
export function autoscaleInputs(p: PoolRecord, nodes: readonly NodeRecord[], samples: Record<string, Sample[]>, now: Date, random: () => number): AutoscaleInputs {
  return {
    now,
    random,
    samples,
    current: {
      dedicatedNodes: nodes.filter((n) => n.isDedicated).length,
      lowPriorityNodes: nodes.filter((n) => !n.isDedicated).length,
      preemptedNodes: nodes.filter((n) => n.state === 'preempted').length,
      taskSlotsPerNode: p.taskSlotsPerNode,
      targetDedicatedNodes: p.targetDedicatedNodes,
      targetLowPriorityNodes: p.targetLowPriorityNodes,
    },
  };
}
