/**
 * Lexer for the autoscale formula language. `//` comments run to the end of the line; line
 * breaks are whitespace but are remembered on the next token (`nlBefore`) so the parser can
 * end a statement at a line break. Strings are double-quoted with `\"` and `\\` escapes.
 */
import { syntaxError, type Pos } from './errors';

export type TokenKind = 'number' | 'string' | 'ident' | 'op' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Source text of the token (for `string`, the decoded value). */
  readonly text: string;
  readonly num: number;
  readonly pos: Pos;
  /** True when a line break separates this token from the previous one. */
  readonly nlBefore: boolean;
}

const OPERATORS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '!', '?', ':', '=', '(', ')', '[', ']', ',', '.', ';'];
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const IDENT = /\$?[A-Za-z_][A-Za-z0-9_]*/y;

function isIdentChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let col = 1;
  let nl = false;
  const advance = (n: number): void => {
    i += n;
    col += n;
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\n' || c === '\r') {
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line += 1;
      col = 1;
      nl = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff') {
      advance(1);
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') advance(1);
      continue;
    }
    const pos: Pos = { line, col };
    const push = (kind: TokenKind, tokText: string, len: number, num = 0): void => {
      tokens.push({ kind, text: tokText, num, pos, nlBefore: nl });
      nl = false;
      advance(len);
    };
    if (/[0-9.]/.test(c) && (c !== '.' || /[0-9]/.test(text[i + 1] ?? ''))) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      const lexeme = m?.[0] ?? '';
      if (lexeme === '' || isIdentChar(text[i + lexeme.length])) {
        throw syntaxError(pos, `Invalid number '${text.slice(i, i + lexeme.length + 1)}'`);
      }
      push('number', lexeme, lexeme.length, Number(lexeme));
      continue;
    }
    if (c === '$' || /[A-Za-z_]/.test(c)) {
      IDENT.lastIndex = i;
      const m = IDENT.exec(text);
      if (!m) throw syntaxError(pos, `Unexpected character '${c}'`);
      push('ident', m[0], m[0].length);
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let value = '';
      for (;;) {
        const d = text[j];
        if (d === undefined || d === '\n' || d === '\r') throw syntaxError(pos, 'Unterminated string literal');
        if (d === '"') break;
        if (d === '\\' && (text[j + 1] === '"' || text[j + 1] === '\\')) {
          value += text[j + 1];
          j += 2;
          continue;
        }
        value += d;
        j += 1;
      }
      push('string', value, j + 1 - i);
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op === undefined) throw syntaxError(pos, `Unexpected character '${c}'`);
    push('op', op, op.length);
  }
  tokens.push({ kind: 'eof', text: '', num: 0, pos: { line, col }, nlBefore: nl });
  return tokens;
}
