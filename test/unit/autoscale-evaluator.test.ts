import { describe, expect, it } from 'vitest';
import type { AutoscaleInputs } from '../../shared/domain/autoscale';
import {
  EVALUATION_ERROR_MESSAGE, SYNTAX_ERROR_MESSAGE, TOO_LONG_MESSAGE, evaluateFormula, evaluateText, parseFormula,
} from '../../shared/domain/autoscale';

const NOW = '2016-10-13T19:18:47.805Z';
function inputs(over: Partial<AutoscaleInputs> = {}): AutoscaleInputs {
  return {
    now: new Date(NOW),
    random: () => 0.5,
    samples: {},
    current: { dedicatedNodes: 3, lowPriorityNodes: 1, preemptedNodes: 0, taskSlotsPerNode: 1, targetDedicatedNodes: 2, targetLowPriorityNodes: 1 },
    ...over,
  };
}
const SVC = (td: string, tlp = '1', nda = 'requeue'): string => `$TargetDedicatedNodes=${td};$TargetLowPriorityNodes=${tlp};$NodeDeallocationOption=${nda}`;
const message = (formula: string, over: Partial<AutoscaleInputs> = {}): string | undefined => evaluateText(formula, inputs(over)).error?.values[0]?.value;

describe('read-write service variables', () => {
  it.each([
    ['$TargetDedicatedNodes = 5', SVC('5'), 5, 1],
    ['$TargetDedicated = 5', SVC('5'), 5, 1],
    ['$TargetLowPriorityNodes = 4', SVC('2', '4'), 2, 4],
    ['$TargetLowPriority = 4', SVC('2', '4'), 2, 4],
    ['$TargetDedicatedNodes = 3; $TargetDedicated = 5', SVC('3'), 3, 1],
    ['$TargetDedicated = 5; $TargetDedicatedNodes = 3', SVC('3'), 3, 1],
    ['$TargetDedicated = 5; x = $TargetDedicatedNodes', `${SVC('5')};x=5`, 5, 1],
    ['x = $TargetDedicated + $TargetLowPriorityNodes', `${SVC('2')};x=3`, 2, 1],
    ['$TargetDedicatedNodes = $TargetDedicatedNodes * 2', SVC('4'), 4, 1],
    ['$TargetDedicatedNodes = -5', SVC('-5'), 0, 1],
    ['$TargetDedicatedNodes = 2.999', SVC('2.999'), 2, 1],
    ['$TargetDedicatedNodes = 1e12', SVC('1000000000000'), 2147483647, 1],
    ['x = 1', `${SVC('2')};x=1`, 2, 1],
  ])('%s', (formula, results, td, tlp) => {
    const out = evaluateText(formula, inputs());
    expect(out.error).toBeUndefined();
    expect([out.results, out.targetDedicatedNodes, out.targetLowPriorityNodes]).toEqual([results, td, tlp]);
  });

  it.each([
    ['$TargetDedicatedNodes = [1]', 'Line 1, Col 1: $TargetDedicatedNodes must be assigned a double, not doubleVec'],
    ['$TargetDedicated = "5"', 'Line 1, Col 1: $TargetDedicated must be assigned a double, not string'],
    ['$TargetLowPriorityNodes = 1 / 0', 'Line 1, Col 1: $TargetLowPriorityNodes must be a finite number, not Infinity'],
    ['x = 1;\n  $TargetDedicatedNodes = 0 / 0', 'Line 2, Col 3: $TargetDedicatedNodes must be a finite number, not NaN'],
  ])('%j fails', (formula, want) => {
    expect(message(formula)).toBe(want);
  });
});

describe('$NodeDeallocationOption', () => {
  it.each([
    ['$NodeDeallocationOption = requeue', 'requeue'],
    ['$NodeDeallocationOption = terminate', 'terminate'],
    ['$NodeDeallocationOption = taskcompletion', 'taskcompletion'],
    ['$NodeDeallocationOption = retaineddata', 'retaineddata'],
    ['$NodeDeallocationOption = "TaskCompletion"', 'taskcompletion'],
    ['x = 1', 'requeue'],
  ])('%s', (formula, want) => {
    const out = evaluateText(formula, inputs());
    expect(out.nodeDeallocationOption).toBe(want);
    expect(out.results.startsWith(SVC('2', '1', want))).toBe(true);
  });

  it('reads as a string and compares with strings', () => {
    expect(evaluateText('a = $NodeDeallocationOption; b = a == "requeue"; $NodeDeallocationOption = terminate; c = $NodeDeallocationOption', inputs()).results).toBe(
      `${SVC('2', '1', 'terminate')};a=requeue;b=1;c=terminate`,
    );
  });

  it.each(['"drain"', '5', 'time()'])('rejects %s', (value) => {
    expect(message(`$NodeDeallocationOption = ${value}`)).toBe('Line 1, Col 1: $NodeDeallocationOption must be one of requeue, terminate, taskcompletion, retaineddata');
  });
});

