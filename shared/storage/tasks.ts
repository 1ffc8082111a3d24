import type { TransactionAction } from '@azure/data-tables';
import { addCounts, STAT_COUNTS, zeroCounts, type TaskCounts, type TaskRecord, type TaskSpec, type TaskState } from '../domain/model';
import { TASK_OUTBOX_PREFIX } from '../events/outbox';
import { packDoc, unpackDoc } from './doc';
import { BUCKETS, CHUNK_PREFIX, COUNTER_PREFIX, counterKey, idKey, JOB_TASK_STATUS_PREFIX, jobOfPartition, jobPartitionsFilter, jobTaskStatusKey, odataString, TASK_ROWS_FROM, taskPartition, taskPartitionOf } from './keys';
import { StorageError } from './errors';
import type { EntityTable, Page, Row, Stored } from './table';

/**
 * The tasks table. Partition = one bucket of a job (`jobId~b`, b = bucketOf(taskId), see keys.ts).
 * A task row keeps its immutable spec in `doc` and its mutable run state in plain columns, so
 * state changes are blind Merge updates that need no read. Each bucket partition has its own
 * counter rows ('!c!N') and pending chunks ('!q!…'), so a state change, its counter delta and its
 * queue entry commit in ONE entity-group transaction. A transaction never spans two buckets.
 */

/** Mutable columns of a task row (everything not in the spec). */
export interface TaskRun {
  state: TaskState;
  stateTransitionTime: string;
  previousState?: TaskState;
  previousStateTransitionTime?: string;
  creationTime: string;
  lastModified: string;
  nodeId?: string;
  poolId?: string;
  claim?: string;
  startTime?: string;
  endTime?: string;
  exitCode?: number;
  result?: 'success' | 'failure';
  failureInfo?: string;
  retryCount: number;
  requeueCount: number;
  lastRetryTime?: string;
  lastRequeueTime?: string;
  stats?: string;
}

/** One runnable task inside a pending chunk: its spec plus what the claim needs. */
export interface PendingEntry {
  spec: TaskSpec;
  retryCount: number;
  activeSince: string;
  /** When the task was added (absent in chunks written before it was recorded: activeSince). */
  creationTime?: string;
  requeueCount?: number;
}

/** A pending (active) task as listed from the queue, with the chunk that holds it. */
export interface PendingListing {
  entries: { entry: PendingEntry; chunkEtag: string }[];
  continuation?: string;
}

export interface Chunk {
  /** The bucket partition holding the chunk (all its entries are tasks of that bucket). */
  bucket: number;
  rowKey: string;
  etag: string;
  entries: PendingEntry[];
  /** Index of the first unclaimed entry. */
  next: number;
}

/**
 * `idl`: the lower-cased id, for case-insensitive id filters (Batch ids are case-preserving). The
 * keys are idKeys; `jobId` keeps the job's id as given when it is not its own key (the partition
 * key holds only the key).
 */
export function taskToRow(jobId: string, spec: TaskSpec, run: TaskRun): Row {
  return { partitionKey: taskPartitionOf(jobId, spec.id), rowKey: idKey(spec.id), idl: spec.id.toLowerCase(), ...(jobId === idKey(jobId) ? {} : { jobId }), ...packDoc(spec), ...runColumns(run) };
}

function runColumns(run: Partial<TaskRun>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(run)) if (v !== undefined) out[k] = v;
  return out;
}

export function taskFromRow(row: Row): TaskRecord {
  const spec = unpackDoc<TaskSpec>(row);
  // An empty string is an emptied column (see resetTaskAction): absent.
  const s = (k: string): string | undefined => (typeof row[k] === 'string' && row[k] !== '' ? (row[k] as string) : undefined);
  const n = (k: string): number | undefined => (typeof row[k] === 'number' ? (row[k] as number) : undefined);
  const failure = s('failureInfo');
  const stats = s('stats');
  const nodeId = s('nodeId');
  const poolId = s('poolId');
  const jobId = s('jobId') ?? jobOfPartition(row.partitionKey);
  return {
    ...spec,
    jobId,
    state: s('state') as TaskState,
    stateTransitionTime: s('stateTransitionTime')!,
    previousState: s('previousState') as TaskState | undefined,
    previousStateTransitionTime: s('previousStateTransitionTime'),
    creationTime: s('creationTime')!,
    lastModified: s('lastModified')!,
    claim: s('claim'),
    executionInfo: {
      startTime: s('startTime'),
      endTime: s('endTime'),
      exitCode: n('exitCode'),
      result: s('result') as 'success' | 'failure' | undefined,
      failureInfo: failure ? JSON.parse(failure) : undefined,
      retryCount: n('retryCount') ?? 0,
      requeueCount: n('requeueCount') ?? 0,
      lastRetryTime: s('lastRetryTime'),
      lastRequeueTime: s('lastRequeueTime'),
    },
    nodeInfo: nodeId && poolId ? { poolId, nodeId, affinityId: `TVM:${nodeId}`, taskRootDirectory: `workitems/${jobId}/job-1/${spec.id}` } : undefined,
    stats: stats ? JSON.parse(stats) : undefined,
  };
}

