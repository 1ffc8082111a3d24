/**
 * The Azure Batch autoscale formula language: parse, evaluate, and report like AutoScaleRun.
 * Pure code, no I/O; the clock and the random source come in through AutoscaleInputs.
 *
 * - parseFormula throws FormulaError: AutoScalingFormulaSyntaxError (with line/col) or
 *   AutoScalingFormulaTooLong (> 8 KB or > 100 statements). Names are not resolved at parse time:
 *   as in Azure, `$something_useless` parses and fails at evaluation with
 *   `Line 1, Col 1: Undefined symbol: $something_useless`.
 * - evaluateFormula never throws for formula problems; it returns `error` and keeps the current targets.
 * - evaluateText = parse + evaluate and never throws; a parse failure also becomes `error`
 *   (code AutoScalingFormulaEvaluationError, as the outcome type allows, with message
 *   SYNTAX_ERROR_MESSAGE or TOO_LONG_MESSAGE; the FormulaError's own text, e.g.
 *   `Line 2, Col 7: Unexpected ')'…`, is in error.values[0].value). Callers that must answer
 *   400 AutoScalingFormulaSyntaxError / AutoScalingFormulaTooLong call parseFormula first.
 */
import type { Formula } from './ast';
import { evaluateFormula, failedOutcome } from './evaluator';
import { parseFormula } from './parser';
import type { AutoscaleInputs, AutoscaleOutcome } from './types';

export type { BinaryOp, Expr, Formula, Statement, UnaryOp } from './ast';
export { FormulaError, type FormulaErrorCode, type Pos } from './errors';
export {
  DEFAULT_MAX_STEPS, DEFAULT_MAX_VECTOR_LENGTH, EVALUATION_ERROR_MESSAGE, SYNTAX_ERROR_MESSAGE, TOO_LONG_MESSAGE, evaluateFormula,
} from './evaluator';
export { MAX_FORMULA_BYTES, MAX_NESTING, MAX_STATEMENTS, parseFormula } from './parser';
export { formatDouble, formatValue } from './results';
export {
  DEALLOCATION_OPTIONS, SAMPLED_METRICS, SAMPLE_PERIOD_MS, TIME_INTERVALS,
  type AutoscaleInputs, type AutoscaleLimits, type AutoscaleOutcome, type CurrentValues,
  type NodeDeallocationOption, type Sample, type Value, type ValueType,
} from './types';

export function evaluateText(text: string, inputs: AutoscaleInputs): AutoscaleOutcome {
  let formula: Formula;
  try {
    formula = parseFormula(text);
  } catch (err) {
    return failedOutcome(inputs, err);
  }
  return evaluateFormula(formula, inputs);
}
