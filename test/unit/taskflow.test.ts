import { describe, expect, it } from 'vitest';
import { jobAdd, poolAdd, resourceFile, taskAdd } from '../../shared/api/schemas';
import { durationSeconds, validate } from '../../shared/api/validate';
import { addCounts, zeroCounts, type TaskCounts } from '../../shared/domain/model';
import { BatchError } from '../../shared/errors';
import { decodeClaim, encodeClaim, type ClaimToken } from '../../shared/services/claims';
import { moveDelta, sumDeltas } from '../../shared/services/taskflow';
import { packDoc, unpackDoc } from '../../shared/storage/doc';
import { BUCKETS, CHUNK_PREFIX, COUNTER_PREFIX, COUNTER_SHARDS, ID_PATTERN, TASK_BUCKETS, TASK_ROWS_FROM, bucketOf, bucketOfPartition, chunkKey, counterKey, idKey, jobOfPartition, jobPartitionsFilter, jobTaskStatusKey, odataString, shardOf, taskPartition, taskPartitionOf } from '../../shared/storage/keys';

type From = 'active' | 'running' | null;
type To = 'active' | 'running' | 'succeeded' | 'failed' | null;

/** The counters of `n` tasks (`slots` slots in all) sitting in one state, spelled out by hand. */
function countsIn(state: To, n: number, slots: number): TaskCounts {
  const c = zeroCounts();
  if (state === 'active') Object.assign(c, { active: n, activeSlots: slots });
  if (state === 'running') Object.assign(c, { running: n, runningSlots: slots });
  if (state === 'succeeded') Object.assign(c, { completed: n, completedSlots: slots, succeeded: n, succeededSlots: slots });
  if (state === 'failed') Object.assign(c, { completed: n, completedSlots: slots, failed: n, failedSlots: slots });
  return c;
}

describe('moveDelta over every (from, to)', () => {
  const froms: From[] = [null, 'active', 'running'];
  const tos: To[] = [null, 'active', 'running', 'succeeded', 'failed'];
  const pairs = froms.flatMap((f) => tos.map((t) => [f, t] as const));

  it.each(pairs)('%s → %s moves the counts and slots of 3 tasks / 7 slots', (from, to) => {
    const base = addCounts(zeroCounts(), { active: 10, activeSlots: 20, running: 10, runningSlots: 20 });
    const before = addCounts(base, countsIn(from, 3, 7));
    const after = addCounts(before, moveDelta(from, to, 3, 7));
    expect(after).toEqual(addCounts(base, countsIn(to, 3, 7)));
  });

  it('spelled out: running → failed', () => {
    expect(moveDelta('running', 'failed', 2, 5)).toEqual({ running: -2, runningSlots: -5, completed: 2, completedSlots: 5, failed: 2, failedSlots: 5 });
  });

  it('spelled out: new tasks become active; null → null is empty', () => {
    expect(moveDelta(null, 'active', 100, 150)).toEqual({ active: 100, activeSlots: 150 });
    expect(moveDelta(null, null, 5, 5)).toEqual({});
  });

  it('sumDeltas adds key by key over the union of keys', () => {
    const d = sumDeltas(moveDelta('active', 'running', 2, 2), moveDelta('running', 'succeeded', 1, 1), moveDelta('running', 'failed', 1, 4), {});
    expect(d).toEqual({ active: -2, activeSlots: -2, running: 0, runningSlots: -3, completed: 2, completedSlots: 5, succeeded: 1, succeededSlots: 1, failed: 1, failedSlots: 4 });
    expect(sumDeltas()).toEqual({});
  });
});

