import type { TransactionAction } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zeroCounts, type TaskRecord, type TaskSpec } from '../../shared/domain/model';
import type { Runtime } from '../../shared/runtime';
import { commitWithCounter, moveDelta } from '../../shared/services/taskflow';
import { QUEUES, StorageContext } from '../../shared/storage/context';
import { StorageError } from '../../shared/storage/errors';
import { TABLES, chunkKey, counterKey } from '../../shared/storage/keys';
import { TaskRepository, advanceChunkAction, createChunkAction, createTaskAction, mergeTaskAction, taskToRow, type PendingEntry, type TaskRun } from '../../shared/storage/tasks';
import { azuriteConnectionString, uniqueName } from '../support/storage';

const NOW = '2024-04-11T19:04:59.032Z';
let ctx: StorageContext;
let repo: TaskRepository;
let rt: Runtime;

beforeAll(async () => {
  ctx = new StorageContext({ connectionString: azuriteConnectionString(), prefix: uniqueName('t') });
  await ctx.ensure();
  repo = new TaskRepository(ctx.tables.tasks);
  rt = runtimeOf(repo);
});
afterAll(async () => {
  if (!ctx) return;
  await Promise.all(TABLES.map((t) => ctx.tables[t].client.deleteTable()));
  await Promise.all(Object.values(QUEUES).map((q) => ctx.queue(q).deleteIfExists()));
});

// What commitWithCounter uses of a runtime: the repository and the per-process cache (task counts follow commits).
const runtimeOf = (tasks: TaskRepository): Runtime => ({ tasks, cache: new Map(), clock: () => new Date() }) as unknown as Runtime;
const jobId = (): string => uniqueName('job');
const spec = (id: string, extra: Partial<TaskSpec> = {}): TaskSpec => ({
  id, commandLine: `echo ${id}`, resourceFiles: [], environmentSettings: [], constraints: { maxTaskRetryCount: 0 }, requiredSlots: 1, ...extra,
});
const run = (extra: Partial<TaskRun> = {}): TaskRun => ({ state: 'active', stateTransitionTime: NOW, creationTime: NOW, lastModified: NOW, retryCount: 0, requeueCount: 0, ...extra });
const creates = (job: string, ids: string[]): TransactionAction[] => ids.map((id) => createTaskAction(job, spec(id), run()));
const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);
const rowKeys = async (job: string): Promise<string[]> =>
  (await ctx.tables.tasks.all(`PartitionKey eq '${job}'`, ['RowKey'])).map((r) => r.row.rowKey);

async function storageErrorOf(p: Promise<unknown>): Promise<StorageError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StorageError) return err;
    throw err;
  }
  throw new Error('expected a StorageError');
}

