/**
 * Every PartitionKey / RowKey of batchplane is built here.
 *
 * Tables (names carry a configurable prefix so tests can isolate themselves):
 *   pools  PK 'pool'      RK poolId                     one row per pool
 *   nodes  PK poolId      RK nodeId                     one row per compute node
 *   jobs   PK 'job'       RK jobId                      one row per job
 *   tasks  PK jobId~b     RK taskId                     one row per task in bucket b = bucketOf(taskId), plus
 *                                                       special rows in every bucket partition:
 *                         RK '!c!<shard>'               task-count counters (summed over the job's buckets on read)
 *                         RK '!q!<time><seq>'           pending chunks: FIFO runnable tasks of the bucket with their specs
 *                         RK '!o!…' / '!l!'             service-log outbox rows and their publisher lease
 *                       and in bucket 0 only:
 *                         RK '!p!<nodeId>'              job preparation/release status of one node
 *
 * Why buckets: a job's tasks are spread over TASK_BUCKETS partitions so that no partition holds
 * more than 1/TASK_BUCKETS of a big job. Every state change of a task (its row, its queue entry,
 * its counter delta, its outbox row) still commits in ONE entity-group transaction, inside its
 * bucket. Storage emulators look a row up by scanning its partition, and real Table storage serves
 * about 2,000 entity writes/s per partition: both limits now apply per bucket, not per job.
 *   metrics PK poolId    RK sampleKey(time)            one autoscale metric sample per pool and period, newest first
 *   usage  PK poolId      RK nodeId                     one node lifetime, written when the node is removed
 * Batch ids are [A-Za-z0-9_-]; special rows start with '!' (sorts before any id) and end before '!~'.
 * Batch ids are case-preserving and case-insensitive: every key built from an id is its idKey (lower
 * case), so 'MyPool' and 'mypool' are one row; the records keep the id as it was given.
 */
export const TABLES = ['pools', 'nodes', 'jobs', 'tasks', 'metrics', 'usage'] as const;
export type TableName = (typeof TABLES)[number];

export const POOL_PK = 'pool';

/** The key of a Batch id (pool, job, task, node): ids compare case-insensitively. */
export function idKey(id: string): string {
  return id.toLowerCase();
}
export const JOB_PK = 'job';

export const COUNTER_PREFIX = '!c!';
export const CHUNK_PREFIX = '!q!';
export const JOB_TASK_STATUS_PREFIX = '!p!';

/** RowKey of a node's job preparation/release status row (in the job's tasks partition). */
export function jobTaskStatusKey(nodeId: string): string {
  return `${JOB_TASK_STATUS_PREFIX}${idKey(nodeId)}`;
}
/** Rows with RowKey >= this are user tasks. */
export const TASK_ROWS_FROM = '!~';
/** Counter shards per bucket partition (writers are spread over them to avoid ETag races). */
export const COUNTER_SHARDS = 4;

/** Partitions a job's tasks are spread over. Part of the stored layout: changing it orphans existing rows. */
export const TASK_BUCKETS = 8;

/**
 * The bucket of a task id (case-insensitive, as Batch ids are): FNV-1a, mixed with MurmurHash3's
 * finalizer (the low bits of plain FNV-1a depend only on the low bits of each character).
 */
export function bucketOf(taskId: string): number {
  let h = fnv1a(idKey(taskId));
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) % TASK_BUCKETS;
}

/** PartitionKey of one bucket of a job's tasks. Ids never contain '~', so `jobId~` prefixes only this job's buckets. */
export function taskPartition(jobId: string, bucket: number): string {
  return `${idKey(jobId)}~${bucket}`;
}

/** PartitionKey of a task's row. */
export function taskPartitionOf(jobId: string, taskId: string): string {
  return taskPartition(jobId, bucketOf(taskId));
}

/** The job's idKey of a tasks-table PartitionKey. */
export function jobOfPartition(partitionKey: string): string {
  const i = partitionKey.lastIndexOf('~');
  return i < 0 ? partitionKey : partitionKey.slice(0, i);
}

/** The bucket of a tasks-table PartitionKey. */
export function bucketOfPartition(partitionKey: string): number {
  return Number(partitionKey.slice(partitionKey.lastIndexOf('~') + 1)) || 0;
}

/** Table filter selecting every bucket partition of a job (one range). */
export function jobPartitionsFilter(jobId: string): string {
  return `PartitionKey gt ${odataString(`${idKey(jobId)}~`)} and PartitionKey lt ${odataString(`${idKey(jobId)}~~`)}`;
}

/** The buckets 0 … TASK_BUCKETS − 1. */
export const BUCKETS: readonly number[] = Array.from({ length: TASK_BUCKETS }, (_, b) => b);

export function counterKey(shard: number): string {
  return `${COUNTER_PREFIX}${String(shard).padStart(2, '0')}`;
}

/** Stable shard for a writer (a node id, or 'add' plus a task id). */
export function shardOf(key: string): number {
  return fnv1a(key) % COUNTER_SHARDS;
}

function fnv1a(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** FIFO key of a pending chunk: time first, then a per-process sequence, then a random tail. */
export function chunkKey(nowMs: number, seq: number, rand: string): string {
  return `${CHUNK_PREFIX}${String(nowMs).padStart(15, '0')}${String(seq % 1_000_000).padStart(6, '0')}${rand}`;
}

/** Inverted, fixed-width time so that a partition lists its newest sample first. */
export function sampleKey(timeMs: number): string {
  return String(9_999_999_999_999 - Math.floor(timeMs)).padStart(13, '0');
}

export function sampleTimeOf(rowKey: string): number {
  return 9_999_999_999_999 - Number(rowKey);
}

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** OData string literal for table filters. */
export function odataString(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}
