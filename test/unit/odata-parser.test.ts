import { describe, expect, it } from 'vitest';
import { BatchError } from '../../shared/errors';
import type { FilterExpr, FilterSchema } from '../../shared/api/odata';
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, SCHEMAS, parseFilter, parseFilterParam } from '../../shared/api/odata';

/** Compact S-expression of a parsed filter, for table-driven assertions. */
function show(e: FilterExpr): string {
  switch (e.kind) {
    case 'and':
    case 'or':
      return `(${e.kind} ${show(e.left)} ${show(e.right)})`;
    case 'not':
      return `(not ${show(e.operand)})`;
    case 'startswith':
      return `(startswith ${e.property} ${JSON.stringify(e.prefix)})`;
    case 'compare': {
      const v = e.value.type === 'string' ? JSON.stringify(e.value.value) : String(e.value.value);
      return `(${e.op} ${e.property} ${v})`;
    }
  }
}

const S = SCHEMAS;

describe('parseFilter: accepted grammar', () => {
  const cases: [string, FilterSchema, string][] = [
    ["state eq 'active'", S.tasks, '(eq state "active")'],
    ["state eq 'Active'", S.tasks, '(eq state "Active")'],
    ["state ne 'completed'", S.tasks, '(ne state "completed")'],
    ["id gt 'a'", S.tasks, '(gt id "a")'],
    ["id ge 'a'", S.tasks, '(ge id "a")'],
    ["id lt 'a'", S.tasks, '(lt id "a")'],
    ["id le 'a'", S.tasks, '(le id "a")'],
    // keywords are case-insensitive
    ["state EQ 'active' AND id Ne 'x'", S.tasks, '(and (eq state "active") (ne id "x"))'],
    ["NOT (state eq 'active')", S.tasks, '(not (eq state "active"))'],
    ["StartsWith(id,'a') Or state eq 'running'", S.tasks, '(or (startswith id "a") (eq state "running"))'],
    ['enableAutoScale eq TRUE', S.pools, '(eq enableAutoScale true)'],
    ['enableAutoScale ne False', S.pools, '(ne enableAutoScale false)'],
    // precedence: not > and > or, left associative
    ["id eq 'a' or id eq 'b' and id eq 'c'", S.tasks, '(or (eq id "a") (and (eq id "b") (eq id "c")))'],
    ["id eq 'a' and id eq 'b' or id eq 'c'", S.tasks, '(or (and (eq id "a") (eq id "b")) (eq id "c"))'],
    ["id eq 'a' and id eq 'b' and id eq 'c'", S.tasks, '(and (and (eq id "a") (eq id "b")) (eq id "c"))'],
    ["not id eq 'a' and id eq 'b'", S.tasks, '(and (not (eq id "a")) (eq id "b"))'],
    ["not not id eq 'a'", S.tasks, '(not (not (eq id "a")))'],
    ["(id eq 'a' or id eq 'b') and id eq 'c'", S.tasks, '(and (or (eq id "a") (eq id "b")) (eq id "c"))'],
    ["((((id eq 'a'))))", S.tasks, '(eq id "a")'],
    ["(state eq 'active')and(id eq 'x')", S.tasks, '(and (eq state "active") (eq id "x"))'],
    ["\t state  eq\n'active' ", S.tasks, '(eq state "active")'],
    // string literals: '' escapes a quote; empty strings
    ["id eq 'it''s'", S.tasks, `(eq id "it's")`],
    ["id eq ''''", S.tasks, `(eq id "'")`],
    ["id eq ''", S.tasks, '(eq id "")'],
    ["id eq 'a and b or (c)'", S.tasks, '(eq id "a and b or (c)")'],
    ["id eq 'ünï cødé'", S.tasks, '(eq id "ünï cødé")'],
    // integers, negative and at the Int32 bounds
    ['executionInfo/exitCode eq 0', S.tasks, '(eq executionInfo/exitCode 0)'],
    ['executionInfo/exitCode lt -1', S.tasks, '(lt executionInfo/exitCode -1)'],
    ['executionInfo/exitCode ge -2147483648', S.tasks, '(ge executionInfo/exitCode -2147483648)'],
    ['executionInfo/exitCode le 2147483647', S.tasks, '(le executionInfo/exitCode 2147483647)'],
    // booleans: a bool property alone is a predicate
    ['enableAutoScale', S.pools, '(eq enableAutoScale true)'],
    ['not enableAutoScale', S.pools, '(not (eq enableAutoScale true))'],
    ["enableAutoScale and state eq 'active'", S.pools, '(and (eq enableAutoScale true) (eq state "active"))'],
    ['(enableInterNodeCommunication)', S.pools, '(eq enableInterNodeCommunication true)'],
    // startswith, also in the OData v3 `eq true` form
    ["startswith(id, 'renderTask')", S.tasks, '(startswith id "renderTask")'],
    ["startswith( id ,'' )", S.tasks, '(startswith id "")'],
    ["startswith(id,'a') eq true", S.tasks, '(startswith id "a")'],
    ["startswith(id,'a') eq false", S.tasks, '(not (startswith id "a"))'],
    ["startswith(id,'a') ne true", S.tasks, '(not (startswith id "a"))'],
    ["startswith(name, 'wd/')", S.files, '(startswith name "wd/")'],
    ["startswith(executionInfo/poolId, 'p')", S.jobs, '(startswith executionInfo/poolId "p")'],
    // enum values are matched case-insensitively against the documented set
    ["state eq 'WAITINGFORSTARTTASK'", S.nodes, '(eq state "WAITINGFORSTARTTASK")'],
    ["startTaskInfo/result ne 'failure'", S.nodes, '(ne startTaskInfo/result "failure")'],
  ];
  it.each(cases)('%s', (text, schema, expected) => {
    expect(show(parseFilter(text, schema))).toBe(expected);
  });

  it('records the entity path separately when the documented name differs (tasks lastModifiedTime)', () => {
    const e = parseFilter("lastModifiedTime gt DateTime'2020-01-01T00:00:00Z'", S.tasks);
    expect(e).toMatchObject({ kind: 'compare', property: 'lastModifiedTime', path: 'lastModified', type: 'datetime' });
  });
});

