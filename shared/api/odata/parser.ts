import type { ComparisonOp, FilterExpr, Literal } from './ast';
import { COMPARISON_OPS } from './ast';
import { parseDateTimeText } from './datetime';
import { invalidQuery } from './errors';
import type { Token } from './lexer';
import { tokenize } from './lexer';
import type { FilterSchema, PropertySpec } from './schema';
import { allowedOps, isAllowed, lookupProperty } from './schema';

/** Longest accepted `$filter` value, in characters. */
export const MAX_FILTER_LENGTH = 8192;
/** Deepest accepted nesting of parentheses and `not`. */
export const MAX_FILTER_DEPTH = 32;

const RESERVED = new Set(['and', 'or', 'not', 'eq', 'ne', 'gt', 'ge', 'lt', 'le', 'true', 'false']);
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/*
 * Grammar (keywords case-insensitive, property names case-sensitive):
 *   filter  := or EOF
 *   or      := and ('or' and)*
 *   and     := unary ('and' unary)*
 *   unary   := 'not' unary | primary
 *   primary := '(' or ')'
 *            | 'startswith' '(' property ',' string ')' [('eq' | 'ne') bool]
 *            | property op literal
 *            | property                      -- a bool property alone means `property eq true`
 *   op      := 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'
 *   literal := string | integer | 'true' | 'false' | DateTime'…'
 */
class Parser {
  private i = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
    private readonly schema: FilterSchema,
  ) {}

  parse(): FilterExpr {
    const expr = this.parseOr(0);
    const tok = this.peek();
    if (tok.kind !== 'eof') this.fail(tok, `unexpected ${describe(tok)} after the end of the expression`);
    return expr;
  }

  private peek(offset = 0): Token {
    const t = this.tokens[Math.min(this.i + offset, this.tokens.length - 1)];
    if (t === undefined) throw new Error('tokenizer always ends with eof');
    return t;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private fail(tok: Token, reason: string): never {
    throw invalidQuery('$filter', this.text, reason, tok.pos + 1);
  }

  private expect(kind: '(' | ')' | ',', context: string): void {
    const tok = this.next();
    if (tok.kind !== kind) this.fail(tok, `expected '${kind}' ${context} but found ${describe(tok)}`);
  }

  private parseOr(depth: number): FilterExpr {
    let left = this.parseAnd(depth);
    while (isWord(this.peek(), 'or')) {
      this.next();
      left = { kind: 'or', left, right: this.parseAnd(depth) };
    }
    return left;
  }

  private parseAnd(depth: number): FilterExpr {
    let left = this.parseUnary(depth);
    while (isWord(this.peek(), 'and')) {
      this.next();
      left = { kind: 'and', left, right: this.parseUnary(depth) };
    }
    return left;
  }

  private parseUnary(depth: number): FilterExpr {
    const tok = this.peek();
    if (depth > MAX_FILTER_DEPTH) this.fail(tok, `the expression is nested more than ${MAX_FILTER_DEPTH} levels deep`);
    if (isWord(tok, 'not')) {
      this.next();
      return { kind: 'not', operand: this.parseUnary(depth + 1) };
    }
    return this.parsePrimary(depth);
  }

  private parsePrimary(depth: number): FilterExpr {
    const tok = this.peek();
    if (tok.kind === '(') {
      this.next();
      const inner = this.parseOr(depth + 1);
      const close = this.peek();
      if (close.kind !== ')') {
        this.fail(close, close.kind === 'eof' ? "missing ')'" : `expected ')' but found ${describe(close)}`);
      }
      this.next();
      return inner;
    }
    if (isWord(tok, 'startswith') && this.peek(1).kind === '(') return this.parseStartsWith();
    if (tok.kind === 'ident') return this.parseComparison();
    return this.fail(
      tok,
      tok.kind === 'eof' ? 'unexpected end of the filter' : `expected a property name, 'not', 'startswith' or '(' but found ${describe(tok)}`,
    );
  }

  private property(tok: Token): { name: string; spec: PropertySpec } {
    if (tok.kind !== 'ident') return this.fail(tok, `expected a property name but found ${describe(tok)}`);
    const spec = lookupProperty(this.schema, tok.text);
    if (spec) return { name: tok.text, spec };
    if (RESERVED.has(tok.text.toLowerCase())) return this.fail(tok, `expected a property name but found '${tok.text}'`);
    const hint = Object.keys(this.schema).find((k) => k.toLowerCase() === tok.text.toLowerCase());
    return this.fail(
      tok,
      hint === undefined
        ? `the property '${tok.text}' is not supported in $filter for this resource`
        : `the property '${tok.text}' is not supported in $filter for this resource (property names are case-sensitive: '${hint}')`,
    );
  }

  private parseComparison(): FilterExpr {
    const propTok = this.next();
    const { name, spec } = this.property(propTok);
    const path = spec.path ?? name;
    const opTok = this.peek();
    const op = opTok.kind === 'ident' ? (opTok.text.toLowerCase() as ComparisonOp) : undefined;
    if (op === undefined || !COMPARISON_OPS.includes(op)) {
      if (spec.type === 'bool' && isAllowed(spec, 'eq') && isBoundary(opTok)) {
        return { kind: 'compare', op: 'eq', property: name, path, type: spec.type, value: { type: 'bool', value: true } };
      }
      return this.fail(opTok, `expected a comparison operator after '${name}' but found ${describe(opTok)}`);
    }
    if (!isAllowed(spec, op)) {
      const ops = allowedOps(spec).join(', ');
      this.fail(opTok, `the operator '${op}' is not supported for property '${name}' (supported: ${ops})`);
    }
    this.next();
    return { kind: 'compare', op, property: name, path, type: spec.type, value: this.literal(name, spec, op) };
  }

  private literal(name: string, spec: PropertySpec, op: string): Literal {
    const tok = this.next();
    const mismatch = (): never =>
      this.fail(
        tok,
        tok.kind === 'eof'
          ? `expected a value after '${op}'`
          : `property '${name}' of type ${spec.type} cannot be compared with ${describe(tok)}`,
      );
    switch (spec.type) {
      case 'string':
        return tok.kind === 'string' ? { type: 'string', value: tok.value } : mismatch();
      case 'enum': {
        if (tok.kind !== 'string') return mismatch();
        const values = spec.values ?? [];
        if (!values.some((v) => v.toLowerCase() === tok.value.toLowerCase())) {
          this.fail(tok, `'${tok.value}' is not a valid value for property '${name}' (expected one of: ${values.join(', ')})`);
        }
        return { type: 'string', value: tok.value };
      }
      case 'int': {
        if (tok.kind !== 'number') return mismatch();
        const n = Number(tok.text);
        if (!Number.isSafeInteger(n) || n < INT32_MIN || n > INT32_MAX) {
          this.fail(tok, `the integer ${tok.text} is out of range for property '${name}' (Int32)`);
        }
        return { type: 'int', value: n };
      }
      case 'bool':
        if (isWord(tok, 'true')) return { type: 'bool', value: true };
        if (isWord(tok, 'false')) return { type: 'bool', value: false };
        return mismatch();
      case 'datetime': {
        if (tok.kind !== 'datetime') return mismatch();
        const parsed = parseDateTimeText(tok.value);
        if (!parsed.ok) return this.fail(tok, parsed.reason);
        return { type: 'datetime', value: parsed.value };
      }
    }
  }

  private parseStartsWith(): FilterExpr {
    const fnTok = this.next();
    this.expect('(', "after 'startswith'");
    const { name, spec } = this.property(this.next());
    if (!isAllowed(spec, 'startswith')) {
      this.fail(fnTok, `startswith is not supported for property '${name}' (supported: ${allowedOps(spec).join(', ')})`);
    }
    this.expect(',', 'between the arguments of startswith');
    const arg = this.next();
    if (arg.kind !== 'string') this.fail(arg, `startswith expects a string literal but found ${describe(arg)}`);
    this.expect(')', 'after the arguments of startswith');
    const expr: FilterExpr = { kind: 'startswith', property: name, path: spec.path ?? name, type: spec.type, prefix: arg.value };
    // OData v3 clients often write `startswith(id,'x') eq true`.
    const opTok = this.peek();
    if (isWord(opTok, 'eq') || isWord(opTok, 'ne')) {
      this.next();
      const b = this.next();
      if (!isWord(b, 'true') && !isWord(b, 'false')) this.fail(b, `startswith can only be compared with true or false`);
      const wanted = isWord(b, 'true') === isWord(opTok, 'eq');
      return wanted ? expr : { kind: 'not', operand: expr };
    }
    return expr;
  }
}

