import { describe, expect, it } from 'vitest';
import type { ColumnMap, FilterSchema } from '../../shared/api/odata';
import { MAX_TABLE_COMPARISONS, SCHEMAS, parseFilter, tableLiteral, toTableFilter } from '../../shared/api/odata';

const lower = (v: string | number | boolean | Date) => String(v).toLowerCase();

/** The layout a tasks table might use: lower-cased string/enum columns, typed others. */
const taskColumns: ColumnMap = {
  id: { column: 'idLower', encode: lower },
  state: { column: 'state', encode: lower },
  stateTransitionTime: { column: 'stt' },
  lastModified: { column: 'lastModified' },
  'executionInfo/exitCode': { column: 'exitCode' },
  'executionInfo/result': { column: 'result', encode: lower },
};

const push = (filter: string, columns: ColumnMap = taskColumns, schema: FilterSchema = SCHEMAS.tasks) =>
  toTableFilter(parseFilter(filter, schema), columns);

describe('toTableFilter: exact output', () => {
  const cases: [string, string | undefined, boolean][] = [
    ["state eq 'Active'", "state eq 'active'", true],
    ["state ne 'completed'", "state ne 'completed'", true],
    ["id gt 'Task-10'", "idLower gt 'task-10'", true],
    ["id le 'it''s'", "idLower le 'it''s'", true],
    ["id eq ''''", "idLower eq ''''", true],
    ['executionInfo/exitCode lt 0', 'exitCode lt 0', true],
    ['executionInfo/exitCode ge -1', 'exitCode ge -1', true],
    ["stateTransitionTime gt DateTime'2011-05-08T08:49:37Z'", "stt gt datetime'2011-05-08T08:49:37.000Z'", true],
    ["stateTransitionTime le DateTime'Sun, 08 May 2011 08:49:37 GMT'", "stt le datetime'2011-05-08T08:49:37.000Z'", true],
    ["stateTransitionTime eq DateTime'2011-05-08T10:49:37.5+02:00'", "stt eq datetime'2011-05-08T08:49:37.500Z'", true],
    // sub-millisecond literals widen to the millisecond (Table DateTime precision) and stop being exact
    ["stateTransitionTime gt DateTime'2017-02-27T10:11:12.1234567Z'", "stt ge datetime'2017-02-27T10:11:12.123Z'", false],
    ["stateTransitionTime ge DateTime'2017-02-27T10:11:12.1234567Z'", "stt ge datetime'2017-02-27T10:11:12.123Z'", false],
    ["stateTransitionTime lt DateTime'2017-02-27T10:11:12.1234567Z'", "stt le datetime'2017-02-27T10:11:12.123Z'", false],
    ["stateTransitionTime le DateTime'2017-02-27T10:11:12.1234567Z'", "stt le datetime'2017-02-27T10:11:12.123Z'", false],
    ["stateTransitionTime eq DateTime'2017-02-27T10:11:12.1234567Z'", "stt eq datetime'2017-02-27T10:11:12.123Z'", false],
    ["stateTransitionTime ne DateTime'2017-02-27T10:11:12.1234567Z'", undefined, false],
    // a documented alias resolves through its entity path
    ["lastModifiedTime lt DateTime'2020-01-01T00:00:00Z'", "lastModified lt datetime'2020-01-01T00:00:00.000Z'", true],
    // startswith becomes a range over the lower-cased column
    ["startswith(id, 'renderTask')", "idLower ge 'rendertask' and idLower lt 'rendertasl'", true],
    ["startswith(id, 'a''')", "idLower ge 'a''' and idLower lt 'a('", true],
    ["startswith(id, 'z')", "idLower ge 'z' and idLower lt '{'", true],
    ["startswith(id, '')", "idLower ge ''", true],
    ["startswith(id, 'a\uffff')", "idLower ge 'a\uffff' and idLower lt 'b'", true],
    ["startswith(id, '\uffff\uffff')", "idLower ge '\uffff\uffff'", true],
    // and / or / not
    ["(state eq 'running') and startswith(id, 'renderTask')", "state eq 'running' and idLower ge 'rendertask' and idLower lt 'rendertasl'", true],
    ['(executionInfo/exitCode lt 0) or (executionInfo/exitCode gt 0)', 'exitCode lt 0 or exitCode gt 0', true],
    ["state eq 'active' or startswith(id, 'a')", "state eq 'active' or (idLower ge 'a' and idLower lt 'b')", true],
    ["(state eq 'active' or state eq 'running') and executionInfo/exitCode eq 0", "(state eq 'active' or state eq 'running') and exitCode eq 0", true],
    ["state eq 'active' and (id eq 'a' and id eq 'b')", "state eq 'active' and idLower eq 'a' and idLower eq 'b'", true],
    ["(state eq 'active' and id eq 'a') or (state eq 'running' and id eq 'b')", "(state eq 'active' and idLower eq 'a') or (state eq 'running' and idLower eq 'b')", true],
    ["not (state eq 'active')", undefined, false],
    ["not (state eq 'active') and id eq 'x'", "idLower eq 'x'", false],
    ["startswith(id, 'a') eq false", undefined, false],
    ["state eq 'active' or not (id eq 'x')", undefined, false],
    // unmapped properties (creationTime has no column here)
    ["creationTime gt DateTime'2020-01-01T00:00:00Z'", undefined, false],
    ["creationTime gt DateTime'2020-01-01T00:00:00Z' and state eq 'active'", "state eq 'active'", false],
    ["creationTime gt DateTime'2020-01-01T00:00:00Z' or state eq 'active'", undefined, false],
    ["(creationTime gt DateTime'2020-01-01T00:00:00Z' or state eq 'active') and id eq 'a'", "idLower eq 'a'", false],
  ];
  it.each(cases)('%s', (filter, expected, exact) => {
    const r = push(filter);
    expect(r.filter).toBe(expected);
    expect(r.exact).toBe(exact);
  });

  it('lower-cases string and enum literals by default and passes other types through', () => {
    const columns: ColumnMap = { id: { column: 'id' }, state: { column: 's' }, enableAutoScale: { column: 'auto' }, creationTime: { column: 'c' } };
    expect(push("id eq 'ABC' and state eq 'Active'", columns, SCHEMAS.pools).filter).toBe("id eq 'abc' and s eq 'active'");
    expect(push('enableAutoScale eq false', columns, SCHEMAS.pools).filter).toBe('auto eq false');
    expect(push('enableAutoScale', columns, SCHEMAS.pools).filter).toBe('auto eq true');
    expect(push("creationTime ge DateTime'2020-01-01'", columns, SCHEMAS.pools).filter).toBe("c ge datetime'2020-01-01T00:00:00.000Z'");
  });

  it('applies a caller encode to literals (e.g. upper-cased columns, or dates stored as strings)', () => {
    const columns: ColumnMap = {
      id: { column: 'ID', encode: (v) => String(v).toUpperCase() },
      stateTransitionTime: { column: 'sttText', encode: (v) => (v instanceof Date ? v.toISOString() : v) },
      'executionInfo/exitCode': { column: 'code', encode: (v) => Number(v) + 1000 },
    };
    expect(push("startswith(id, 'ab')", columns).filter).toBe("ID ge 'AB' and ID lt 'AC'");
    expect(push("stateTransitionTime lt DateTime'2020-01-01T00:00:00Z'", columns).filter).toBe("sttText lt '2020-01-01T00:00:00.000Z'");
    expect(push('executionInfo/exitCode eq -1', columns).filter).toBe('code eq 999');
  });

  it('leaves out values without a safe Table literal', () => {
    const columns: ColumnMap = {
      'executionInfo/exitCode': { column: 'code', encode: () => Number.NaN },
      id: { column: 'id', encode: () => 1e21 },
      state: { column: 'state', encode: () => new Date(Number.NaN) },
    };
    expect(push('executionInfo/exitCode eq 1', columns)).toEqual({ exact: false });
    expect(push("id eq 'x'", columns)).toEqual({ exact: false });
    expect(push("state eq 'active'", columns)).toEqual({ exact: false });
    expect(push("startswith(id, 'x')", { id: { column: 'id', encode: () => 5 } })).toEqual({ exact: false });
  });

  it('ignores inherited keys of the column map', () => {
    expect(push("id eq 'x'", Object.create({ id: { column: 'id' } }) as ColumnMap)).toEqual({ exact: false });
  });

  it(`keeps at most ${MAX_TABLE_COMPARISONS} comparisons (Table storage rejects more)`, () => {
    const ids = Array.from({ length: 20 }, (_, i) => `id ne 'x${i}'`);
    const and15 = push(ids.slice(0, 15).join(' and '));
    expect(and15.exact).toBe(true);
    expect(and15.filter?.split(' and ')).toHaveLength(15);
    const and20 = push(ids.join(' and '));
    expect(and20.exact).toBe(false);
    expect(and20.filter).toBe(ids.slice(0, 15).map((s) => s.replace('id ', 'idLower ')).join(' and '));
    expect(push(ids.map((s) => s.replace('ne', 'eq')).join(' or '))).toEqual({ exact: false });
    // a startswith pair may be split: its lower bound alone is still a superset
    const split = push(`${ids.slice(0, 14).join(' and ')} and startswith(id, 'q')`);
    expect(split.exact).toBe(false);
    expect(split.filter?.endsWith("idLower ge 'q'")).toBe(true);
    // an `or` that does not fit is dropped whole, later conjuncts still count
    const mixed = push(`${ids.slice(0, 10).join(' and ')} and (${ids.slice(10, 16).join(' or ')}) and state eq 'active'`);
    expect(mixed.exact).toBe(false);
    expect(mixed.filter?.split(' and ')).toHaveLength(11);
    expect(mixed.filter?.endsWith("state eq 'active'")).toBe(true);
  });
});

describe('tableLiteral', () => {
  it.each([
    ["it's", "'it''s'"],
    ['', "''"],
    [0, '0'],
    [-42, '-42'],
    [1.5, '1.5'],
    [true, 'true'],
    [false, 'false'],
    [new Date('2011-05-08T08:49:37.123Z'), "datetime'2011-05-08T08:49:37.123Z'"],
    [Number.POSITIVE_INFINITY, undefined],
    [1e-7, undefined],
  ] as [string | number | boolean | Date, string | undefined][])('%s → %s', (v, expected) => {
    expect(tableLiteral(v)).toBe(expected);
  });
});
