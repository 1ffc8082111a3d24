import { describe, expect, it } from 'vitest';
import type { Expr, Formula, Statement } from '../../shared/domain/autoscale';
import { FormulaError, MAX_NESTING, parseFormula } from '../../shared/domain/autoscale';
import { tokenize } from '../../shared/domain/autoscale/lexer';

function show(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return String(e.value);
    case 'string':
      return JSON.stringify(e.value);
    case 'ident':
      return e.name;
    case 'vector':
      return `[${e.items.map(show).join(' ')}]`;
    case 'unary':
      return `(${e.op} ${show(e.operand)})`;
    case 'binary':
      return `(${e.op} ${show(e.left)} ${show(e.right)})`;
    case 'ternary':
      return `(? ${show(e.cond)} ${show(e.then)} ${show(e.otherwise)})`;
    case 'call':
      return `(${[e.name, ...e.args.map(show)].join(' ')})`;
    case 'method':
      return `(.${e.name} ${[show(e.target), ...e.args.map(show)].join(' ')})`;
    case 'member':
      return `(.${e.name} ${show(e.target)})`;
  }
}
const stmt = (s: Statement): string => (s.kind === 'assign' ? `(= ${s.name} ${show(s.value)})` : show(s.expr));
const tree = (f: Formula): string => f.statements.map(stmt).join('; ');

