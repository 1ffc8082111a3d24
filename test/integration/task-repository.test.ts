import type { TransactionAction } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zeroCounts, type TaskRecord, type TaskSpec } from '../../shared/domain/model';
import type { Runtime } from '../../shared/runtime';
import { commitWithCounter, moveDelta } from '../../shared/services/taskflow';
import { QUEUES, StorageContext } from '../../shared/storage/context';
import { StorageError } from '../../shared/storage/errors';
import { TABLES, TASK_BUCKETS, bucketOf, chunkKey, counterKey, jobPartitionsFilter, taskPartition } from '../../shared/storage/keys';
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
/** `n` ids of one bucket (a transaction stays in one bucket partition), in id order. */
const idsIn = (bucket: number, prefix: string, n: number): string[] => {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (bucketOf(`${prefix}${String(i).padStart(4, '0')}`) === bucket) out.push(`${prefix}${String(i).padStart(4, '0')}`);
  return out;
};
/** Every row of a job: row keys of its bucket partitions, bucket by bucket (`<bucket>/<rowKey>` for special rows). */
const rowKeys = async (job: string): Promise<string[]> =>
  (await ctx.tables.tasks.all(jobPartitionsFilter(job), ['PartitionKey', 'RowKey'])).map((r) => (r.row.rowKey.startsWith('!') ? `${r.row.partitionKey.slice(job.length + 1)}/${r.row.rowKey}` : r.row.rowKey));
const A = bucketOf('a');

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
  it('are summed over the shards of every bucket (read back by a fresh repository)', async () => {
    const job = jobId();
    const plan: [number, number, number][] = [[0, 0, 1], [2, 3, 2], [5, 1, 3], [TASK_BUCKETS - 1, 2, 4]];
    for (const [bucket, shard, n] of plan) await commitWithCounter(rt, job, bucket, shard, moveDelta(null, 'active', n, 2 * n), creates(job, idsIn(bucket, `s${bucket}-`, n)));
    const [r0, r1] = idsIn(2, 's2-', 2);
    await commitWithCounter(rt, job, 2, 3, moveDelta('active', 'running', 2, 4), [mergeTaskAction(job, r0!, { state: 'running' }), mergeTaskAction(job, r1!, { state: 'running' })]);
    const counts = await new TaskRepository(ctx.tables.tasks).counts(job);
    expect(counts).toEqual({ ...zeroCounts(), active: 8, activeSlots: 16, running: 2, runningSlots: 4 });
    expect((await rowKeys(job)).filter((k) => k.includes('!c!'))).toEqual(plan.map(([b, shard]) => `${b}/${counterKey(shard)}`));
  });

  it('a transaction spanning two buckets is refused by the store, nothing written', async () => {
    const job = jobId();
    const [x] = idsIn(0, 'x', 1);
    const [y] = idsIn(1, 'y', 1);
    await expect(repo.transact(creates(job, [x!, y!]))).rejects.toThrow();
    expect(await rowKeys(job)).toEqual([]);
  });

  it('the counter ETag is cached after the shard is created: the next commit is a single request', async () => {
    const job = jobId();
    const [a, b] = idsIn(A, 'c', 2);
    await commitWithCounter(rt, job, A, 2, moveDelta(null, 'active', 1, 1), creates(job, [a!]));
    const before = ctx.counter.snapshot().table;
    await commitWithCounter(rt, job, A, 2, moveDelta(null, 'active', 1, 1), creates(job, [b!]));
    expect(ctx.counter.snapshot().table - before).toBe(1);
  });

  // Regression: transaction ETags of updates were dropped, so the counter cache was lost after every commit.
  it('the counter ETag stays cached after an update: the third commit is a single request', async () => {
    const job = jobId();
    const [a, b, c] = idsIn(A, 'u', 3);
    for (const id of [a!, b!]) await commitWithCounter(rt, job, A, 2, moveDelta(null, 'active', 1, 1), creates(job, [id]));
    const before = ctx.counter.snapshot().table;
    await commitWithCounter(rt, job, A, 2, moveDelta(null, 'active', 1, 1), creates(job, [c!]));
    expect(ctx.counter.snapshot().table - before).toBe(1);
  });

  it('a stale cached counter (another writer moved the shard) is retried transparently', async () => {
    const job = jobId();
    const other = runtimeOf(new TaskRepository(ctx.tables.tasks));
    const four = idsIn(A, 's', 4);
    await commitWithCounter(rt, job, A, 1, moveDelta(null, 'active', 1, 1), creates(job, four.slice(0, 1)));
    await commitWithCounter(other, job, A, 1, moveDelta(null, 'active', 2, 2), creates(job, four.slice(1, 3)));
    const before = ctx.counter.snapshot().table;
    await commitWithCounter(rt, job, A, 1, moveDelta(null, 'active', 1, 1), creates(job, four.slice(3)));
    // failed transaction (412) + re-read of the shard + the retried transaction
    expect(ctx.counter.snapshot().table - before).toBe(3);
    expect(await new TaskRepository(ctx.tables.tasks).counts(job)).toEqual({ ...zeroCounts(), active: 4, activeSlots: 4 });
    expect((await rowKeys(job)).filter((k) => !k.includes('!'))).toEqual(four);
  });

  it('a conflict on a task row is not retried: 409 with the failing index, nothing written', async () => {
    const job = jobId();
    const [dup, fresh] = idsIn(A, 'd', 2);
    await commitWithCounter(rt, job, A, 1, moveDelta(null, 'active', 1, 1), creates(job, [dup!]));
    const e = await storageErrorOf(commitWithCounter(rt, job, A, 1, moveDelta(null, 'active', 2, 2), creates(job, [fresh!, dup!])));
    expect([e.isConflict, e.failedIndex]).toEqual([true, 1]);
    expect(await repo.counts(job)).toEqual({ ...zeroCounts(), active: 1, activeSlots: 1 });
    expect(await rowKeys(job)).toEqual([`${A}/${counterKey(1)}`, dup]);
  });
});