describe('packDoc / unpackDoc', () => {
  const SLICE = 30_000;
  const stringOfJsonLength = (len: number): string => 'x'.repeat(len - 2); // JSON.stringify adds two quotes

  const cases: [string, unknown, string[]][] = [
    ['small object', { id: 't1', n: 1 }, ['doc']],
    ['empty string', '', ['doc']],
    ['JSON exactly one slice', stringOfJsonLength(SLICE), ['doc']],
    ['JSON one slice + 1 char', stringOfJsonLength(SLICE + 1), ['doc', 'doc1']],
    ['JSON exactly two slices', stringOfJsonLength(2 * SLICE), ['doc', 'doc1']],
    ['JSON over 200 KB', { big: 'y'.repeat(210_000) }, ['doc', 'doc1', 'doc2', 'doc3', 'doc4', 'doc5', 'doc6', 'doc7']],
  ];
  it.each(cases)('%s → %j, every slice ≤ 30,000 chars, round trip', (_name, value, keys) => {
    const packed = packDoc(value);
    expect(Object.keys(packed)).toEqual(keys);
    for (const v of Object.values(packed)) expect(v.length).toBeLessThanOrEqual(SLICE);
    expect(Object.values(packed).join('')).toBe(JSON.stringify(value));
    expect(unpackDoc({ partitionKey: 'p', rowKey: 'r', other: 1, ...packed })).toEqual(value);
  });

  it('unicode, including a surrogate pair split by a slice boundary, round-trips', () => {
    const value = { a: 'z'.repeat(SLICE - 14), b: '😀 é 中文 \u0000 "quoted" \\ 𝄞'.repeat(3000) };
    const json = JSON.stringify(value);
    expect(json.charCodeAt(SLICE - 1)).toBeGreaterThanOrEqual(0xd800); // the emoji straddles the boundary
    expect(json.charCodeAt(SLICE - 1)).toBeLessThan(0xdc00);
    expect(unpackDoc(packDoc(value))).toEqual(value);
  });

  it('stops at the first missing slice', () => {
    const packed = packDoc({ s: 'q'.repeat(70_000) });
    expect(() => unpackDoc({ doc: packed.doc, doc2: packed.doc2 })).toThrow(SyntaxError);
  });
});

