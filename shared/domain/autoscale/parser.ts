/**
 * Recursive-descent parser for autoscale formulas.
 *
 * Grammar (precedence low → high; C-like, since the seed documents no precedence):
 *   formula    := (statement? (';' | line break))* statement?
 *   statement  := NAME '=' expr | expr
 *   expr       := or ('?' expr ':' expr)?              (right-associative ternary)
 *   or         := and ('||' and)*
 *   and        := equality ('&&' equality)*
 *   equality   := relational (('==' | '!=') relational)*
 *   relational := additive (('<' | '<=' | '>' | '>=') additive)*
 *   additive   := term (('+' | '-') term)*
 *   term       := unary (('*' | '/') unary)*
 *   unary      := ('-' | '!') unary | postfix
 *   postfix    := primary ('.' NAME ('(' args ')')?)*
 *   primary    := NUMBER | STRING | NAME ('(' args ')')? | '(' expr ')' | '[' args ']'
 *
 * Statements are separated by ';' (the seed: "separated by semicolons"). Line breaks are
 * whitespace inside a statement (the seed's CPU formula spreads one statement over three lines),
 * but a line break also ends a statement when the next token cannot continue it, so
 * `$a = 1 <newline> $b = 2` is two statements. The last statement may omit its ';'.
 *
 * Limits: 8 KB of UTF-8 and 100 statements (AutoScalingFormulaTooLong, from the seed), and an
 * expression nesting depth of MAX_NESTING (a syntax error; ours, so evaluation cannot blow the stack).
 */
import type { BinaryOp, Expr, Formula, Statement } from './ast';
import { FormulaError, positioned, syntaxError, type Pos } from './errors';
import { tokenize, type Token } from './lexer';

export const MAX_FORMULA_BYTES = 8 * 1024;
export const MAX_STATEMENTS = 100;
export const MAX_NESTING = 128;

export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i += 1;
    } else n += 3;
  }
  return n;
}

export function parseFormula(text: string): Formula {
  if (typeof text !== 'string') throw syntaxError({ line: 1, col: 1 }, 'The formula must be a string');
  const bytes = utf8Length(text);
  if (bytes > MAX_FORMULA_BYTES) {
    throw new FormulaError(
      'AutoScalingFormulaTooLong',
      `The formula is ${bytes} bytes long; at most ${MAX_FORMULA_BYTES} bytes are allowed`,
    );
  }
  return { statements: new Parser(tokenize(text)).formula() };
}

const LEVELS: readonly (readonly BinaryOp[])[] = [
  ['||'],
  ['&&'],
  ['==', '!='],
  ['<', '<=', '>', '>='],
  ['+', '-'],
  ['*', '/'],
];

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of formula';
  if (t.kind === 'string') return `string "${t.text}"`;
  return `'${t.text}'`;
}

class Parser {
  private i = 0;
  private depth = 0;
  private readonly heights = new WeakMap<Expr, number>();

  constructor(private readonly toks: readonly Token[]) {}

  formula(): Statement[] {
    const out: Statement[] = [];
    while (this.peek().kind !== 'eof') {
      if (this.eatOp(';')) continue;
      const stmt = this.statement();
      out.push(stmt);
      if (out.length > MAX_STATEMENTS) {
        throw new FormulaError(
          'AutoScalingFormulaTooLong',
          positioned(stmt.pos, `The formula has more than ${MAX_STATEMENTS} statements`),
          stmt.pos.line,
          stmt.pos.col,
        );
      }
      const t = this.peek();
      if (this.eatOp(';') || t.kind === 'eof' || t.nlBefore) continue;
      throw syntaxError(t.pos, `Unexpected ${describe(t)}; expected ';' or a line break`);
    }
    if (out.length === 0) throw syntaxError(this.peek().pos, 'The formula has no statements');
    return out;
  }

  private statement(): Statement {
    const t = this.peek();
    const after = this.toks[this.i + 1];
    if (t.kind === 'ident' && after?.kind === 'op' && after.text === '=') {
      this.i += 2;
      return { kind: 'assign', name: t.text, value: this.expr(), pos: t.pos };
    }
    return { kind: 'expr', expr: this.expr(), pos: t.pos };
  }