function isWord(tok: Token, word: string): boolean {
  return tok.kind === 'ident' && tok.text.toLowerCase() === word;
}

/** Tokens that may follow a complete predicate. */
function isBoundary(tok: Token): boolean {
  return tok.kind === 'eof' || tok.kind === ')' || isWord(tok, 'and') || isWord(tok, 'or');
}

function describe(tok: Token): string {
  switch (tok.kind) {
    case 'ident':
      return isWord(tok, 'true') || isWord(tok, 'false') ? `the boolean literal ${tok.text}` : `'${tok.text}'`;
    case 'string':
      return 'a string literal';
    case 'number':
      return 'an integer literal';
    case 'datetime':
      return 'a DateTime literal';
    case 'eof':
      return 'the end of the filter';
    default:
      return `'${tok.kind}'`;
  }
}

/**
 * Parses a `$filter` value against the filterable properties of one list operation.
 * Throws `BatchError('InvalidQueryParameterValue')` (400) naming the 1-based position of the problem.
 */
export function parseFilter(text: string, schema: FilterSchema): FilterExpr {
  if (text.length > MAX_FILTER_LENGTH) {
    throw invalidQuery('$filter', text, `the filter is longer than ${MAX_FILTER_LENGTH} characters`, MAX_FILTER_LENGTH + 1);
  }
  if (text.trim() === '') throw invalidQuery('$filter', text, 'the filter is empty', 1);
  return new Parser(text, tokenize(text), schema).parse();
}

/** `parseFilter` for an optional query parameter: absent or blank means "no filter". */
export function parseFilterParam(text: string | undefined, schema: FilterSchema): FilterExpr | undefined {
  return text === undefined || text.trim() === '' ? undefined : parseFilter(text, schema);
}