describe('user variables, constants and symbols', () => {
  it('lists user variables in ordinal order, with every value type printed', () => {
    const out = evaluateText('b = 1; $a = "text"; A = TimeInterval_Hour * 1.5; _z = time(); c = [0.5, 2]; $b = 2; b = 3', inputs());
    expect(out.results).toBe(`${SVC('2')};$a=text;$b=2;A=01:30:00;_z=${NOW};b=3;c=[0.5,2]`);
  });

  it('keeps $x and x apart, and names are case-sensitive', () => {
    expect(evaluateText('x = 1; $x = 2; X = x + $x', inputs()).results).toBe(`${SVC('2')};$x=2;X=3;x=1`);
    expect(message('x = 1; y = X')).toBe('Line 1, Col 12: Undefined symbol: X');
  });

  it.each([
    ['TimeInterval_Minute = 1', 'Line 1, Col 1: Cannot assign to constant TimeInterval_Minute'],
    ['requeue = 1', 'Line 1, Col 1: Cannot assign to constant requeue'],
    ['x = 1\ny = 2\n  z = $nothing + 1', 'Line 3, Col 7: Undefined symbol: $nothing'],
    ['x = nothing', 'Line 1, Col 5: Undefined symbol: nothing'],
    ['x = toString', 'Line 1, Col 5: Undefined symbol: toString'],
    ['x = TimeInterval_Fortnight', 'Line 1, Col 5: Undefined symbol: TimeInterval_Fortnight'],
    ['x = y; y = 1', 'Line 1, Col 5: Undefined symbol: y'],
  ])('%j fails', (formula, want) => {
    expect(message(formula)).toBe(want);
  });
});

describe('error outcome', () => {
  it('keeps the current targets and reports only the service variables', () => {
    const out = evaluateText('$TargetDedicatedNodes = 9; $NodeDeallocationOption = terminate; x = 1; y = $nope', inputs());
    expect(out).toEqual({
      targetDedicatedNodes: 2,
      targetLowPriorityNodes: 1,
      nodeDeallocationOption: 'requeue',
      results: SVC('2'),
      error: { code: 'AutoScalingFormulaEvaluationError', message: EVALUATION_ERROR_MESSAGE, values: [{ name: 'Message', value: 'Line 1, Col 76: Undefined symbol: $nope' }] },
    });
  });

  it('evaluateText turns syntax and size errors into the error field', () => {
    const syntax = evaluateText('$TargetDedicatedNodes = (1', inputs());
    expect(syntax.error).toEqual({
      code: 'AutoScalingFormulaEvaluationError',
      message: SYNTAX_ERROR_MESSAGE,
      values: [{ name: 'Message', value: "Line 1, Col 27: Unexpected end of formula; expected ')' to match '(' at Line 1, Col 25" }],
    });
    expect(syntax.results).toBe(SVC('2'));
    const long = evaluateText(`x = 1; // ${'y'.repeat(9000)}`, inputs());
    expect(long.error?.message).toBe(TOO_LONG_MESSAGE);
    expect(long.error?.values[0]?.value).toBe('The formula is 9010 bytes long; at most 8192 bytes are allowed');
  });

  it('reports an invalid clock, and any unexpected failure, without throwing', () => {
    expect(message('x = 1', { now: new Date(NaN) })).toBe('The evaluation time is invalid');
    const boom = (): number => {
      throw new Error('boom');
    };
    expect(message('x = rand()', { random: boom })).toBe('Internal evaluation error: boom');
  });
});

describe('bounds', () => {
  it('stops at the step limit', () => {
    const f = parseFormula(`x = ${Array.from({ length: 60 }, () => '1').join(' + ')}`);
    expect(evaluateFormula(f, inputs({ limits: { maxSteps: 1000 } })).error).toBeUndefined();
    expect(evaluateFormula(f, inputs({ limits: { maxSteps: 50 } })).error?.values[0]?.value).toMatch(/^Line 1, Col \d+: The evaluation exceeded its limit of 50 steps$/);
  });

  it('counts vector elements as steps', () => {
    const f = parseFormula('v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]; s = sum(v, v, v, v)');
    expect(evaluateFormula(f, inputs({ limits: { maxSteps: 200 } })).error).toBeUndefined();
    expect(evaluateFormula(f, inputs({ limits: { maxSteps: 60 } })).error?.values[0]?.value).toContain('exceeded its limit of 60 steps');
  });

  it('stops vectors that double every statement at the vector limit', () => {
    const doubling = ['v = [1]', ...Array.from({ length: 99 }, () => 'v = vec(v, v)')].join(';');
    expect(message(doubling, { limits: { maxVectorLength: 1000 } })).toBe('Line 1, Col 139: The vector built by vec has 1024 elements; the limit is 1000');
    const started = performance.now();
    expect(message(doubling)).toMatch(/The vector built by vec has 1048576 elements; the limit is 1000000|exceeded its limit/);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(message('v = [1, 2]; w = [v, v, v]', { limits: { maxVectorLength: 5 } })).toBe('Line 1, Col 17: The vector built by the vector literal has 6 elements; the limit is 5');
  });

  it('a parsed formula is reusable across inputs', () => {
    const f = parseFormula('$TargetDedicatedNodes = $CurrentDedicatedNodes + 1');
    expect(evaluateFormula(f, inputs()).targetDedicatedNodes).toBe(4);
    const other = inputs();
    other.current.dedicatedNodes = 9;
    expect(evaluateFormula(f, other).targetDedicatedNodes).toBe(10);
  });
});