describe('transactions on task rows', () => {
  it('a duplicate create fails with isConflict and failedIndex of the duplicate; the batch is atomic', async () => {
    const job = jobId();
    const t = idsIn(A, 't', 9);
    await repo.transact(creates(job, [t[2]!]));
    for (const [list, index] of [[[t[0], t[1], t[2], t[3]], 2], [[t[2], t[4]], 0], [[t[5], t[6], t[7], t[8], t[2]], 4]] as [string[], number][]) {
      const e = await storageErrorOf(repo.transact(creates(job, list)));
      expect([e.status, e.isConflict, e.failedIndex]).toEqual([409, true, index]);
    }
    expect(await rowKeys(job)).toEqual([t[2]]);
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
    for (const [bucket, list] of [[0, idsIn(0, 't', 3)], [3, idsIn(3, 't', 2)]] as [number, string[]][]) {
      await commitWithCounter(rt, job, bucket, 3, moveDelta(null, 'active', list.length, list.length), [...creates(job, list), createChunkAction(job, bucket, chunkKey(1, 0, 'a'), [])]);
    }
    const seen: string[] = [];
    let continuation: string | undefined;
    let pages = 0;
    do {
      const p = await repo.page(job, undefined, 2, continuation);
      seen.push(...p.items.map((i) => i.value.id));
      continuation = p.continuation;
      pages++;
    } while (continuation);
    expect(seen).toEqual([...idsIn(0, 't', 3), ...idsIn(3, 't', 2)]);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect((await repo.find(job, "state eq 'active'")).length).toBe(5);
  });
});

