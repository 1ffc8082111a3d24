import { describe, expect, it } from 'vitest';
import { jobJson, nodeJson, poolJson, taskJson } from '../../shared/api/mappers';
import { JOB_COLUMNS, NODE_COLUMNS, POOL_COLUMNS, taskColumns } from '../../shared/api/ops/columns';
import { matches, parseFilter, SCHEMAS, toTableFilter, type ColumnMap, type SchemaName } from '../../shared/api/odata';
import type { JobRecord, NodeRecord, PoolRecord, TaskSpec } from '../../shared/domain/model';
import { newPool } from '../../shared/domain/pool';
import { jobToRow } from '../../shared/storage/jobs';
import { nodeToRow } from '../../shared/storage/nodes';
import { poolToRow } from '../../shared/storage/pools';
import { taskFromRow, taskToRow, type TaskRun } from '../../shared/storage/tasks';
import type { Row } from '../../shared/storage/table';

/*
 * The push-down contract, checked end to end without storage: for every list, records go through the
 * repository's toRow (what Table storage holds) and the REST mapper (what `matches` sees); a small
 * evaluator of Azure Table filter syntax (absent column → false, typed comparisons) runs the pushed-down
 * filter on the rows. The rows it selects must include every entity `matches` accepts, and be exactly
 * those when toTableFilter says `exact`.
 */

// ---- a minimal Azure Table $filter evaluator (the subset toTableFilter renders) ----

type Tok = { k: 'id' | 'op' | 'kw' | 'lp' | 'rp'; v: string } | { k: 'lit'; v: string | number | boolean | Date };

function lex(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ') {
      i++;
    } else if (c === '(' || c === ')') {
      out.push({ k: c === '(' ? 'lp' : 'rp', v: c });
      i++;
    } else if (c === "'" || s.startsWith("datetime'", i)) {
      const isDate = c !== "'";
      i += isDate ? 9 : 1;
      let text = '';
      while (s[i] !== "'" || s[i + 1] === "'") {
        const quoted = s[i] === "'";
        text += quoted ? "'" : s[i]!;
        i += quoted ? 2 : 1;
      }
      i++;
      out.push({ k: 'lit', v: isDate ? new Date(text) : text });
    } else {
      const m = /^[A-Za-z0-9_.-]+/.exec(s.slice(i))!;
      const w = m[0];
      i += w.length;
      if (['eq', 'ne', 'gt', 'ge', 'lt', 'le'].includes(w)) out.push({ k: 'op', v: w });
      else if (w === 'and' || w === 'or') out.push({ k: 'kw', v: w });
      else if (w === 'true' || w === 'false') out.push({ k: 'lit', v: w === 'true' });
      else if (/^-?\d/.test(w)) out.push({ k: 'lit', v: Number(w) });
      else out.push({ k: 'id', v: w });
    }
  }
  return out;
}

function compare(actual: unknown, op: string, lit: string | number | boolean | Date): boolean {
  let a: number | string;
  let b: number | string;
  if (lit instanceof Date) {
    if (!(actual instanceof Date)) return false;
    [a, b] = [actual.getTime(), lit.getTime()];
  } else if (typeof actual !== typeof lit) return false;
  else if (typeof lit === 'boolean') [a, b] = [Number(actual), Number(lit)];
  else [a, b] = [actual as string | number, lit];
  const c = a < b ? -1 : a > b ? 1 : 0;
  return { eq: c === 0, ne: c !== 0, gt: c > 0, ge: c >= 0, lt: c < 0, le: c <= 0 }[op]!;
}

function evalTable(filter: string, row: Row): boolean {
  const toks = lex(filter);
  let p = 0;
  const primary = (): boolean => {
    const t = toks[p++]!;
    if (t.k === 'lp') {
      const v = orExpr();
      p++;
      return v;
    }
    const op = toks[p++]!.v as string;
    const lit = toks[p++]!.v as string | number | boolean | Date;
    const name = t.v as string;
    const actual = name === 'RowKey' ? row.rowKey : name === 'PartitionKey' ? row.partitionKey : row[name];
    return actual !== undefined && compare(actual, op, lit);
  };
  const andExpr = (): boolean => {
    let v = primary();
    while (toks[p]?.v === 'and') {
      p++;
      v = primary() && v;
    }
    return v;
  };
  const orExpr = (): boolean => {
    let v = andExpr();
    while (toks[p]?.v === 'or') {
      p++;
      v = andExpr() || v;
    }
    return v;
  };
  return orExpr();
}

// ---- records ----

