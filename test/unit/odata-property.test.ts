import { describe, expect, it } from 'vitest';
import type { ColumnMap, FilterSchema } from '../../shared/api/odata';
import { matches, parseFilter, toTableFilter } from '../../shared/api/odata';

/*
 * Property test: for random filters over random entities, the Table filter that toTableFilter emits,
 * evaluated over the stored row by an independent evaluator with Table semantics, selects a superset of
 * what `matches` accepts — and exactly the same entities whenever it reports exact=true.
 */

// ---- deterministic PRNG --------------------------------------------------------------------------
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
let rnd = mulberry32(1);
const pick = <T>(xs: readonly T[]): T => {
  const x = xs[Math.floor(rnd() * xs.length)];
  if (x === undefined) throw new Error('empty choice');
  return x;
};
const chance = (p: number) => rnd() < p;

// ---- a tiny, independent evaluator of the Table filters we emit -----------------------------------
type Cell = string | number | boolean | Date;
type Row = Record<string, Cell>;
type Tok = { k: 'word' | 'str' | 'num' | 'dt' | '(' | ')'; v: string };

function lexTable(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const quoted = (start: number): [string, number] => {
    let s = '';
    let j = start + 1;
    for (;;) {
      const q = src.indexOf("'", j);
      if (q < 0) throw new Error(`bad table filter: ${src}`);
      s += src.slice(j, q);
      if (src[q + 1] === "'") {
        s += "'";
        j = q + 2;
      } else return [s, q + 1];
    }
  };
  while (i < src.length) {
    const c = src.charAt(i);
    if (c === ' ') i++;
    else if (c === '(' || c === ')') {
      out.push({ k: c, v: c });
      i++;
    }
    else if (c === "'") {
      const [v, end] = quoted(i);
      out.push({ k: 'str', v });
      i = end;
    } else if (src.startsWith("datetime'", i)) {
      const [v, end] = quoted(i + 8);
      out.push({ k: 'dt', v });
      i = end;
    } else {
      const m = /^-?\d+(\.\d+)?|^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
      if (!m) throw new Error(`bad table filter at ${i}: ${src}`);
      out.push({ k: /^[-\d]/.test(m[0]) ? 'num' : 'word', v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

function evalTable(src: string, row: Row): boolean {
  const toks = lexTable(src);
  let p = 0;
  const peek = () => toks[p];
  const take = (): Tok => {
    const t = toks[p++];
    if (!t) throw new Error(`unexpected end: ${src}`);
    return t;
  };
  const cmp = (a: Cell | undefined, op: string, lit: Tok): boolean => {
    let x: number | string;
    let y: number | string;
    if (a === undefined) return false; // absent properties never match, `ne` included
    if (lit.k === 'str' && typeof a === 'string') [x, y] = [a, lit.v];
    else if (lit.k === 'num' && typeof a === 'number') [x, y] = [a, Number(lit.v)];
    else if (lit.k === 'word' && typeof a === 'boolean') [x, y] = [Number(a), lit.v === 'true' ? 1 : 0];
    else if (lit.k === 'dt' && a instanceof Date) [x, y] = [a.getTime(), Date.parse(lit.v)];
    else return false;
    const c = x < y ? -1 : x > y ? 1 : 0;
    return { eq: c === 0, ne: c !== 0, gt: c > 0, ge: c >= 0, lt: c < 0, le: c <= 0 }[op] ?? false;
  };
  const unary = (): boolean => {
    const t = take();
    if (t.k === 'word' && t.v === 'not') return !unary();
    if (t.k === '(') {
      const v = or();
      if (take().k !== ')') throw new Error(`missing ) in ${src}`);
      return v;
    }
    const op = take().v;
    return cmp(row[t.v], op, take());
  };
  const and = (): boolean => {
    let v = unary();
    while (peek()?.v === 'and') {
      take();
      v = unary() && v;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (peek()?.v === 'or') {
      take();
      v = and() || v;
    }
    return v;
  };
  const v = or();
  if (p !== toks.length) throw new Error(`trailing tokens in ${src}`);
  return v;
}

// ---- random filters and entities ------------------------------------------------------------------
const ALL = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const;
const schema: FilterSchema = {
  s: { type: 'string', ops: ['startswith', ...ALL] },
  u: { type: 'string', ops: ['startswith', ...ALL] }, // not stored: never pushed down
  e: { type: 'enum', ops: [...ALL], values: ['alpha', 'beta', 'gamma'] },
  n: { type: 'int', ops: [...ALL] },
  b: { type: 'bool', ops: [...ALL] },
  d: { type: 'datetime', ops: [...ALL] },
  'x/y': { type: 'int', ops: [...ALL] },
};
const columns: ColumnMap = {
  s: { column: 's' },
  e: { column: 'e', encode: (v) => String(v).toLowerCase() },
  n: { column: 'n' },
  b: { column: 'b' },
  d: { column: 'd' },
  'x/y': { column: 'xy' },
};

const STRINGS = ['', 'a', 'A', 'ab', 'aB', 'Ab', 'abc', 'b', 'ba', "a'b", "'", 'é', 'É', 'z', '{', 'a\uffff', 'aa', 'B'];
const ENUMS = ['alpha', 'Alpha', 'BETA', 'gamma'];
const BASE = Date.UTC(2020, 0, 1, 12, 0, 0);
const INSTANTS = [-2000, -1000, -1, 0, 1, 999, 1000, 2000].map((d) => BASE + d);

function dateLiteral(): string {
  const ms = pick(INSTANTS);
  const iso = new Date(ms).toISOString();
  switch (pick(['iso', 'ticks', 'offset', 'rfc', 'noms'] as const)) {
    case 'iso':
      return iso;
    case 'ticks': // sub-millisecond precision, as .NET's "o" format
      return `${iso.slice(0, -1)}${pick(['0000', '0001', '5000', '9999'])}Z`;
    case 'offset': {
      const local = new Date(ms + 90 * 60_000).toISOString();
      return `${local.slice(0, -1)}+01:30`;
    }
    case 'rfc':
      return new Date(ms).toUTCString(); // second precision
    case 'noms':
      return iso.replace(/\.\d{3}Z$/, 'Z');
  }
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

function leaf(): string {
  const prop = pick(Object.keys(schema));
  if ((prop === 's' || prop === 'u') && chance(0.25)) return `startswith(${prop}, ${quote(pick(STRINGS))})`;
  if (prop === 'b' && chance(0.2)) return 'b';
  const op = pick(ALL);
  switch (prop) {
    case 's':
    case 'u':
      return `${prop} ${op} ${quote(pick(STRINGS))}`;
    case 'e':
      return `e ${op} ${quote(pick(ENUMS))}`;
    case 'n':
    case 'x/y':
      return `${prop} ${op} ${Math.floor(rnd() * 7) - 3}`;
    case 'b':
      return `b ${op} ${pick(['true', 'false', 'TRUE'])}`;
    default:
      return `d ${op} DateTime'${dateLiteral()}'`;
  }
}

function filter(depth: number): string {
  if (depth <= 0 || chance(0.35)) return leaf();
  switch (pick(['and', 'and', 'or', 'or', 'not', 'paren'] as const)) {
    case 'not':
      return `not (${filter(depth - 1)})`;
    case 'paren':
      return `(${filter(depth - 1)})`;
    case 'and':
      return `${filter(depth - 1)} and ${filter(depth - 1)}`;
    case 'or':
      return `(${filter(depth - 1)}) or (${filter(depth - 1)})`;
  }
}

function entity(): Record<string, unknown> {
  const ent: Record<string, unknown> = {};
  const maybe = (key: string, make: () => unknown) => {
    if (chance(0.2)) return;
    ent[key] = chance(0.05) ? null : make();
  };
  maybe('s', () => pick(STRINGS));
  maybe('u', () => pick(STRINGS));
  maybe('e', () => pick(ENUMS));
  maybe('n', () => Math.floor(rnd() * 7) - 3);
  maybe('b', () => chance(0.5));
  maybe('d', () => (chance(0.8) ? new Date(pick(INSTANTS)).toISOString() : new Date(pick(INSTANTS))));
  maybe('x', () => (chance(0.8) ? { y: Math.floor(rnd() * 7) - 3 } : {}));
  return ent;
}

/** What the caller stores: lower-cased strings/enums, typed others, absent for null/missing. */
function storedRow(ent: Record<string, unknown>): Row {
  const row: Row = {};
  if (typeof ent.s === 'string') row.s = ent.s.toLowerCase();
  if (typeof ent.e === 'string') row.e = ent.e.toLowerCase();
  if (typeof ent.n === 'number') row.n = ent.n;
  if (typeof ent.b === 'boolean') row.b = ent.b;
  if (typeof ent.d === 'string' || ent.d instanceof Date) row.d = new Date(ent.d);
  const x = ent.x as { y?: unknown } | null | undefined;
  if (x != null && typeof x.y === 'number') row.xy = x.y;
  return row;
}

describe('toTableFilter agrees with matches', () => {
  it('the table evaluator understands the filters we emit', () => {
    expect(evalTable("s ge 'a''b' and (n lt -1 or b eq true)", { s: "a'c", n: 0, b: true })).toBe(true);
    expect(evalTable("d gt datetime'2020-01-01T00:00:00.000Z'", { d: new Date('2020-01-01T00:00:00.001Z') })).toBe(true);
    expect(evalTable("s ne 'x'", {})).toBe(false);
  });

  it.each([1, 2, 3, 4])('random filters, seed %i', (seed) => {
    rnd = mulberry32(seed);
    const entities = Array.from({ length: 40 }, entity);
    const rows = entities.map(storedRow);
    let exact = 0;
    let pushed = 0;
    let selected = 0;
    for (let i = 0; i < 600; i++) {
      const text = filter(3);
      const expr = parseFilter(text, schema);
      const t = toTableFilter(expr, columns);
      if (t.exact) exact++;
      if (t.filter !== undefined) pushed++;
      expect(t.filter !== undefined || !t.exact, text).toBe(true);
      entities.forEach((ent, k) => {
        const m = matches(expr, ent);
        if (m) selected++;
        const row = rows[k] ?? {};
        const tv = t.filter === undefined ? true : evalTable(t.filter, row);
        const ctx = `${text}\n→ ${t.filter} (exact=${t.exact})\nentity ${JSON.stringify(ent)}`;
        if (m) expect(tv, `superset violated: ${ctx}`).toBe(true);
        if (t.exact) expect(tv, `exact mismatch: ${ctx}`).toBe(m);
      });
    }
    // the generator must exercise both outcomes, not only trivial ones
    expect(exact).toBeGreaterThan(100);
    expect(pushed - exact).toBeGreaterThan(50);
    expect(selected).toBeGreaterThan(1000);
  });
});