describe('pending chunks', () => {
  const entry = (id: string): PendingEntry => ({ spec: spec(id), retryCount: 0, activeSince: NOW });

  it('come back FIFO by time then sequence, whatever the insertion order, at most `max`', async () => {
    const job = jobId();
    const keys = [chunkKey(1_000, 5, 'zz'), chunkKey(1_000, 6, 'aa'), chunkKey(2_000, 0, 'mm'), chunkKey(2_000, 1, '00'), chunkKey(10_000, 0, 'ff')];
    for (const i of [3, 0, 4, 2, 1]) await repo.transact([createChunkAction(job, 6, keys[i]!, [entry(`e${i}a`), entry(`e${i}b`)])]);
    const all = await repo.chunks(job, 6, 10);
    expect(all.map((c) => c.rowKey)).toEqual(keys);
    expect(all[2]!.entries).toEqual([entry('e2a'), entry('e2b')]);
    expect(all.every((c) => c.next === 0 && c.etag.length > 0)).toBe(true);
    expect((await repo.chunks(job, 6, 2)).map((c) => c.rowKey)).toEqual(keys.slice(0, 2));
    expect(await repo.chunks(job, 5, 10)).toEqual([]);
  });

  it('advanceChunkAction is ETag-guarded: of two concurrent claimers exactly one wins, the other gets 412', async () => {
    const job = jobId();
    await repo.transact([createChunkAction(job, 0, chunkKey(5, 0, 'x'), [entry('a'), entry('b'), entry('c')])]);
    const [seenByA] = await repo.chunks(job, 0, 1);
    const [seenByB] = await new TaskRepository(ctx.tables.tasks).chunks(job, 0, 1);
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
    const [after] = await repo.chunks(job, 0, 1);
    expect(after!.next).toBe(winner);
    expect(after!.entries.map((e) => e.spec.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('deleteJobRows', () => {
  it('removes every row of a job (> 100 rows: tasks, counters, chunks) and nothing of other jobs', async () => {
    const job = jobId();
    const keep = jobId();
    await commitWithCounter(rt, keep, bucketOf('k'), 0, moveDelta(null, 'active', 1, 1), creates(keep, ['k']));
    // Job ids that share a prefix with `job` (its buckets are `job~N`): untouched.
    const near = `${job}x`;
    await commitWithCounter(rt, near, bucketOf('k'), 0, moveDelta(null, 'active', 1, 1), creates(near, ['k']));
    const all = idsIn(4, 't', 230);
    for (let i = 0; i < all.length; i += 90) {
      const group = all.slice(i, i + 90);
      const chunk = createChunkAction(job, 4, chunkKey(1_000 + i, i, 'r'), group.map((id) => ({ spec: spec(id), retryCount: 0, activeSince: NOW })));
      await commitWithCounter(rt, job, 4, i % 4, moveDelta(null, 'active', group.length, group.length), [...creates(job, group), chunk]);
    }
    await commitWithCounter(rt, job, 1, 0, moveDelta(null, 'active', 2, 2), creates(job, idsIn(1, 'o', 2)));
    expect(await repo.counts(job)).toEqual({ ...zeroCounts(), active: 232, activeSlots: 232 });
    // 232 tasks, 3 chunks, counters: bucket 4 shards 0 and 2, bucket 1 shard 0.
    expect(await repo.deleteJobRows(job)).toBe(232 + 3 + 3);
    expect(await rowKeys(job)).toEqual([]);
    expect(await rowKeys(keep)).toEqual([`${bucketOf('k')}/${counterKey(0)}`, 'k']);
    expect(await rowKeys(near)).toEqual([`${bucketOf('k')}/${counterKey(0)}`, 'k']);
    // The counter cache was dropped too: the job can be re-populated from scratch.
    await commitWithCounter(rt, job, bucketOf('again'), 0, moveDelta(null, 'active', 1, 1), creates(job, ['again']));
    expect(await repo.counts(job)).toEqual({ ...zeroCounts(), active: 1, activeSlots: 1 });
  });

  it('taskToRow keeps run columns as plain, filterable properties', () => {
    const row = taskToRow('j', spec('t'), run({ exitCode: 0, nodeId: undefined }));
    expect(row).toMatchObject({ partitionKey: taskPartition('j', bucketOf('t')), rowKey: 't', state: 'active', exitCode: 0, retryCount: 0 });
    expect('nodeId' in row).toBe(false);
  });
});
