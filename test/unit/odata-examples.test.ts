import { describe, expect, it } from 'vitest';
import type { FilterOp, FilterSchema, PropertySpec, SchemaName } from '../../shared/api/odata';
import {
  EXPANDABLE,
  SCHEMAS,
  SELECTABLE,
  effectiveExpand,
  matches,
  parseExpand,
  parseFilter,
  parseSelect,
} from '../../shared/api/odata';

/*
 * Every filter, select and expand string in the seed's "Create queries to list Batch resources efficiently"
 * article (azure-batch-documentation-2017, L3789–4040) and in seed-features part 2 §2, parsed against the
 * schema of the list it was written for; plus the documented filter tables, property by property.
 */

/** .NET `DateTime.ToString("o")` of a UTC and of a local time, as BatchMetrics' `OnlyChangedAfter` formats it. */
const O_UTC = '2017-02-27T10:11:12.1234567Z';
const O_LOCAL = '2017-02-27T02:11:12.1234567-08:00';

describe('seed filter examples', () => {
  const cases: [string, SchemaName][] = [
    ["state eq 'completed'", 'tasks'],
    ["(state eq 'running') and startswith(id, 'renderTask')", 'tasks'],
    ["startswith(id, 'test')", 'pools'],
    ['(executionInfo/exitCode lt 0) or (executionInfo/exitCode gt 0)', 'tasks'],
    ["state eq 'active'", 'tasks'],
    ["state eq 'running'", 'tasks'],
    ["state eq 'active'", 'pools'],
    ...(['tasks', 'jobs', 'pools', 'nodes', 'jobSchedules', 'certificates'] as SchemaName[]).flatMap(
      (s): [string, SchemaName][] => [
        [`stateTransitionTime gt DateTime'${O_UTC}'`, s],
        [`stateTransitionTime gt DateTime'${O_LOCAL}'`, s],
      ],
    ),
    ...(['tasks', 'jobs', 'pools', 'jobSchedules', 'jobsInSchedule'] as SchemaName[]).flatMap(
      (s): [string, SchemaName][] => [
        ["creationTime gt DateTime'2011-05-08T08:49:37Z'", s],
        ["creationTime gt DateTime'Sun, 08 May 2011 08:49:37 GMT'", s],
      ],
    ),
  ];
  it.each(cases)('%s on %s', (text, schema) => {
    expect(() => parseFilter(text, SCHEMAS[schema])).not.toThrow();
  });

  it('the render-task example selects running tasks whose id starts with renderTask', () => {
    const f = parseFilter("(state eq 'running') and startswith(id, 'renderTask')", SCHEMAS.tasks);
    expect(matches(f, { id: 'renderTask-001', state: 'running' })).toBe(true);
    expect(matches(f, { id: 'RENDERTASK-002', state: 'running' })).toBe(true);
    expect(matches(f, { id: 'renderTask-003', state: 'completed' })).toBe(false);
    expect(matches(f, { id: 'compositeTask', state: 'running' })).toBe(false);
  });

  it('the nonzero exit code example selects tasks that exited non-zero, not those without an exit code', () => {
    const f = parseFilter('(executionInfo/exitCode lt 0) or (executionInfo/exitCode gt 0)', SCHEMAS.tasks);
    const task = (exitCode?: number) => ({ id: 't', executionInfo: exitCode === undefined ? {} : { exitCode } });
    expect([task(0), task(1), task(-1), task(), { id: 'x' }].map((t) => matches(f, t))).toEqual([false, true, true, false, false]);
  });

  it('OnlyChangedAfter: both .NET "o" forms denote the same instant', () => {
    const utc = parseFilter(`stateTransitionTime gt DateTime'${O_UTC}'`, SCHEMAS.tasks);
    const local = parseFilter(`stateTransitionTime gt DateTime'${O_LOCAL}'`, SCHEMAS.tasks);
    expect(local).toEqual(utc);
    expect(matches(utc, { stateTransitionTime: '2017-02-27T10:11:12.124Z' })).toBe(true);
    expect(matches(utc, { stateTransitionTime: '2017-02-27T10:11:12.123Z' })).toBe(false);
  });

  it('the W3C and RFC 1123 creationTime examples are the same filter', () => {
    expect(parseFilter("creationTime gt DateTime'2011-05-08T08:49:37Z'", SCHEMAS.jobs)).toEqual(
      parseFilter("creationTime gt DateTime'Sun, 08 May 2011 08:49:37 GMT'", SCHEMAS.jobs),
    );
  });

  it('.NET property names are not REST names (State, Id)', () => {
    expect(() => parseFilter("State eq 'active'", SCHEMAS.tasks)).toThrow(/case-sensitive/);
    expect(() => parseFilter("startswith(Id, 'test')", SCHEMAS.pools)).toThrow(/property 'Id'/);
  });
});