const COUNT_FIELDS = Object.keys(zeroCounts()) as (keyof TaskCounts)[];

interface CachedCounter {
  etag: string;
  counts: TaskCounts;
  /** When this process learned the value (its commit sequence, see `commits`). */
  seq: number;
}

/** A change to one counter shard, ready to join a transaction. */
export interface CounterChange {
  action: TransactionAction;
  commit(etag: string | undefined): void;
}

export class TaskRepository {
  /** Last known value and ETag of counter shards written by this process (`partition|shard`). */
  private readonly counters = new Map<string, CachedCounter>();
  /** Counter-shard commits of this process so far. */
  private commits = 0;

  private readonly outboxWritten = new Set<string>();

  constructor(private readonly table: EntityTable) {}

  async get(jobId: string, taskId: string): Promise<Stored<TaskRecord> | undefined> {
    const r = await this.table.get(taskPartitionOf(jobId, taskId), idKey(taskId));
    return r && { value: taskFromRow(r.row), etag: r.etag };
  }

  async page(jobId: string, tableFilter: string | undefined, top: number, continuation?: string): Promise<Page<Stored<TaskRecord>>> {
    const filter = `${jobPartitionsFilter(jobId)} and RowKey gt ${odataString(TASK_ROWS_FROM)}` + (tableFilter ? ` and (${tableFilter})` : '');
    const p = await this.table.page(filter, top, continuation);
    return { items: p.items.map((i) => ({ value: taskFromRow(i.row), etag: i.etag })), continuation: p.continuation };
  }

  /** Tasks of a job matching a table filter on run columns (used on rare paths: node loss, claim replay). */
  async find(jobId: string, tableFilter: string): Promise<Stored<TaskRecord>[]> {
    const rows = await this.table.all(`${jobPartitionsFilter(jobId)} and RowKey gt ${odataString(TASK_ROWS_FROM)} and (${tableFilter})`);
    return rows.map((i) => ({ value: taskFromRow(i.row), etag: i.etag }));
  }

  /**
   * Sum of the job's counter shards: one query per bucket partition, at most COUNTER_SHARDS rows
   * each. A shard this process committed to while the read was in flight counts with the value
   * of that commit, so the sum includes every commit of this process that finished before it is
   * returned. `onSum` receives the sum in the same tick (a cache set there misses no later commit).
   */
  async counts(jobId: string, onSum?: (counts: TaskCounts) => void): Promise<TaskCounts> {
    const start = this.commits;
    const perBucket = await Promise.all(BUCKETS.map((b) => this.table.all(`PartitionKey eq ${odataString(taskPartition(jobId, b))} and RowKey ge '${COUNTER_PREFIX}' and RowKey lt '!c~'`)));
    const shards = new Map<string, TaskCounts>();
    for (const { row, etag } of perBucket.flat()) {
      const key = `${row.partitionKey}|${row.rowKey}`;
      const known = this.counters.get(key);
      if (known && known.seq > start) continue;
      shards.set(key, countsOf(row));
      this.counters.set(key, { etag, counts: countsOf(row), seq: start });
    }
    // Job ids never contain '~': `jobId~` prefixes exactly this job's bucket partitions.
    for (const [key, known] of this.counters) if (known.seq > start && key.startsWith(`${idKey(jobId)}~`)) shards.set(key, known.counts);
    let total = zeroCounts();
    for (const c of shards.values()) total = addCounts(total, c);
    onSum?.(total);
    return total;
  }