describe('keys', () => {
  it('chunk keys sort by time first, then by sequence, whatever the random tail', () => {
    const entries: [number, number, string][] = [
      [999, 5, 'fff'], [1_000, 0, 'aaa'], [1_000, 9, '000'], [1_000, 10, 'zzz'], [1_000, 10, 'aab'], [1_700_000_000_000, 0, 'a'],
      [1_700_000_000_000, 123_456, 'b'], [1_700_000_000_001, 1, '0'], [99_999_999_999_999, 999_999, 'x'],
    ];
    const keys = entries.map(([t, s, r]) => chunkKey(t, s, r));
    const shuffled = [...keys].reverse();
    expect(shuffled.sort()).toEqual(keys.slice(0, 3).concat([keys[4]!, keys[3]!], keys.slice(5)));
    for (const k of keys) expect(k.startsWith(CHUNK_PREFIX)).toBe(true);
  });

  it('chunk keys are fixed-width up to the random tail', () => {
    expect(chunkKey(1_700_000_000_000, 42, 'abc')).toBe('!q!001700000000000000042abc');
  });

  it('shardOf is FNV-1a mod COUNTER_SHARDS (4): known vectors, stable and in range', () => {
    // FNV-1a 32-bit: "" = 0x811c9dc5, "a" = 0xe40c292c, "foobar" = 0xbf9cf968.
    expect([shardOf(''), shardOf('a'), shardOf('foobar')]).toEqual([0x811c9dc5 % 4, 0xe40c292c % 4, 0xbf9cf968 % 4]);
  });

  it('bucketOf is FNV-1a of the lower-cased id, Murmur3-finalized, mod TASK_BUCKETS (8); partitions map back to job and bucket', () => {
    // Known values (FNV-1a "" = 0x811c9dc5, "a" = 0xe40c292c, "foobar" = 0xbf9cf968, then fmix32): stable across releases.
    expect([bucketOf(''), bucketOf('a'), bucketOf('foobar'), bucketOf('FooBar')]).toEqual([3, 3, 4, 4]);
    // Ids that differ only in the high bits of a character (here 'A'/'Q', '1'/'!') still spread.
    expect(new Set(['job-A1', 'job-Q1', 'job-a!', 'job-q!', 'x', 'y'].map(bucketOf)).size).toBeGreaterThan(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(bucketOf(`task${i}`));
    expect([...seen].sort()).toEqual([...BUCKETS]);
    expect(TASK_BUCKETS).toBe(8);
    for (const [job, b] of [['job-1', 0], ['a_b', 7]] as const) {
      const pk = taskPartition(job, b);
      expect([jobOfPartition(pk), bucketOfPartition(pk)]).toEqual([job, b]);
      expect(pk > `${job}~` && pk < `${job}~~`).toBe(true);
    }
    // Neither a longer job id nor a shorter one falls in a job's range.
    for (const other of ['job-1x~0', 'job-10~3', 'job~0', 'job-~1'.replace('-~', '~')]) expect(other > 'job-1~' && other < 'job-1~~').toBe(false);
    expect(jobPartitionsFilter("o'k")).toBe("PartitionKey gt 'o''k~' and PartitionKey lt 'o''k~~'");
  });

  it('keys built from ids are their idKeys: ids that differ only by case share every key', () => {
    expect(idKey('My-Pool_1')).toBe('my-pool_1');
    expect(taskPartition('CaseJob', 3)).toBe('casejob~3');
    expect(taskPartitionOf('CaseJob', 'Task-A')).toBe(taskPartitionOf('casejob', 'TASK-a'));
    expect(jobOfPartition(taskPartition('CaseJob', 5))).toBe('casejob');
    expect(jobPartitionsFilter('CaseJob')).toBe(jobPartitionsFilter('casejob'));
    expect(jobTaskStatusKey('TVMPS_A')).toBe(jobTaskStatusKey('tvmps_a'));
    // Every id character lower-cases within the id alphabet: keys stay valid ids and sort after special rows.
    expect(ID_PATTERN.test(idKey('ABCXYZ-_09'))).toBe(true);
    expect(idKey('A') > TASK_ROWS_FROM).toBe(true);
  });

  it('shardOf spreads writers over every shard', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const s = shardOf(`node:tvmps_${i}_d`);
      expect(Number.isInteger(s) && s >= 0 && s < COUNTER_SHARDS).toBe(true);
      expect(shardOf(`node:tvmps_${i}_d`)).toBe(s);
      seen.add(s);
    }
    expect(seen.size).toBe(COUNTER_SHARDS);
  });

  it('counter keys are two-digit, inside their range and before task rows', () => {
    const keys = Array.from({ length: COUNTER_SHARDS }, (_, i) => counterKey(i));
    expect(keys[0]).toBe('!c!00');
    expect(keys[COUNTER_SHARDS - 1]).toBe(`!c!0${COUNTER_SHARDS - 1}`);
    expect([...keys].sort()).toEqual(keys);
    for (const k of keys) expect(k >= COUNTER_PREFIX && k < '!c~' && k < TASK_ROWS_FROM && !(k >= CHUNK_PREFIX && k < '!q~')).toBe(true);
  });

  it('chunk keys fall in their own range, before task rows', () => {
    for (const k of [chunkKey(0, 0, ''), chunkKey(99_999_999_999_999, 999_999, 'ffffff')]) {
      expect(k >= CHUNK_PREFIX && k < '!q~' && k < TASK_ROWS_FROM && !(k >= COUNTER_PREFIX && k < '!c~')).toBe(true);
    }
  });

  it('every valid Batch id sorts after TASK_ROWS_FROM', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
    const ids = [...alphabet].concat(['-', '--', '_', '0', 'A', '-~', 'a'.repeat(64)]);
    let seed = 7;
    for (let i = 0; i < 500; i++) {
      let id = '';
      const len = 1 + (i % 64);
      for (let j = 0; j < len; j++) id += alphabet[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % alphabet.length];
      ids.push(id);
    }
    for (const id of ids.filter((x) => ID_PATTERN.test(x))) expect(id > TASK_ROWS_FROM).toBe(true);
    expect(ID_PATTERN.test('a'.repeat(65))).toBe(false);
    expect(ID_PATTERN.test('!c!00')).toBe(false);
  });

  it('odataString doubles quotes', () => {
    expect(odataString("it's")).toBe("'it''s'");
  });
});

describe('claim tokens', () => {
  const token: ClaimToken = { c: 'claim-1', r: 2, m: 3, e: `W/"datetime'2024-04-11T19%3A04%3A59.0324068Z'"`, s: 4, t: '2024-04-11T19:04:59.032Z' };

  it('round-trips and is URL-safe', () => {
    const s = encodeClaim(token);
    expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeClaim(s)).toEqual(token);
  });

  const b64 = (v: string): string => Buffer.from(v).toString('base64url');
  it.each([
    ['empty', ''],
    ['not base64', '%%%'],
    ['base64 of text', b64('hello')],
    ['JSON null', b64('null')],
    ['JSON number', b64('42')],
    ['missing e', b64(JSON.stringify({ c: 'x' }))],
    ['c not a string', b64(JSON.stringify({ c: 1, e: 'x' }))],
    ['truncated', encodeClaim(token).slice(0, 20)],
  ])('garbage (%s) → undefined', (_name, s) => {
    expect(decodeClaim(s)).toBeUndefined();
  });
});