function parseError(text: string): FormulaError {
  try {
    parseFormula(text);
  } catch (err) {
    if (err instanceof FormulaError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`);
}

describe('lexer', () => {
  it.each([
    ['$TargetDedicatedNodes=3', ['ident:$TargetDedicatedNodes', 'op:=', 'number:3']],
    ['a_1 = .5 + 1.25e2 - 3E-1', ['ident:a_1', 'op:=', 'number:.5', 'op:+', 'number:1.25e2', 'op:-', 'number:3E-1']],
    ['x <= y >= z == w != v && u || !t', ['ident:x', 'op:<=', 'ident:y', 'op:>=', 'ident:z', 'op:==', 'ident:w', 'op:!=', 'ident:v', 'op:&&', 'ident:u', 'op:||', 'op:!', 'ident:t']],
    ['time("Fri, 14 Oct 2016 18:36:43 GMT")', ['ident:time', 'op:(', 'string:Fri, 14 Oct 2016 18:36:43 GMT', 'op:)']],
    ['"a\\"b\\\\c"', ['string:a"b\\c']],
    ['$curTime.hour ? 5:1; // trailing comment', ['ident:$curTime', 'op:.', 'ident:hour', 'op:?', 'number:5', 'op::', 'number:1', 'op:;']],
    ['[1, 2]', ['op:[', 'number:1', 'op:,', 'number:2', 'op:]']],
  ])('%s', (text, want) => {
    expect(tokenize(text).filter((t) => t.kind !== 'eof').map((t) => `${t.kind}:${t.text}`)).toEqual(want);
  });

  it('tracks 1-based lines and columns across \\n, \\r\\n and comments, and flags line breaks', () => {
    const toks = tokenize('a = 1 // c\r\n  $b\n\tc');
    expect(toks.map((t) => [t.text, t.pos.line, t.pos.col, t.nlBefore])).toEqual([
      ['a', 1, 1, false], ['=', 1, 3, false], ['1', 1, 5, false], ['$b', 2, 3, true], ['c', 3, 2, true], ['', 3, 3, false],
    ]);
  });

  it.each([
    ['a = 1 # 2', 1, 7, "Unexpected character '#'"],
    ['a = 1 & 2', 1, 7, "Unexpected character '&'"],
    ['a = $', 1, 5, "Unexpected character '$'"],
    ['a = "open\nb', 1, 5, 'Unterminated string literal'],
    ['a = 12abc', 1, 5, "Invalid number '12a'"],
  ])('rejects %j at line %i col %i', (text, line, col, detail) => {
    const err = parseError(text);
    expect(err.code).toBe('AutoScalingFormulaSyntaxError');
    expect([err.line, err.col]).toEqual([line, col]);
    expect(err.message).toBe(`Line ${line}, Col ${col}: ${detail}`);
  });
});

describe('parser: every construct', () => {
  it.each([
    ['$TargetDedicatedNodes=3', '(= $TargetDedicatedNodes 3)'],
    ['$something_useless', '$something_useless'],
    ['lifespan = 1', '(= lifespan 1)'],
    ['a = 1 + 2 * 3 - 4 / 5', '(= a (- (+ 1 (* 2 3)) (/ 4 5)))'],
    ['a = (1 + 2) * 3', '(= a (* (+ 1 2) 3))'],
    ['a = 1 - 2 - 3', '(= a (- (- 1 2) 3))'],
    ['a = -b * !c', '(= a (* (- b) (! c)))'],
    ['a = - - 1', '(= a (- (- 1)))'],
    ['a = x < 1 == y >= 2', '(= a (== (< x 1) (>= y 2)))'],
    ['a = p || q && r', '(= a (|| p (&& q r)))'],
    ['a = p && q == r', '(= a (&& p (== q r)))'],
    ['a = c ? 1 : 2', '(= a (? c 1 2))'],
    ['a = c ? d ? 1 : 2 : e ? 3 : 4', '(= a (? c (? d 1 2) (? e 3 4)))'],
    ['a = x > 0? x:max(0, y/2)', '(= a (? (> x 0) x (max 0 (/ y 2))))'],
    ['a = time()', '(= a (time))'],
    ['a = avg(v, 7)', '(= a (avg v 7))'],
    ['a = "str"', '(= a "str")'],
    ['a = [1, 2, b]', '(= a [1 2 b])'],
    ['a = []', '(= a [])'],
    ['a = $CPUPercent.GetSample(TimeInterval_Minute * 10, 95)', '(= a (.GetSample $CPUPercent (* TimeInterval_Minute 10) 95))'],
    ['a = $X.Count()', '(= a (.Count $X))'],
    ['a = time().weekday == 1', '(= a (== (.weekday (time)) 1))'],
    ['a = $curTime.hour', '(= a (.hour $curTime))'],
    ['a = 1;;; b = 2;', '(= a 1); (= b 2)'],
    ['a = 1\nb = 2', '(= a 1); (= b 2)'],
    ['a = 1\n-2', '(= a (- 1 2))'],
    ['a =\n  (c) ?\n  1 : 2;', '(= a (? c 1 2))'],
    ['stop()', '(stop)'],
  ])('%j', (text, want) => {
    expect(tree(parseFormula(text))).toBe(want);
  });

  it('records statement and node positions', () => {
    const f = parseFormula('x = 1;\n  $y = x + 2');
    const s = f.statements[1];
    expect(s?.pos).toEqual({ line: 2, col: 3 });
    const v = s?.kind === 'assign' ? s.value : undefined;
    expect(v?.kind === 'binary' ? [v.pos, v.opPos] : undefined).toEqual([{ line: 2, col: 8 }, { line: 2, col: 10 }]);
  });
});

describe('parser: errors carry code, line and column', () => {
  it.each([
    ['$TargetDedicated = {pool.CurrentDedicated};', 1, 20, "Unexpected character '{'"],
    ['a = (1 + 2', 1, 11, "Unexpected end of formula; expected ')' to match '(' at Line 1, Col 5"],
    ['a = c ? 1 2', 1, 11, "Unexpected '2'; expected ':' to match '?' at Line 1, Col 7"],
    ['a = max(1,)', 1, 11, "Unexpected ')'; expected an expression"],
    ['a = [1 2]', 1, 8, "Unexpected '2'; expected ']' to match '[' at Line 1, Col 5"],
    ['a = 1 b = 2', 1, 7, "Unexpected 'b'; expected ';' or a line break"],
    ['a = 1 = 2', 1, 7, "Unexpected '='; expected ';' or a line break"],
    ['a = ', 1, 5, 'Unexpected end of formula; expected an expression'],
    ['a = $x.', 1, 8, "Unexpected end of formula; expected a member or method name after '.'"],
    ['a = $x.$y', 1, 8, "Unexpected '$y'; expected a member or method name after '.'"],
    ['\n\n  a = * 2', 3, 7, "Unexpected '*'; expected an expression"],
    ['', 1, 1, 'The formula has no statements'],
    ['  ;; // nothing', 1, 16, 'The formula has no statements'],
  ])('%j → Line %i, Col %i', (text, line, col, detail) => {
    const err = parseError(text);
    expect(err.code).toBe('AutoScalingFormulaSyntaxError');
    expect(err.message).toBe(`Line ${line}, Col ${col}: ${detail}`);
  });

  it('caps nesting depth (parentheses, unary chains, operator chains) with a syntax error', () => {
    for (const text of [
      `a = ${'('.repeat(4000)}1${')'.repeat(4000)}`,
      `a = ${'-'.repeat(5000)}1`,
      `a = 1${' + 1'.repeat(2000)}`,
      `a = ${'max('.repeat(1600)}1${')'.repeat(1600)}`,
    ]) {
      const err = parseError(text);
      expect(err.code).toBe('AutoScalingFormulaSyntaxError');
      expect(err.message).toContain(`nested too deeply (limit ${MAX_NESTING})`);
    }
    expect(() => parseFormula(`a = ${'('.repeat(60)}1${')'.repeat(60)}`)).not.toThrow();
  });
});

describe('parser: size limits (AutoScalingFormulaTooLong)', () => {
  it('accepts exactly 8 KB and rejects one byte more (UTF-8 bytes, not characters)', () => {
    const base = 'a = 1; //';
    expect(() => parseFormula(base + 'x'.repeat(8192 - base.length))).not.toThrow();
    const err = parseError(base + 'x'.repeat(8193 - base.length));
    expect([err.code, err.message]).toEqual(['AutoScalingFormulaTooLong', 'The formula is 8193 bytes long; at most 8192 bytes are allowed']);
    expect(parseError(base + 'é'.repeat(4100)).code).toBe('AutoScalingFormulaTooLong');
  });

  it('accepts 100 statements and rejects the 101st at its position', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `v${i} = ${i};`);
    expect(parseFormula(lines.join('\n')).statements).toHaveLength(100);
    const err = parseError([...lines, 'last = 1'].join('\n'));
    expect([err.code, err.message]).toEqual(['AutoScalingFormulaTooLong', 'Line 101, Col 1: The formula has more than 100 statements']);
    expect(parseFormula(`a = 1;${';'.repeat(500)}`).statements).toHaveLength(1);
  });
});
