/**
 * FormulaError: the one error type of the autoscale formula language. Syntax and size problems
 * are thrown by `parseFormula`; evaluation problems are thrown inside the evaluator and turned
 * into `AutoscaleOutcome.error` by `evaluateFormula`, which never throws for formula problems.
 */
export type FormulaErrorCode =
  | 'AutoScalingFormulaSyntaxError'
  | 'AutoScalingFormulaTooLong'
  | 'AutoScalingFormulaEvaluationError';

/** A 1-based source position. */
export interface Pos {
  readonly line: number;
  readonly col: number;
}

export class FormulaError extends Error {
  constructor(
    readonly code: FormulaErrorCode,
    message: string,
    readonly line?: number,
    readonly col?: number,
  ) {
    super(message);
    this.name = 'FormulaError';
  }
}

/** Builds the Azure-style message `Line 1, Col 1: Undefined symbol: $x`. */
export function positioned(pos: Pos | undefined, detail: string): string {
  return pos ? `Line ${pos.line}, Col ${pos.col}: ${detail}` : detail;
}

export function syntaxError(pos: Pos, detail: string): FormulaError {
  return new FormulaError('AutoScalingFormulaSyntaxError', positioned(pos, detail), pos.line, pos.col);
}

export function evalError(pos: Pos | undefined, detail: string): FormulaError {
  return new FormulaError('AutoScalingFormulaEvaluationError', positioned(pos, detail), pos?.line, pos?.col);
}