  /** Builds the transaction action applying `delta` to one counter shard of a bucket (reads the shard only when not cached). */
  async counterChange(jobId: string, bucket: number, shard: number, delta: Partial<TaskCounts>): Promise<CounterChange> {
    const pk = taskPartition(jobId, bucket);
    const rk = counterKey(shard);
    const key = `${pk}|${rk}`;
    let cached = this.counters.get(key);
    if (!cached) {
      const r = await this.table.get(pk, rk);
      cached = r ? { etag: r.etag, counts: countsOf(r.row), seq: this.commits } : { etag: '', counts: zeroCounts(), seq: this.commits };
      this.counters.set(key, cached);
    }
    const next = addCounts(cached.counts, delta);
    const row: Row = { partitionKey: pk, rowKey: rk, ...next };
    // Statistics outgrow Int32 (bytes, milliseconds): typed as Edm.Double, exact up to 2^53.
    for (const f of STAT_COUNTS) row[f] = { value: next[f], type: 'Double' };
    const action: TransactionAction = cached.etag ? ['update', row, 'Replace', { etag: cached.etag }] : ['create', row];
    return {
      action,
      commit: (etag) => {
        if (etag) this.counters.set(key, { etag, counts: next, seq: ++this.commits });
        else this.counters.delete(key);
      },
    };
  }

  forgetCounter(jobId: string, bucket: number, shard: number): void {
    this.counters.delete(`${taskPartition(jobId, bucket)}|${counterKey(shard)}`);
  }

  forgetJob(jobId: string): void {
    for (const k of this.counters.keys()) if (k.startsWith(`${idKey(jobId)}~`)) this.counters.delete(k);
  }

  /** The job's preparation/release status rows ('!p!<nodeId>', in bucket 0), as stored (columns: poolId, nodeId, JSON strings). */
  async jobTaskStatusRows(jobId: string): Promise<Row[]> {
    const rows = await this.table.all(`PartitionKey eq ${odataString(taskPartition(jobId, 0))} and RowKey ge '${JOB_TASK_STATUS_PREFIX}' and RowKey lt '!p~'`);
    return rows.map((r) => r.row);
  }

  /** Merges columns into a node's preparation/release status row (created when absent). */
  async mergeJobTaskStatus(jobId: string, nodeId: string, columns: Record<string, unknown>): Promise<void> {
    await this.table.upsert({ partitionKey: taskPartition(jobId, 0), rowKey: jobTaskStatusKey(nodeId), ...columns }, 'Merge');
  }

  /** The oldest pending chunks of one bucket of a job (FIFO), at most `max`. */
  async chunks(jobId: string, bucket: number, max: number): Promise<Chunk[]> {
    const p = await this.table.page(`PartitionKey eq ${odataString(taskPartition(jobId, bucket))} and RowKey ge '${CHUNK_PREFIX}' and RowKey lt '!q~'`, max);
    return p.items.map(({ row, etag }) => ({ bucket, rowKey: row.rowKey, etag, entries: unpackDoc<PendingEntry[]>(row), next: Number(row.next ?? 0) }));
  }

  /**
   * The job's active tasks, bucket by bucket, each bucket in queue order, read from the pending
   * chunks — the queue IS the index of active tasks, so a page costs a few chunk rows however
   * many tasks the job holds. Continuation: `<bucket>|<chunk row key>|<entry index>`.
   */
  async pending(jobId: string, top: number, continuation?: string): Promise<PendingListing> {
    const [bucketText, fromChunk, fromIndexText] = (continuation ?? '').split('|');
    const fromBucket = Math.max(0, Number(bucketText ?? 0) || 0);
    const fromIndex = Number(fromIndexText ?? 0) || 0;
    const out: PendingListing['entries'] = [];
    for (const bucket of BUCKETS.filter((b) => b >= fromBucket)) {
      const lower = fromChunk && bucket === fromBucket ? `RowKey ge ${odataString(fromChunk)}` : `RowKey ge '${CHUNK_PREFIX}'`;
      let storageCont: string | undefined;
      do {
        const page = await this.table.page(`PartitionKey eq ${odataString(taskPartition(jobId, bucket))} and ${lower} and RowKey lt '!q~'`, 16, storageCont);
        for (const { row, etag } of page.items) {
          const entries = unpackDoc<PendingEntry[]>(row);
          let i = Math.max(Number(row.next ?? 0), bucket === fromBucket && row.rowKey === fromChunk ? fromIndex : 0);
          for (; i < entries.length; i++) {
            if (out.length === top) return { entries: out, continuation: `${bucket}|${row.rowKey}|${i}` };
            out.push({ entry: entries[i]!, chunkEtag: etag });
          }
        }
        storageCont = page.continuation;
      } while (storageCont);
    }
    return { entries: out };
  }

  /** Runs an entity-group transaction in one bucket partition of a job; returns the etags by row key. */
  async transact(actions: TransactionAction[]): Promise<Map<string, string>> {
    const etags = await this.table.transact(actions);
    for (const [, row] of actions) if (row.rowKey.startsWith(TASK_OUTBOX_PREFIX)) this.outboxWritten.add(row.partitionKey);
    return etags;
  }

