import { invalidQuery } from './errors';

/**
 * Tokens of the `$filter` language. `pos` is the 0-based offset of the token's first character.
 * Keywords are not distinguished here: `and`, `eq`, `true`, `startswith`… are `ident` tokens and the
 * parser compares them case-insensitively, while property names stay case-sensitive.
 */
export type Token =
  | { kind: 'ident'; text: string; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; text: string; pos: number }
  | { kind: 'datetime'; value: string; pos: number }
  | { kind: '(' | ')' | ','; pos: number }
  | { kind: 'eof'; pos: number };

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;
const SPACE = /\s/;

function fail(text: string, pos: number, reason: string): never {
  throw invalidQuery('$filter', text, reason, pos + 1);
}

/** Reads a quoted string starting at `start` (the opening quote); `''` is an escaped quote. */
function readQuoted(text: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  for (;;) {
    const q = text.indexOf("'", i);
    if (q < 0) fail(text, start, 'unterminated string literal');
    value += text.slice(i, q);
    if (text[q + 1] === "'") {
      value += "'";
      i = q + 2;
    } else {
      return { value, end: q + 1 };
    }
  }
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (SPACE.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, pos: i });
      i++;
    } else if (c === "'") {
      const s = readQuoted(text, i);
      tokens.push({ kind: 'string', value: s.value, pos: i });
      i = s.end;
    } else if (DIGIT.test(c) || (c === '-' && DIGIT.test(text.charAt(i + 1)))) {
      let j = i + 1;
      while (DIGIT.test(text.charAt(j))) j++;
      if (IDENT_PART.test(text.charAt(j)) || text.charAt(j) === '.') {
        fail(text, i, 'invalid numeric literal (only integers are supported)');
      }
      tokens.push({ kind: 'number', text: text.slice(i, j), pos: i });
      i = j;
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      for (;;) {
        while (IDENT_PART.test(text.charAt(j))) j++;
        if (text.charAt(j) === '/' && IDENT_START.test(text.charAt(j + 1))) j += 2;
        else break;
      }
      const word = text.slice(i, j);
      if (word.toLowerCase() === 'datetime' && text.charAt(j) === "'") {
        const s = readQuoted(text, j);
        tokens.push({ kind: 'datetime', value: s.value, pos: i });
        i = s.end;
      } else {
        if (text.charAt(j) === '/') fail(text, j, 'invalid property path');
        tokens.push({ kind: 'ident', text: word, pos: i });
        i = j;
      }
    } else {
      fail(text, i, `unexpected character '${c}'`);
    }
  }
  tokens.push({ kind: 'eof', pos: text.length });
  return tokens;
}