describe('parseFilter: DateTime literals', () => {
  const cases: [string, string][] = [
    ['2011-05-08T08:49:37Z', '2011-05-08T08:49:37.0000000Z'],
    ['2011-05-08t08:49:37z', '2011-05-08T08:49:37.0000000Z'],
    ['2011-05-08T08:49:37.5Z', '2011-05-08T08:49:37.5000000Z'],
    ['2011-05-08T08:49:37.123Z', '2011-05-08T08:49:37.1230000Z'],
    ['2011-05-08T08:49:37.1234567Z', '2011-05-08T08:49:37.1234567Z'],
    ['2011-05-08T08:49:37.123456789Z', '2011-05-08T08:49:37.1234567Z'],
    ['2011-05-08T08:49:37', '2011-05-08T08:49:37.0000000Z'],
    ['2011-05-08T08:49Z', '2011-05-08T08:49:00.0000000Z'],
    ['2011-05-08', '2011-05-08T00:00:00.0000000Z'],
    ['2011-05-08T10:49:37+02:00', '2011-05-08T08:49:37.0000000Z'],
    ['2011-05-08T00:19:37-0830', '2011-05-08T08:49:37.0000000Z'],
    ['2011-05-08T23:30:00.9999999-01:00', '2011-05-09T00:30:00.9999999Z'],
    ['2012-02-29T00:00:00Z', '2012-02-29T00:00:00.0000000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.0000000Z'],
    ['Sun, 08 May 2011 08:49:37 GMT', '2011-05-08T08:49:37.0000000Z'],
    ['sun, 8 may 2011 08:49:37 gmt', '2011-05-08T08:49:37.0000000Z'],
    ['08 May 2011 08:49:37 GMT', '2011-05-08T08:49:37.0000000Z'],
    ['Sun, 08 May 2011 08:49 UTC', '2011-05-08T08:49:00.0000000Z'],
  ];
  it.each(cases)("DateTime'%s'", (lit, canonical) => {
    const e = parseFilter(`creationTime ge DateTime'${lit}'`, S.jobs);
    expect(e).toMatchObject({ kind: 'compare', value: { type: 'datetime', value: canonical } });
  });
  it('accepts the DateTime keyword in any case', () => {
    expect(parseFilter("creationTime ge datetime'2011-05-08T08:49:37Z'", S.jobs)).toMatchObject({ kind: 'compare' });
    expect(parseFilter("creationTime ge DATETIME'2011-05-08T08:49:37Z'", S.jobs)).toMatchObject({ kind: 'compare' });
  });
});