  /** The partitions this process wrote service-log outbox rows to since the last call (the publisher reads them first). */
  takeOutboxPartitions(): string[] {
    const out = [...this.outboxWritten];
    this.outboxWritten.clear();
    return out;
  }

  /** Deletes every row of a job's bucket partitions (tasks, counters, chunks), 100 per transaction. */
  async deleteJobRows(jobId: string): Promise<number> {
    const rows = await this.table.all(jobPartitionsFilter(jobId), ['PartitionKey', 'RowKey']);
    await this.table.transactAll(rows.map(({ row }) => ['delete', { partitionKey: row.partitionKey, rowKey: row.rowKey }]));
    this.forgetJob(jobId);
    return rows.length;
  }
}

// ---- transaction action builders (pure) ----

export function createTaskAction(jobId: string, spec: TaskSpec, run: TaskRun): TransactionAction {
  return ['create', taskToRow(jobId, spec, run)];
}

export function mergeTaskAction(jobId: string, taskId: string, run: Partial<TaskRun>, etag = '*'): TransactionAction {
  return ['update', { partitionKey: taskPartitionOf(jobId, taskId), rowKey: idKey(taskId), ...runColumns(run) }, 'Merge', { etag }];
}

/** Deletes a task row. */
export function deleteTaskAction(jobId: string, taskId: string): TransactionAction {
  return ['delete', { partitionKey: taskPartitionOf(jobId, taskId), rowKey: idKey(taskId) }];
}

/** Merge-updates run columns and empties `clear` (a Merge cannot remove a property; an empty value reads as absent). */
export function resetTaskAction(jobId: string, taskId: string, run: Partial<TaskRun>, clear: (keyof TaskRun)[], etag: string): TransactionAction {
  const row: Row = { partitionKey: taskPartitionOf(jobId, taskId), rowKey: idKey(taskId), ...runColumns(run) };
  for (const k of clear) row[k] = '';
  return ['update', row, 'Merge', { etag }];
}

/** Rewrites a task's spec (Task_Update) with run columns; `doc` slices the previous spec had beyond the new one are emptied. */
export function mergeTaskSpecAction(jobId: string, spec: TaskSpec, previous: TaskSpec, run: Partial<TaskRun>, etag: string): TransactionAction {
  const doc: Record<string, string> = packDoc(spec);
  for (const k of Object.keys(packDoc(previous))) doc[k] ??= '';
  return ['update', { partitionKey: taskPartitionOf(jobId, spec.id), rowKey: idKey(spec.id), ...doc, ...runColumns(run) }, 'Merge', { etag }];
}

/** A new pending chunk in a bucket: every entry must be a task of that bucket. */
export function createChunkAction(jobId: string, bucket: number, rowKey: string, entries: PendingEntry[]): TransactionAction {
  return ['create', { partitionKey: taskPartition(jobId, bucket), rowKey, next: 0, ...packDoc(entries) }];
}

/**
 * Advances a chunk; ETag-guarded so two claimers never take the same entries. (Deletes inside a
 * transaction cannot carry an ETag, so an exhausted chunk is left with next = length and is
 * removed by a later transaction with `dropChunkAction`, which is safe: it never changes again.)
 */
export function advanceChunkAction(jobId: string, chunk: Chunk, next: number): TransactionAction {
  return ['update', { partitionKey: taskPartition(jobId, chunk.bucket), rowKey: chunk.rowKey, next }, 'Merge', { etag: chunk.etag }];
}

/** Rewrites a chunk without some entries (a pending task was terminated or deleted). */
export function rewriteChunkAction(jobId: string, chunk: Chunk, entries: PendingEntry[]): TransactionAction {
  return ['update', { partitionKey: taskPartition(jobId, chunk.bucket), rowKey: chunk.rowKey, next: 0, ...packDoc(entries) }, 'Replace', { etag: chunk.etag }];
}

export function isExhausted(chunk: Chunk): boolean {
  return chunk.next >= chunk.entries.length;
}

/** Removes an exhausted chunk. */
export function dropChunkAction(jobId: string, chunk: Chunk): TransactionAction {
  return ['delete', { partitionKey: taskPartition(jobId, chunk.bucket), rowKey: chunk.rowKey }];
}

function countsOf(row: Row): TaskCounts {
  const c = zeroCounts();
  for (const f of COUNT_FIELDS) c[f] = Number(row[f] ?? 0) || 0;
  return c;
}

export function isConflictOrStale(err: unknown): err is StorageError {
  return err instanceof StorageError && (err.isConflict || err.isPreconditionFailed);
}