describe('validate: zod → Batch errors', () => {
  const pool = { id: 'p1', vmSize: 'standard_d2s_v3', virtualMachineConfiguration: { imageReference: { publisher: 'canonical' }, nodeAgentSKUId: 'batch.node.ubuntu 22.04' }, targetDedicatedNodes: 1 };
  const job = { id: 'j1', poolInfo: { poolId: 'p1' } };
  const task = { id: 't1', commandLine: 'echo hi' };
  const schemas = { poolAdd, jobAdd, taskAdd } as const;
  type S = keyof typeof schemas;

  const errorOf = (schema: S, body: unknown): BatchError => {
    try {
      validate(schemas[schema] as never, body);
    } catch (err) {
      if (err instanceof BatchError) return err;
      throw err;
    }
    throw new Error('expected a validation error');
  };
  const without = <T extends object>(o: T, k: keyof T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([x]) => x !== k)) as Partial<T>;

  it.each([
    ['poolAdd', without(pool, 'id'), 'id'],
    ['poolAdd', without(pool, 'vmSize'), 'vmSize'],
    ['poolAdd', { ...pool, virtualMachineConfiguration: { imageReference: {} } }, 'virtualMachineConfiguration.nodeAgentSKUId'],
    ['poolAdd', { ...pool, virtualMachineConfiguration: { nodeAgentSKUId: 'x' } }, 'virtualMachineConfiguration.imageReference'],
    ['jobAdd', without(job, 'poolInfo'), 'poolInfo'],
    ['jobAdd', { ...job, commonEnvironmentSettings: [{ value: 'v' }] }, 'commonEnvironmentSettings.0.name'],
    ['taskAdd', without(task, 'commandLine'), 'commandLine'],
    ['taskAdd', { ...task, environmentSettings: [{ name: 'A' }] }, 'environmentSettings.0.value'],
  ] as [S, unknown, string][])('%s missing → 400 MissingRequiredProperty %s', (schema, body, path) => {
    const e = errorOf(schema, body);
    expect([e.code, e.status, e.values]).toEqual(['MissingRequiredProperty', 400, [{ key: 'PropertyName', value: path }]]);
  });

  it.each([
    ['poolAdd', { ...pool, targetDedicatedNodes: 'two' }, 'targetDedicatedNodes', 'two'],
    ['poolAdd', { ...pool, targetDedicatedNodes: -1 }, 'targetDedicatedNodes', '-1'],
    ['poolAdd', { ...pool, targetDedicatedNodes: 1.5 }, 'targetDedicatedNodes', '1.5'],
    ['poolAdd', { ...pool, targetLowPriorityNodes: 2147483648 }, 'targetLowPriorityNodes', '2147483648'],
    ['poolAdd', { ...pool, id: 'bad id' }, 'id', 'bad id'],
    ['poolAdd', { ...pool, id: 'x'.repeat(65) }, 'id', 'x'.repeat(65)],
    ['poolAdd', { ...pool, id: null }, 'id', 'null'],
    ['poolAdd', { ...pool, enableAutoScale: 'true' }, 'enableAutoScale', 'true'],
    ['poolAdd', { ...pool, taskSchedulingPolicy: { nodeFillType: 'random' } }, 'taskSchedulingPolicy.nodeFillType', 'random'],
    ['poolAdd', { ...pool, taskSlotsPerNode: 0 }, 'taskSlotsPerNode', '0'],
    ['poolAdd', { ...pool, resizeTimeout: 'PT4M59S' }, 'resizeTimeout', 'PT4M59S'],
    ['poolAdd', { ...pool, resizeTimeout: '15 minutes' }, 'resizeTimeout', '15 minutes'],
    ['jobAdd', { ...job, priority: 1001 }, 'priority', '1001'],
    ['jobAdd', { ...job, onAllTasksComplete: 'terminate' }, 'onAllTasksComplete', 'terminate'],
    ['jobAdd', { ...job, poolInfo: { poolId: 'a/b' } }, 'poolInfo.poolId', 'a/b'],
    ['jobAdd', { ...job, constraints: { maxWallClockTime: 'PT0S' } }, 'constraints.maxWallClockTime', 'PT0S'],
    ['taskAdd', { ...task, commandLine: '' }, 'commandLine', ''],
    ['taskAdd', { ...task, requiredSlots: 0 }, 'requiredSlots', '0'],
    ['taskAdd', { ...task, constraints: { maxTaskRetryCount: -2 } }, 'constraints.maxTaskRetryCount', '-2'],
    ['taskAdd', { ...task, userIdentity: { autoUser: { elevationLevel: 'root' } } }, 'userIdentity.autoUser.elevationLevel', 'root'],
  ] as [S, unknown, string, string][])('%s %j → 400 InvalidPropertyValue', (schema, body, path, value) => {
    const e = errorOf(schema, body);
    expect([e.code, e.status]).toEqual(['InvalidPropertyValue', 400]);
    expect(e.values.slice(0, 2)).toEqual([{ key: 'PropertyName', value: path }, { key: 'PropertyValue', value }]);
    expect(e.values[2]?.key).toBe('Reason');
  });

  it.each([[null], [[]], ['text'], [42]])('a non-object body %j → 400 InvalidRequestBody', (body) => {
    expect(errorOf('poolAdd', body).code).toBe('InvalidRequestBody');
  });

  it('valid bodies pass; enums are case-insensitive and canonicalised', () => {
    expect(validate(poolAdd, { ...pool, resizeTimeout: 'PT5M', taskSchedulingPolicy: { nodeFillType: 'Pack' } })).toMatchObject({ resizeTimeout: 'PT5M', taskSchedulingPolicy: { nodeFillType: 'pack' } });
    expect(validate(jobAdd, { ...job, onAllTasksComplete: 'TerminateJob', priority: -1000 })).toMatchObject({ onAllTasksComplete: 'terminatejob' });
    expect(validate(taskAdd, { ...task, constraints: { maxWallClockTime: 'P10675199DT2H48M5.4775807S', retentionTime: 'PT0S', maxTaskRetryCount: -1 } }).constraints?.maxTaskRetryCount).toBe(-1);
  });

  const rf = (r: Record<string, unknown>): unknown => ({ ...task, resourceFiles: [{ httpUrl: 'https://a/b', filePath: 'b' }, r] });
  it.each([
    [{}, 'resourceFiles.1'],
    [{ httpUrl: 'https://a/x' }, 'resourceFiles.1'],
    [{ httpUrl: 'https://a/x', storageContainerUrl: 'https://a/c', filePath: 'x' }, 'resourceFiles.1'],
    [{ autoStorageContainerName: 'c', storageContainerUrl: 'https://a/c' }, 'resourceFiles.1'],
    [{ storageContainerUrl: 'https://a/c', fileMode: '999' }, 'resourceFiles.1.fileMode'],
  ])('resource file %j → InvalidPropertyValue %s', (r, path) => {
    const e = errorOf('taskAdd', rf(r));
    expect([e.code, e.values[0]]).toEqual(['InvalidPropertyValue', { key: 'PropertyName', value: path }]);
  });

  it.each([
    [{ httpUrl: 'https://a/x', filePath: 'x', fileMode: '0755' }],
    [{ storageContainerUrl: 'https://a/c?sas', blobPrefix: 'in/' }],
    [{ autoStorageContainerName: 'c', filePath: 'dir' }],
  ])('resource file %j is valid', (r) => {
    expect(resourceFile.safeParse(r).success).toBe(true);
  });

  it.each([['PT15M', 900], ['PT1H30M', 5400], ['P1D', 86400], ['P1W', 604800], ['PT0.5S', 0.5], ['PT0S', 0], ['P10675199DT2H48M5.4775807S', 922337203685.4775]])('durationSeconds(%s) = %d', (s, secs) => {
    expect(durationSeconds(s)).toBeCloseTo(secs, 3);
  });

  it.each(['', 'PT', 'garbage', 'pt15m', '15'])('durationSeconds(%j) → undefined', (s) => {
    expect(durationSeconds(s)).toBeUndefined();
  });

  // Regression: iso8601-duration's pattern is not anchored; durations are shape-checked first.
  it.each(['-PT1M', 'PT1M-', 'xPT1M', 'PT1Mxyz', 'PT1M PT2M'])('durationSeconds(%j) → undefined', (s) => {
    expect(durationSeconds(s)).toBeUndefined();
  });
});
