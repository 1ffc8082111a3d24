import { describe, expect, it } from 'vitest';
import type { FilterSchema } from '../../shared/api/odata';
import { matches, parseFilter, readPath } from '../../shared/api/odata';

const ALL = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const;

/** Every type with every comparison (and startswith on the string), to exercise evaluation exhaustively. */
const schema: FilterSchema = {
  s: { type: 'string', ops: ['startswith', ...ALL] },
  n: { type: 'int' },
  b: { type: 'bool', ops: [...ALL] },
  d: { type: 'datetime' },
  e: { type: 'enum', ops: [...ALL], values: ['alpha', 'beta', 'gamma'] },
  'x/y': { type: 'int' },
  alias: { type: 'int', path: 'real' },
};

const entity = {
  s: 'Banana',
  n: 5,
  b: true,
  d: '2011-05-08T08:49:37.123Z',
  e: 'Beta',
  x: { y: -3 },
  real: 7,
};

const check = (filter: string, expected: boolean, target: unknown = entity) =>
  expect(matches(parseFilter(filter, schema), target), filter).toBe(expected);

describe('matches: every operator on every type', () => {
  const cases: [string, boolean][] = [
    // string: case-insensitive, ordinal order of the lower-cased values
    ["s eq 'banana'", true],
    ["s eq 'BANANA'", true],
    ["s eq 'banan'", false],
    ["s ne 'banana'", false],
    ["s ne 'apple'", true],
    ["s gt 'apple'", true],
    ["s gt 'BANANA'", false],
    ["s gt 'banan'", true],
    ["s ge 'Banana'", true],
    ["s ge 'bananas'", false],
    ["s lt 'cherry'", true],
    ["s lt 'banana'", false],
    ["s le 'BANANA'", true],
    ["s le 'apple'", false],
    ["startswith(s, 'BAN')", true],
    ["startswith(s, 'banana')", true],
    ["startswith(s, 'bananas')", false],
    ["startswith(s, 'nan')", false],
    ["startswith(s, '')", true],
    // int
    ['n eq 5', true],
    ['n eq 4', false],
    ['n ne 5', false],
    ['n ne -5', true],
    ['n gt 4', true],
    ['n gt 5', false],
    ['n ge 5', true],
    ['n ge 6', false],
    ['n lt 6', true],
    ['n lt 5', false],
    ['n le 5', true],
    ['n le 4', false],
    // bool (false < true)
    ['b eq true', true],
    ['b eq false', false],
    ['b ne false', true],
    ['b ne true', false],
    ['b gt false', true],
    ['b gt true', false],
    ['b ge true', true],
    ['b lt true', false],
    ['b le true', true],
    ['b le false', false],
    ['b', true],
    ['not b', false],
    // datetime: compared as instants, any literal form
    ["d eq DateTime'2011-05-08T08:49:37.123Z'", true],
    ["d eq DateTime'2011-05-08T08:49:37.1230000Z'", true],
    ["d eq DateTime'2011-05-08T10:49:37.123+02:00'", true],
    ["d eq DateTime'2011-05-08T08:49:37Z'", false],
    ["d ne DateTime'2011-05-08T08:49:37Z'", true],
    ["d ne DateTime'2011-05-08T08:49:37.123Z'", false],
    ["d gt DateTime'Sun, 08 May 2011 08:49:37 GMT'", true],
    ["d gt DateTime'2011-05-08T08:49:37.1230001Z'", false],
    ["d ge DateTime'2011-05-08T08:49:37.123Z'", true],
    ["d ge DateTime'2011-05-08T08:49:37.1231Z'", false],
    ["d lt DateTime'2011-05-08T08:49:37.1230001Z'", true],
    ["d lt DateTime'2011-05-08T08:49:37.123Z'", false],
    ["d le DateTime'2011-05-08T08:49:37.123Z'", true],
    ["d le DateTime'2011-05-08'", false],
    ["d gt DateTime'0001-01-01T00:00:00Z' and d lt DateTime'9999-12-31T23:59:59.9999999Z'", true],
    // enum: case-insensitive on both sides
    ["e eq 'beta'", true],
    ["e eq 'BETA'", true],
    ["e eq 'alpha'", false],
    ["e ne 'beta'", false],
    ["e ne 'gamma'", true],
    ["e gt 'alpha'", true],
    ["e ge 'gamma'", false],
    ["e lt 'gamma'", true],
    ["e le 'Beta'", true],
    ["e le 'alpha'", false],
    // nested path, negative ints
    ['x/y eq -3', true],
    ['x/y lt -2', true],
    ['x/y gt -3', false],
    // a property whose entity path differs from its filter name
    ['alias eq 7', true],
    // logic
    ["s eq 'banana' and n eq 5", true],
    ["s eq 'banana' and n eq 4", false],
    ["s eq 'apple' and n eq 5", false],
    ["s eq 'apple' or n eq 5", true],
    ["s eq 'banana' or n eq 4", true],
    ["s eq 'apple' or n eq 4", false],
    ["not s eq 'apple'", true],
    ["not (s eq 'banana' or n eq 4)", false],
    ["not startswith(s,'ban')", false],
    ["startswith(s,'x') eq false", true],
    ["(n lt 0) or (n gt 0)", true],
  ];
  it.each(cases)('%s → %s', (filter, expected) => check(filter, expected));
});