describe('counters', () => {
  it('are summed over shards (read back by a fresh repository)', async () => {
    const job = jobId();
    const plan: [number, number][] = [[0, 1], [3, 2], [7, 3], [15, 4]];
    for (const [shard, n] of plan) await commitWithCounter(rt, job, shard, moveDelta(null, 'active', n, 2 * n), creates(job, ids(`s${shard}-`, n)));
    await commitWithCounter(rt, job, 3, moveDelta('active', 'running', 2, 4), [mergeTaskAction(job, 's3-0000', { state: 'running' }), mergeTaskAction(job, 's3-0001', { state: 'running' })]);
    const counts = await new TaskRepository(ctx.tables.tasks).counts(job);
    expect(counts).toEqual({ ...zeroCounts(), active: 8, activeSlots: 16, running: 2, runningSlots: 4 });
    expect((await rowKeys(job)).filter((k) => k.startsWith('!c!'))).toEqual([0, 3, 7, 15].map(counterKey));
  });

  it('the counter ETag is cached after the shard is created: the next commit is a single request', async () => {
    const job = jobId();
    await commitWithCounter(rt, job, 2, moveDelta(null, 'active', 1, 1), creates(job, ['a']));
    const before = ctx.counter.snapshot().table;
    await commitWithCounter(rt, job, 2, moveDelta(null, 'active', 1, 1), creates(job, ['b']));
    expect(ctx.counter.snapshot().table - before).toBe(1);
  });

  // Regression: transaction ETags of updates were dropped, so the counter cache was lost after every commit.
  it('the counter ETag stays cached after an update: the third commit is a single request', async () => {
    const job = jobId();
    for (const id of ['a', 'b']) await commitWithCounter(rt, job, 2, moveDelta(null, 'active', 1, 1), creates(job, [id]));
    const before = ctx.counter.snapshot().table;
    await commitWithCounter(rt, job, 2, moveDelta(null, 'active', 1, 1), creates(job, ['c']));
    expect(ctx.counter.snapshot().table - before).toBe(1);
  });

  it('a stale cached counter (another writer moved the shard) is retried transparently', async () => {
    const job = jobId();
    const other = runtimeOf(new TaskRepository(ctx.tables.tasks));
    await commitWithCounter(rt, job, 5, moveDelta(null, 'active', 1, 1), creates(job, ['a']));
    await commitWithCounter(other, job, 5, moveDelta(null, 'active', 2, 2), creates(job, ['b', 'c']));
    const before = ctx.counter.snapshot().table;
    await commitWithCounter(rt, job, 5, moveDelta(null, 'active', 1, 1), creates(job, ['d']));
    // failed transaction (412) + re-read of the shard + the retried transaction
    expect(ctx.counter.snapshot().table - before).toBe(3);
    expect(await new TaskRepository(ctx.tables.tasks).counts(job)).toEqual({ ...zeroCounts(), active: 4, activeSlots: 4 });
    expect((await rowKeys(job)).filter((k) => !k.startsWith('!'))).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a conflict on a task row is not retried: 409 with the failing index, nothing written', async () => {
    const job = jobId();
    await commitWithCounter(rt, job, 1, moveDelta(null, 'active', 1, 1), creates(job, ['dup']));
    const e = await storageErrorOf(commitWithCounter(rt, job, 1, moveDelta(null, 'active', 2, 2), creates(job, ['fresh', 'dup'])));
    expect([e.isConflict, e.failedIndex]).toEqual([true, 1]);
    expect(await repo.counts(job)).toEqual({ ...zeroCounts(), active: 1, activeSlots: 1 });
    expect(await rowKeys(job)).toEqual([counterKey(1), 'dup']);
  });
});