  private expr(): Expr {
    this.enter();
    const cond = this.binary(0);
    let result = cond;
    const q = this.peek();
    if (this.eatOp('?')) {
      const then = this.expr();
      this.expectOp(':', q.pos);
      const otherwise = this.expr();
      result = this.node({ kind: 'ternary', cond, then, otherwise, pos: cond.pos }, cond, then, otherwise);
    }
    this.depth -= 1;
    return result;
  }

  private binary(level: number): Expr {
    const ops = LEVELS[level];
    if (ops === undefined) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      const op = ops.find((o) => t.kind === 'op' && t.text === o);
      if (op === undefined) return left;
      this.i += 1;
      const right = this.binary(level + 1);
      left = this.node({ kind: 'binary', op, left, right, pos: left.pos, opPos: t.pos }, left, right);
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '!')) {
      this.i += 1;
      this.enter();
      const operand = this.unary();
      this.depth -= 1;
      return this.node({ kind: 'unary', op: t.text, operand, pos: t.pos }, operand);
    }
    return this.postfix();
  }

  private postfix(): Expr {
    let target = this.primary();
    while (this.eatOp('.')) {
      const name = this.next();
      if (name.kind !== 'ident' || name.text.startsWith('$')) {
        throw syntaxError(name.pos, `Unexpected ${describe(name)}; expected a member or method name after '.'`);
      }
      if (this.isOp(this.peek(), '(')) {
        const args = this.args(')');
        target = this.node({ kind: 'method', target, name: name.text, args, pos: target.pos, namePos: name.pos }, target, ...args);
      } else {
        target = this.node({ kind: 'member', target, name: name.text, pos: target.pos, namePos: name.pos }, target);
      }
    }
    return target;
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.kind) {
      case 'number':
        return this.node({ kind: 'number', value: t.num, pos: t.pos });
      case 'string':
        return this.node({ kind: 'string', value: t.text, pos: t.pos });
      case 'ident': {
        if (!this.isOp(this.peek(), '(')) return this.node({ kind: 'ident', name: t.text, pos: t.pos });
        const args = this.args(')');
        return this.node({ kind: 'call', name: t.text, args, pos: t.pos }, ...args);
      }
      case 'op':
        if (t.text === '(') {
          const inner = this.expr();
          this.expectOp(')', t.pos);
          return inner;
        }
        if (t.text === '[') {
          this.i -= 1;
          const items = this.args(']');
          return this.node({ kind: 'vector', items, pos: t.pos }, ...items);
        }
        break;
      case 'eof':
        break;
    }
    throw syntaxError(t.pos, `Unexpected ${describe(t)}; expected an expression`);
  }

  /** Parses `( a, b, … )` or `[ a, b, … ]`; the current token is the opening bracket. */
  private args(close: ')' | ']'): Expr[] {
    const open = this.next();
    const out: Expr[] = [];
    if (this.eatOp(close)) return out;
    for (;;) {
      out.push(this.expr());
      if (this.eatOp(',')) continue;
      this.expectOp(close, open.pos);
      return out;
    }
  }

  private node(e: Expr, ...children: Expr[]): Expr {
    let h = 0;
    for (const c of children) h = Math.max(h, this.heights.get(c) ?? 0);
    if (h + 1 > MAX_NESTING) throw syntaxError(e.pos, `The expression is nested too deeply (limit ${MAX_NESTING})`);
    this.heights.set(e, h + 1);
    return e;
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > MAX_NESTING) throw syntaxError(this.peek().pos, `The expression is nested too deeply (limit ${MAX_NESTING})`);
  }

  private peek(): Token {
    return this.toks[Math.min(this.i, this.toks.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i += 1;
    return t;
  }

  private isOp(t: Token, text: string): boolean {
    return t.kind === 'op' && t.text === text;
  }

  private eatOp(text: string): boolean {
    if (!this.isOp(this.peek(), text)) return false;
    this.i += 1;
    return true;
  }

  private expectOp(text: string, openedAt: Pos): void {
    const t = this.peek();
    if (this.eatOp(text)) return;
    const opener = text === ':' ? '?' : text === ')' ? '(' : '[';
    throw syntaxError(
      t.pos,
      `Unexpected ${describe(t)}; expected '${text}' to match '${opener}' at Line ${openedAt.line}, Col ${openedAt.col}`,
    );
  }
}