const ORIGIN = 'http://x';
const T0 = Date.parse('2026-01-02T03:04:05.678Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();
const IDS = ['Test-Pool', 'test-pool', 'TESTING', 'other', 'a_b', 'zeta-1', 'test', 'renderTask-7'];

function pools(): { row: Row; json: Record<string, unknown> }[] {
  return IDS.map((id, i) => {
    const p: PoolRecord = {
      ...newPool({ id, vmSize: i % 2 ? 'STANDARD_A1_v2' : 'standard_d2s_v3', resizeTimeout: 'PT15M', targetDedicatedNodes: 1, targetLowPriorityNodes: 0, enableAutoScale: i % 3 === 0, enableInterNodeCommunication: false, taskSlotsPerNode: 1, taskSchedulingPolicy: { nodeFillType: 'spread' }, metadata: [] }, new Date(T0 + i * 1000)),
      state: i === 3 ? 'deleting' : 'active',
      allocationState: (['steady', 'resizing', 'stopping'] as const)[i % 3]!,
      lastModified: at(i * 7),
    };
    return { row: poolToRow(p), json: poolJson(ORIGIN, p, 'W/"x"') };
  });
}

function jobs(): { row: Row; json: Record<string, unknown> }[] {
  return IDS.map((id, i) => {
    const j: JobRecord = {
      id, priority: 0, maxParallelTasks: -1, allowTaskPreemption: false, usesTaskDependencies: false, onAllTasksComplete: 'noaction', onTaskFailure: 'noaction',
      poolInfo: { poolId: i % 2 ? 'Pool-A' : 'pool-b' }, commonEnvironmentSettings: [], metadata: [],
      state: i % 3 === 0 ? 'completed' : 'active', stateTransitionTime: at(i * 3), creationTime: at(i), lastModified: at(i * 5),
      executionInfo: { startTime: at(i), ...(i % 3 === 0 ? { endTime: at(100 + i) } : {}), poolId: i % 2 ? 'Pool-A' : 'pool-b' },
    };
    return { row: jobToRow(j), json: jobJson(ORIGIN, j, 'W/"x"') };
  });
}

function nodes(): { row: Row; json: Record<string, unknown> }[] {
  return IDS.map((id, i) => {
    const n: NodeRecord = {
      id, poolId: 'p', state: (['idle', 'running', 'starting', 'unusable'] as const)[i % 4]!, schedulingState: 'enabled', stateTransitionTime: at(i * 2),
      allocationTime: at(i), ...(i % 2 ? { lastBootTime: at(i + 1) } : {}), ipAddress: '127.0.0.1', affinityId: id, vmSize: 'standard_a1_v2', isDedicated: true,
      totalTasksRun: 0, totalTasksSucceeded: 0, runningTasksCount: 0, runningTaskSlotsCount: 0, provider: {},
    };
    return { row: nodeToRow(n), json: nodeJson(ORIGIN, n) };
  });
}

function tasks(): { row: Row; json: Record<string, unknown> }[] {
  return IDS.map((id, i) => {
    const spec: TaskSpec = { id, commandLine: '/bin/true', resourceFiles: [], environmentSettings: [], constraints: { maxTaskRetryCount: 0 }, requiredSlots: 1 };
    const running = i === 3 || i === 7;
    const done = !running && i % 3 !== 0;
    const run: TaskRun = {
      state: running ? 'running' : done ? 'completed' : 'active', stateTransitionTime: at(i * 4), creationTime: at(i), lastModified: at(i * 4), retryCount: 0, requeueCount: 0,
      ...(done || running ? { startTime: at(i + 1), nodeId: 'n', poolId: 'p' } : {}),
      ...(done ? { endTime: at(i + 2), exitCode: [0, 3, -1, 0][i % 4]!, result: i % 4 === 1 || i % 4 === 2 ? 'failure' : 'success' } : {}),
    };
    const row = taskToRow('job', spec, run);
    return { row, json: taskJson(ORIGIN, taskFromRow(row), 'W/"x"') };
  });
}

const FILTERS: Record<'pools' | 'jobs' | 'nodes' | 'tasks', string[]> = {
  pools: [
    "startswith(id, 'test')", "id eq 'TEST-POOL'", "id ne 'other'", "id gt 'TEST'", "id le 'a_b'", "state eq 'active'", "state ne 'Active'",
    "allocationState eq 'resizing' or allocationState eq 'Stopping'", "vmSize eq 'standard_a1_v2'", 'enableAutoScale eq true', 'enableInterNodeCommunication eq false',
    `creationTime gt DateTime'${at(2)}'`, `creationTime ge DateTime'${at(2)}'`, `stateTransitionTime le DateTime'${at(3)}'`, `lastModified lt DateTime'${at(14)}'`,
    `allocationStateTransitionTime eq DateTime'${at(1)}'`, "creationTime gt DateTime'2026-01-02T03:04:06.6780001Z'", `stateTransitionTime gt DateTime'${new Date(T0 + 2000).toUTCString()}'`,
    "not (state eq 'active') and startswith(id, 't')", "state eq 'active' and enableAutoScale eq true and startswith(id,'Test')",
  ],
  jobs: [
    "startswith(id, 'TEST')", "id eq 'zeta-1'", "state eq 'completed'", "state ne 'active'", `creationTime gt DateTime'${at(3)}'`, `stateTransitionTime ge DateTime'${at(6)}'`,
    `lastModified lt DateTime'${at(10)}'`, `executionInfo/startTime le DateTime'${at(2)}'`, `executionInfo/endTime gt DateTime'${at(101)}'`,
    "executionInfo/poolId eq 'POOL-A'", "startswith(executionInfo/poolId, 'pool-')", "executionInfo/endTime ne DateTime'2000-01-01T00:00:00Z'",
  ],
  nodes: [
    "state eq 'idle'", "state ne 'running'", "state eq 'idle' or state eq 'Unusable'", `stateTransitionTime gt DateTime'${at(4)}'`,
    `allocationTime le DateTime'${at(3)}'`, `lastBootTime ge DateTime'${at(2)}'`, "startTaskInfo/state eq 'running'", `lastBootTime ne DateTime'${at(2)}'`,
  ],
  tasks: [
    "state eq 'completed'", "(state eq 'running') and startswith(id, 'renderTask')", "startswith(id, 'test')", "id eq 'TESTING'",
    '(executionInfo/exitCode lt 0) or (executionInfo/exitCode gt 0)', 'executionInfo/exitCode ne 0', "executionInfo/result eq 'failure'",
    `executionInfo/startTime ge DateTime'${at(3)}'`, `executionInfo/endTime lt DateTime'${at(6)}'`, `creationTime gt DateTime'${at(1)}'`,
    `stateTransitionTime le DateTime'${at(8)}'`, `lastModifiedTime gt DateTime'${at(8)}'`, `lastModified eq DateTime'${at(8)}'`,
    "executionInfo/startTime gt DateTime'2026-01-02T03:04:07.6780001Z'", "state eq 'completed' and executionInfo/result eq 'success' and executionInfo/exitCode eq 0",
  ],
};

const LISTS: [keyof typeof FILTERS, SchemaName, ColumnMap, () => { row: Row; json: Record<string, unknown> }[]][] = [
  ['pools', 'pools', POOL_COLUMNS, pools],
  ['jobs', 'jobs', JOB_COLUMNS, jobs],
  ['nodes', 'nodes', NODE_COLUMNS, nodes],
  ['tasks', 'tasks', taskColumns(true), tasks],
];

describe('column maps: pushed-down filters select what matches selects', () => {
  const cases = LISTS.flatMap(([list, schema, columns, records]) => FILTERS[list].map((f) => [list, f, schema, columns, records] as const));
  it.each(cases)('%s: %s', (_list, text, schema, columns, records) => {
    const expr = parseFilter(text, SCHEMAS[schema]);
    const tf = toTableFilter(expr, columns);
    for (const { row, json } of records()) {
      const wanted = matches(expr, json);
      const selected = tf.filter === undefined || evalTable(tf.filter, row);
      if (wanted) expect(selected, `${String(row.rowKey)} must be read`).toBe(true);
      if (tf.exact) expect(selected, `${String(row.rowKey)} (exact)`).toBe(wanted);
    }
  });

  it('the documented filters on id, state and time are pushed down exactly', () => {
    for (const [list, schema, columns] of LISTS) {
      for (const text of FILTERS[list]) {
        if (/startTaskInfo|not \(|\.6780001Z|GMT/.test(text)) continue;
        const tf = toTableFilter(parseFilter(text, SCHEMAS[schema]), columns);
        expect(tf.filter, `${list}: ${text}`).toBeDefined();
        expect(tf.exact, `${list}: ${text}`).toBe(true);
      }
    }
  });

  it('every mapped property is filterable on its list, and the rows carry the columns', () => {
    for (const [, schema, columns, records] of LISTS) {
      for (const key of Object.keys(columns)) expect(SCHEMAS[schema], `${schema}.${key}`).toHaveProperty([key]);
      const row = records()[1]!.row;
      for (const { column } of Object.values(columns)) if (!['endTime', 'lastBootTime'].includes(column)) expect(row, `${schema} column ${column}`).toHaveProperty([column]);
    }
  });

  it('task ids are pushed down only for jobs whose task rows carry idl', () => {
    const expr = parseFilter("startswith(id, 'Render')", SCHEMAS.tasks);
    expect(toTableFilter(expr, taskColumns(true))).toEqual({ filter: "idl ge 'render' and idl lt 'rendes'", exact: true });
    expect(toTableFilter(expr, taskColumns(undefined))).toEqual({ exact: false });
  });

  it('renders the seed examples as these Table filters', () => {
    const render = (text: string, schema: SchemaName, columns: ColumnMap) => toTableFilter(parseFilter(text, SCHEMAS[schema]), columns).filter;
    expect(render("startswith(id, 'test')", 'pools', POOL_COLUMNS)).toBe("idl ge 'test' and idl lt 'tesu'");
    expect(render("stateTransitionTime gt DateTime'2011-05-08T08:49:37Z'", 'jobs', JOB_COLUMNS)).toBe("stateTransitionTime gt datetime'2011-05-08T08:49:37.000Z'");
    expect(render("creationTime gt DateTime'Sun, 08 May 2011 08:49:37 GMT'", 'tasks', taskColumns(true))).toBe("creationTime gt '2011-05-08T08:49:37.000Z'");
    expect(render('(executionInfo/exitCode lt 0) or (executionInfo/exitCode gt 0)', 'tasks', taskColumns(true))).toBe('exitCode lt 0 or exitCode gt 0');
  });
});