function errorOf(fn: () => unknown): BatchError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BatchError) return err;
    throw err;
  }
  throw new Error('expected a BatchError');
}

describe('parseFilter: errors are 400 InvalidQueryParameterValue naming the position', () => {
  const cases: [string, FilterSchema, number, RegExp][] = [
    ["State eq 'active'", S.tasks, 1, /property 'State'.*case-sensitive.*'state'/],
    ["state eq 'active' and Id eq 'x'", S.tasks, 23, /property 'Id'/],
    ["priority eq 1", S.jobs, 1, /property 'priority'/],
    ["constructor eq 'x'", S.tasks, 1, /property 'constructor'/],
    ["__proto__ eq 'x'", S.tasks, 1, /property '__proto__'/],
    ["id eq 'x'", S.subtasks, 1, /property 'id'/],
    ["state eq 5", S.tasks, 10, /type enum.*integer literal/],
    ["state eq 'bogus'", S.tasks, 10, /'bogus' is not a valid value/],
    ["state eq 'idle'", S.tasks, 10, /'idle' is not a valid value/],
    ["state eq active", S.tasks, 10, /cannot be compared with 'active'/],
    ["state gt 'active'", S.tasks, 7, /operator 'gt' is not supported.*eq, ne/],
    ["startTaskInfo/state ne 'running'", S.nodes, 21, /operator 'ne'/],
    ["name eq 'x'", S.files, 6, /operator 'eq'/],
    ["poolId ne 'x'", S.nodeCounts, 8, /operator 'ne'/],
    ["startswith(state, 'a')", S.tasks, 1, /startswith is not supported for property 'state'/],
    ["startswith(vmSize, 'a')", S.pools, 1, /startswith is not supported/],
    ["id eq 5", S.tasks, 7, /type string.*integer literal/],
    ["executionInfo/exitCode eq '5'", S.tasks, 27, /type int.*string literal/],
    ['executionInfo/exitCode eq true', S.tasks, 27, /type int.*boolean literal/],
    ['executionInfo/exitCode eq 1.5', S.tasks, 27, /only integers/],
    ['executionInfo/exitCode eq 12abc', S.tasks, 27, /only integers/],
    ['executionInfo/exitCode eq 2147483648', S.tasks, 27, /out of range/],
    ['executionInfo/exitCode eq -2147483649', S.tasks, 27, /out of range/],
    ["enableAutoScale eq 'true'", S.pools, 20, /type bool.*string literal/],
    ['enableAutoScale eq 1', S.pools, 20, /type bool.*integer literal/],
    ["stateTransitionTime gt '2011-05-08T08:49:37Z'", S.tasks, 24, /type datetime.*string literal/],
    ["creationTime gt DateTime'not a date'", S.jobs, 17, /not a valid/],
    ["creationTime gt DateTime'2011-02-29T00:00:00Z'", S.jobs, 17, /out of range/],
    ["creationTime gt DateTime'2011-05-08T24:00:00Z'", S.jobs, 17, /out of range/],
    ["creationTime gt DateTime'2011-05-08T08:49:37+15:00'", S.jobs, 17, /offset/],
    ["creationTime gt DateTime'Mon, 08 May 2011 08:49:37 GMT'", S.jobs, 17, /day of the week/],
    ["creationTime gt DateTime'Sun, 08 Foo 2011 08:49:37 GMT'", S.jobs, 17, /not a valid/],
    ["creationTime gt DateTime'2011-05-08T08:49:37Z", S.jobs, 25, /unterminated/],
    ["creationTime gt DateTime '2011-05-08T08:49:37Z'", S.jobs, 17, /cannot be compared with 'DateTime'/],
    ["id eq 'abc", S.tasks, 7, /unterminated string/],
    ["id eq 'it''s", S.tasks, 7, /unterminated string/],
    ["id eq 'a' extra", S.tasks, 11, /unexpected 'extra' after the end/],
    ["id eq 'a')", S.tasks, 10, /unexpected '\)' after the end/],
    ["id eq 'a' id eq 'b'", S.tasks, 11, /unexpected 'id'/],
    ["(id eq 'a'", S.tasks, 11, /missing '\)'/],
    ["(id eq 'a' 'b')", S.tasks, 12, /expected '\)' but found a string literal/],
    ['id', S.tasks, 3, /expected a comparison operator after 'id' but found the end/],
    ['id eq', S.tasks, 6, /expected a value after 'eq'/],
    ["id has 'a'", S.tasks, 4, /expected a comparison operator after 'id' but found 'has'/],
    ["id eq 'a' and", S.tasks, 14, /unexpected end/],
    ["id eq 'a' or or id eq 'b'", S.tasks, 14, /expected a property name/],
    ['not', S.tasks, 4, /unexpected end/],
    ['()', S.tasks, 2, /expected a property name.*'\)'/],
    ["id eq 'a' && id eq 'b'", S.tasks, 11, /unexpected character '&'/],
    ["id eq \"a\"", S.tasks, 7, /unexpected character '"'/],
    ["executionInfo/ eq 1", S.tasks, 14, /invalid property path/],
    ["startswith(id 'a')", S.tasks, 15, /expected ','/],
    ["startswith(id, 5)", S.tasks, 16, /startswith expects a string literal/],
    ["startswith(id, 'a'", S.tasks, 19, /expected '\)'/],
    ["startswith('a', id)", S.tasks, 12, /expected a property name/],
    ["startswith(id, 'a') eq 'x'", S.tasks, 24, /only be compared with true or false/],
    ["startswith(nope, 'a')", S.tasks, 12, /property 'nope'/],
    ['', S.tasks, 1, /empty/],
    ['   ', S.tasks, 1, /empty/],
  ];
  it.each(cases.map(([t, s, p, r]) => [t, p, s, r] as const))('%s → position %i', (text, position, schema, reason) => {
    const err = errorOf(() => parseFilter(text, schema));
    expect(err.code).toBe('InvalidQueryParameterValue');
    expect(err.status).toBe(400);
    expect(err.message).toContain(`position ${position}:`);
    expect(err.values).toEqual([
      { key: 'QueryParameterName', value: '$filter' },
      { key: 'QueryParameterValue', value: text },
      { key: 'Reason', value: expect.stringMatching(reason) },
    ]);
    expect(err.values[2]?.value).toContain(`position ${position}:`);
  });

  it(`limits the length to ${MAX_FILTER_LENGTH} characters`, () => {
    const clause = "id eq 'aaaaaaaa' or ";
    const ok = `${clause.repeat(Math.floor((MAX_FILTER_LENGTH - 20) / clause.length))}id eq 'b'`;
    expect(ok.length).toBeLessThanOrEqual(MAX_FILTER_LENGTH);
    expect(() => parseFilter(ok, S.tasks)).not.toThrow();
    const tooLong = `${ok}${' '.repeat(MAX_FILTER_LENGTH + 1 - ok.length)}`;
    const err = errorOf(() => parseFilter(tooLong, S.tasks));
    expect(err.message).toContain(`position ${MAX_FILTER_LENGTH + 1}:`);
    expect(err.message).toMatch(/longer than/);
  });

  it(`limits nesting to ${MAX_FILTER_DEPTH} levels of parentheses or not`, () => {
    const nest = (n: number) => `${'('.repeat(n)}id eq 'a'${')'.repeat(n)}`;
    expect(show(parseFilter(nest(MAX_FILTER_DEPTH), S.tasks))).toBe('(eq id "a")');
    const err = errorOf(() => parseFilter(nest(MAX_FILTER_DEPTH + 1), S.tasks));
    expect(err.message).toMatch(/nested more than/);
    expect(err.message).toContain(`position ${MAX_FILTER_DEPTH + 2}:`);
    expect(() => parseFilter(`${'not '.repeat(MAX_FILTER_DEPTH)}id eq 'a'`, S.tasks)).not.toThrow();
    expect(errorOf(() => parseFilter(`${'not '.repeat(MAX_FILTER_DEPTH + 1)}id eq 'a'`, S.tasks)).message).toMatch(/nested/);
    expect(errorOf(() => parseFilter(`${'('.repeat(5000)}`, S.tasks)).code).toBe('InvalidQueryParameterValue');
  });

  it('parseFilterParam treats absent or blank as no filter', () => {
    expect(parseFilterParam(undefined, S.tasks)).toBeUndefined();
    expect(parseFilterParam('  ', S.tasks)).toBeUndefined();
    expect(parseFilterParam("state eq 'active'", S.tasks)).toMatchObject({ kind: 'compare' });
    expect(() => parseFilterParam('State eq 1', S.tasks)).toThrow(BatchError);
  });
});