describe('transactions on task rows', () => {
  it('a duplicate create fails with isConflict and failedIndex of the duplicate; the batch is atomic', async () => {
    const job = jobId();
    await repo.transact(creates(job, ['t2']));
    for (const [list, index] of [[['t0', 't1', 't2', 't3'], 2], [['t2', 't4'], 0], [['t5', 't6', 't7', 't8', 't2'], 4]] as [string[], number][]) {
      const e = await storageErrorOf(repo.transact(creates(job, list)));
      expect([e.status, e.isConflict, e.failedIndex]).toEqual([409, true, index]);
    }
    expect(await rowKeys(job)).toEqual(['t2']);
  });

  it('mergeTaskAction with a stale ETag → 412; with the current one it merges', async () => {
    const job = jobId();
    const first = (await repo.transact(creates(job, ['t1']))).get('t1')!;
    expect(first).toMatch(/^W\/"datetime'/);
    await repo.transact([mergeTaskAction(job, 't1', { state: 'running', nodeId: 'n1', poolId: 'p1' }, first)]);
    const second = (await repo.get(job, 't1'))!.etag;
    expect(second).not.toBe(first);
    const e = await storageErrorOf(repo.transact([mergeTaskAction(job, 't1', { state: 'completed' }, first)]));
    expect([e.status, e.isPreconditionFailed]).toEqual([412, true]);
    const t = (await repo.get(job, 't1'))!;
    expect([t.value.state, t.value.nodeInfo?.nodeId, t.value.commandLine, t.etag]).toEqual(['running', 'n1', 'echo t1', second]);
  });

  // Regression: @azure/data-tables fills sub-response rowKeys only for creates; ETags are mapped by index.
  it('transact returns the new ETag of merged rows too', async () => {
    const job = jobId();
    const first = (await repo.transact(creates(job, ['t1']))).get('t1')!;
    const etags = await repo.transact([mergeTaskAction(job, 't1', { state: 'running' }, first)]);
    expect(etags.get('t1')).toBe((await repo.get(job, 't1'))!.etag);
  });

  it('taskFromRow round-trips a full record', async () => {
    const job = jobId();
    const full: TaskSpec = spec('full', {
      displayName: 'Fülł task ✓',
      commandLine: '/bin/sh -c "echo $X > out.txt"',
      resourceFiles: [{ httpUrl: 'https://a/b?sas', filePath: 'in/b', fileMode: '0755' }, { storageContainerUrl: 'https://a/c', blobPrefix: 'p/' }],
      environmentSettings: [{ name: 'X', value: 'y' }],
      constraints: { maxWallClockTime: 'PT1H', retentionTime: 'P7D', maxTaskRetryCount: 3 },
      requiredSlots: 2,
      outputFiles: [{ filePattern: '*.txt' }],
      exitConditions: { default: { jobAction: 'none' } },
      userIdentity: { autoUser: { scope: 'task', elevationLevel: 'admin' } },
      affinityInfo: { affinityId: 'TVM:n1' },
    });
    const failureInfo = { category: 'usererror' as const, code: 'FailureExitCode', message: 'The task exited with an exit code representing a failure', details: [{ name: 'Message', value: 'x' }] };
    const stats = { wallClockTime: 'PT1S', userCPUTime: 'PT0.5S', kernelCPUTime: 'PT0S', readIOps: 1, writeIOps: 2, readIOGiB: 0.5, writeIOGiB: 0.25, waitTime: 'PT0S' };
    const r = run({
      state: 'completed', previousState: 'running', previousStateTransitionTime: '2024-04-11T19:00:00.000Z', nodeId: 'n1', poolId: 'p1', claim: 'c1',
      startTime: '2024-04-11T19:00:00.000Z', endTime: NOW, exitCode: 1, result: 'failure', failureInfo: JSON.stringify(failureInfo),
      retryCount: 3, requeueCount: 1, lastRetryTime: NOW, lastRequeueTime: NOW, stats: JSON.stringify(stats),
    });
    await repo.transact([createTaskAction(job, full, r)]);
    const expected: TaskRecord = {
      ...full, jobId: job, state: 'completed', stateTransitionTime: NOW, previousState: 'running', previousStateTransitionTime: '2024-04-11T19:00:00.000Z',
      creationTime: NOW, lastModified: NOW, claim: 'c1',
      executionInfo: { startTime: '2024-04-11T19:00:00.000Z', endTime: NOW, exitCode: 1, result: 'failure', failureInfo, retryCount: 3, requeueCount: 1, lastRetryTime: NOW, lastRequeueTime: NOW },
      nodeInfo: { poolId: 'p1', nodeId: 'n1', affinityId: 'TVM:n1', taskRootDirectory: `workitems/${job}/job-1/full` },
      stats,
    };
    expect((await repo.get(job, 'full'))!.value).toEqual(expected);
    expect((await repo.page(job, undefined, 10)).items.map((i) => i.value)).toEqual([expected]);
  });

  it('a > 200 KB spec with unicode across doc slice boundaries round-trips through storage', async () => {
    const job = jobId();
    const unicode = '😀é中文𝄞"\\'.repeat(25_000);
    const withPad = (pad: string): TaskSpec => spec('big', { environmentSettings: [{ name: 'PAD', value: pad }, { name: 'U', value: unicode }] });
    // Pad so that the first emoji's high surrogate is the last UTF-16 unit of slice 0.
    const big = withPad('p'.repeat(29_999 - JSON.stringify(withPad('')).indexOf('😀')));
    const json = JSON.stringify(big);
    expect(json.length).toBeGreaterThan(200_000);
    expect(json.indexOf('😀')).toBe(29_999);
    await repo.transact([createTaskAction(job, big, run())]);
    const back = (await repo.get(job, 'big'))!.value;
    expect(back.environmentSettings).toEqual(big.environmentSettings);
  });

  it('page skips counter and chunk rows and follows continuations', async () => {
    const job = jobId();
    await commitWithCounter(rt, job, 4, moveDelta(null, 'active', 5, 5), [...creates(job, ids('t', 5)), createChunkAction(job, chunkKey(1, 0, 'a'), [])]);
    const seen: string[] = [];
    let continuation: string | undefined;
    let pages = 0;
    do {
      const p = await repo.page(job, undefined, 2, continuation);
      seen.push(...p.items.map((i) => i.value.id));
      continuation = p.continuation;
      pages++;
    } while (continuation);
    expect(seen).toEqual(ids('t', 5));
    expect(pages).toBeGreaterThanOrEqual(3);
    expect((await repo.find(job, "state eq 'active'")).length).toBe(5);
  });
});

describe('pending chunks', () => {
  const entry = (id: string): PendingEntry => ({ spec: spec(id), retryCount: 0, activeSince: NOW });

  it('come back FIFO by time then sequence, whatever the insertion order, at most `max`', async () => {
    const job = jobId();
    const keys = [chunkKey(1_000, 5, 'zz'), chunkKey(1_000, 6, 'aa'), chunkKey(2_000, 0, 'mm'), chunkKey(2_000, 1, '00'), chunkKey(10_000, 0, 'ff')];
    for (const i of [3, 0, 4, 2, 1]) await repo.transact([createChunkAction(job, keys[i]!, [entry(`e${i}a`), entry(`e${i}b`)])]);
    const all = await repo.chunks(job, 10);
    expect(all.map((c) => c.rowKey)).toEqual(keys);
    expect(all[2]!.entries).toEqual([entry('e2a'), entry('e2b')]);
    expect(all.every((c) => c.next === 0 && c.etag.length > 0)).toBe(true);
    expect((await repo.chunks(job, 2)).map((c) => c.rowKey)).toEqual(keys.slice(0, 2));
  });

  it('advanceChunkAction is ETag-guarded: of two concurrent claimers exactly one wins, the other gets 412', async () => {
    const job = jobId();
    await repo.transact([createChunkAction(job, chunkKey(5, 0, 'x'), [entry('a'), entry('b'), entry('c')])]);
    const [seenByA] = await repo.chunks(job, 1);
    const [seenByB] = await new TaskRepository(ctx.tables.tasks).chunks(job, 1);
    const results = await Promise.allSettled([
      repo.transact([advanceChunkAction(job, seenByA!, 1)]),
      repo.transact([advanceChunkAction(job, seenByB!, 2)]),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toBeInstanceOf(StorageError);
    expect((rejected[0]!.reason as StorageError).status).toBe(412);
    const winner = results[0]!.status === 'fulfilled' ? 1 : 2;
    const [after] = await repo.chunks(job, 1);
    expect(after!.next).toBe(winner);
    expect(after!.entries.map((e) => e.spec.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('deleteJobRows', () => {
  it('removes every row of a job (> 100 rows: tasks, counters, chunks) and nothing of other jobs', async () => {
    const job = jobId();
    const keep = jobId();
    await commitWithCounter(rt, keep, 0, moveDelta(null, 'active', 1, 1), creates(keep, ['k']));
    const all = ids('t', 230);
    for (let i = 0; i < all.length; i += 90) {
      const group = all.slice(i, i + 90);
      const chunk = createChunkAction(job, chunkKey(1_000 + i, i, 'r'), group.map((id) => ({ spec: spec(id), retryCount: 0, activeSince: NOW })));
      await commitWithCounter(rt, job, i % 16, moveDelta(null, 'active', group.length, group.length), [...creates(job, group), chunk]);
    }
    expect(await repo.counts(job)).toEqual({ ...zeroCounts(), active: 230, activeSlots: 230 });
    expect(await repo.deleteJobRows(job)).toBe(230 + 3 + 3);
    expect(await rowKeys(job)).toEqual([]);
    expect(await rowKeys(keep)).toEqual([counterKey(0), 'k']);
    // The counter cache was dropped too: the job can be re-populated from scratch.
    await commitWithCounter(rt, job, 0, moveDelta(null, 'active', 1, 1), creates(job, ['again']));
    expect(await repo.counts(job)).toEqual({ ...zeroCounts(), active: 1, activeSlots: 1 });
  });

  it('taskToRow keeps run columns as plain, filterable properties', () => {
    const row = taskToRow('j', spec('t'), run({ exitCode: 0, nodeId: undefined }));
    expect(row).toMatchObject({ partitionKey: 'j', rowKey: 't', state: 'active', exitCode: 0, retryCount: 0 });
    expect('nodeId' in row).toBe(false);
  });
});