describe('matches: missing, null and mistyped values', () => {
  const empty = {};
  const filters = [
    "s eq 'a'",
    "s ne 'a'",
    "s gt 'a'",
    "s le 'z'",
    "startswith(s, '')",
    'n eq 0',
    'n ne 0',
    'n ge -100',
    'b eq true',
    'b ne true',
    'b',
    "d ne DateTime'2011-05-08T08:49:37Z'",
    "d lt DateTime'9999-01-01T00:00:00Z'",
    "e ne 'alpha'",
    'x/y ne 0',
    'alias ne 0',
  ];
  it.each(filters)('%s is false on a missing value, and true under not', (f) => {
    check(f, false, empty);
    check(`not (${f})`, true, empty);
  });
  const nulls = { s: null, n: null, b: null, d: null, e: null, x: null, real: null };
  it.each(filters)('%s is false on null values', (f) => check(f, false, nulls));
  const mistyped = { s: 5, n: '5', b: 'true', d: 'yesterday', e: 1, x: { y: '1' }, real: true };
  it.each(filters)('%s is false on values of the wrong JSON type', (f) => check(f, false, mistyped));

  it('does not walk through arrays, primitives or inherited properties', () => {
    check('x/y eq 1', false, { x: [{ y: 1 }] });
    check('x/y eq 1', false, { x: 1 });
    check('x/y eq 1', false, Object.create({ x: { y: 1 } }));
    check('x/y eq 1', false, null);
    check('x/y eq 1', false, 'string entity');
    expect(readPath({ a: { b: { c: 3 } } }, 'a/b/c')).toBe(3);
    expect(readPath({ a: { b: 3 } }, 'a/b/c')).toBeUndefined();
  });
});

describe('matches: entity date/time representations', () => {
  const lit = "d eq DateTime'2011-05-08T08:49:37.123Z'";
  it.each([
    ['toISOString form', '2011-05-08T08:49:37.123Z', true],
    ['7 fractional digits', '2011-05-08T08:49:37.1230000Z', true],
    ['offset form', '2011-05-08T09:49:37.123+01:00', true],
    ['RFC 1123 (no milliseconds)', 'Sun, 08 May 2011 08:49:37 GMT', false],
    ['Date object', new Date('2011-05-08T08:49:37.123Z'), true],
    ['invalid Date', new Date(Number.NaN), false],
    ['not a date', '2011-13-08T08:49:37.123', false],
    ['invalid ISO date', '2011-02-30T08:49:37.123Z', false],
    ['year zero', '0000-05-08T08:49:37.123Z', false],
    ['epoch number', Date.parse('2011-05-08T08:49:37.123Z'), false],
  ] as [string, unknown, boolean][])('%s', (_name, d, expected) => check(lit, expected, { d }));

  it('keeps sub-millisecond ticks of entity values', () => {
    check("d gt DateTime'2011-05-08T08:49:37.123Z'", true, { d: '2011-05-08T08:49:37.1230001Z' });
    check("d lt DateTime'2011-05-08T08:49:37.1230002Z'", true, { d: '2011-05-08T08:49:37.1230001Z' });
  });
});