describe('seed select and expand examples', () => {
  const selects: [string, 'tasks' | 'pools', string[]][] = [
    ['id,commandLine,nodeInfo', 'tasks', ['id', 'commandLine', 'nodeInfo']],
    ['id, state, stateTransitionTime', 'tasks', ['id', 'state', 'stateTransitionTime']],
    ['id, stats', 'pools', ['id', 'stats']],
    ['id, commandLine', 'tasks', ['id', 'commandLine']],
    ['id,state', 'tasks', ['id', 'state']],
    ['id,state,environmentSettings', 'tasks', ['id', 'state', 'environmentSettings']],
    ['id, state', 'tasks', ['id', 'state']],
    ['id', 'tasks', ['id']],
    ['id, executionInfo', 'tasks', ['id', 'executionInfo']],
    ['id,displayName,stats', 'pools', ['id', 'displayName', 'stats']],
  ];
  it.each(selects)('$select=%s on %s', (text, list, expected) => {
    expect(parseSelect(text, SELECTABLE[list])).toEqual(expected);
  });

  it('$expand=stats on pools, jobs, job schedules and tasks; stats in $select implies it', () => {
    for (const list of ['pools', 'jobs', 'jobSchedules', 'tasks'] as const) {
      expect(parseExpand('stats', EXPANDABLE[list])).toEqual(['stats']);
    }
    expect(() => parseExpand('stats', [])).toThrow(/\$expand/);
    const select = parseSelect('id, stats', SELECTABLE.pools);
    expect(effectiveExpand(select, parseExpand(undefined, EXPANDABLE.pools))).toEqual(['stats']);
    expect(effectiveExpand(parseSelect('id', SELECTABLE.pools), [])).toEqual([]);
  });
});

/** A literal of the property's type, for generated filters. */
function sample(spec: PropertySpec): string {
  switch (spec.type) {
    case 'string':
      return "'x'";
    case 'enum':
      return `'${spec.values?.[0] ?? ''}'`;
    case 'int':
      return '0';
    case 'bool':
      return 'true';
    case 'datetime':
      return "DateTime'2020-01-01T00:00:00Z'";
  }
}

const OPS: FilterOp[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'startswith'];

describe('documented filter tables: each property accepts exactly its operators', () => {
  const rows = (Object.entries(SCHEMAS) as [SchemaName, FilterSchema][]).flatMap(([list, schema]) =>
    Object.entries(schema).flatMap(([prop, spec]) => OPS.map((op) => [list, prop, op, spec] as const)),
  );
  it.each(rows)('%s: %s %s', (list, prop, op, spec) => {
    const text = op === 'startswith' ? `startswith(${prop}, 'x')` : `${prop} ${op} ${sample(spec)}`;
    const allowed = spec.ops?.includes(op) ?? false;
    if (allowed) expect(() => parseFilter(text, SCHEMAS[list])).not.toThrow();
    else expect(() => parseFilter(text, SCHEMAS[list])).toThrow(/not supported/);
  });

  it('spot checks of the Azure tables', () => {
    const ops = (list: SchemaName, prop: string) => SCHEMAS[list][prop]?.ops;
    expect(ops('tasks', 'executionInfo/exitCode')).toEqual(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
    expect(ops('nodes', 'startTaskInfo/state')).toEqual(['eq']);
    expect(ops('files', 'name')).toEqual(['startswith']);
    expect(ops('nodeCounts', 'poolId')).toEqual(['eq']);
    expect(ops('supportedImages', 'osType')).toEqual(['eq', 'ne']);
    expect(ops('pools', 'vmSize')).toEqual(['eq', 'ne']);
    expect(SCHEMAS.pools.enableAutoScale?.type).toBe('bool');
    expect(Object.keys(SCHEMAS.prepReleaseStatus)).toHaveLength(12);
    expect(Object.keys(SCHEMAS.subtasks)).toHaveLength(0);
    expect(Object.keys(SCHEMAS.jobsInSchedule)).not.toContain('id');
  });

  it('every enum property rejects an undocumented value', () => {
    for (const [list, schema] of Object.entries(SCHEMAS) as [SchemaName, FilterSchema][]) {
      for (const [prop, spec] of Object.entries(schema)) {
        if (spec.type !== 'enum') continue;
        expect(() => parseFilter(`${prop} eq 'nonsense'`, SCHEMAS[list]), `${list} ${prop}`).toThrow(/not a valid value/);
        for (const v of spec.values ?? []) expect(() => parseFilter(`${prop} eq '${v.toUpperCase()}'`, SCHEMAS[list])).not.toThrow();
      }
    }
  });
});
