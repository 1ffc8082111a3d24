/**
 * Every PartitionKey / RowKey of batchplane is built here.
 *
 * Tables (names carry a configurable prefix so tests can isolate themselves):
 *   pools  PK 'pool'      RK poolId                     one row per pool
 *   nodes  PK poolId      RK nodeId                     one row per compute node
 *   jobs   PK 'job'       RK jobId                      one row per job
 *   tasks  PK jobId       RK taskId                     one row per task, plus special rows:
 *                         RK '!c!<shard>'               task-count counters (summed on read)
 *                         RK '!q!<time><seq>'           pending chunks: FIFO runnable tasks with their specs
 *                         RK '!p!<nodeId>'              job preparation/release status of one node
 *   metrics PK poolId    RK sampleKey(time)            one autoscale metric sample per pool and period, newest first
 *   usage  PK poolId      RK nodeId                     one node lifetime, written when the node is removed
 * Batch ids are [A-Za-z0-9_-]; special rows start with '!' (sorts before any id) and end before '!~'.
 */
export const TABLES = ['pools', 'nodes', 'jobs', 'tasks', 'metrics', 'usage'] as const;
export type TableName = (typeof TABLES)[number];

export const POOL_PK = 'pool';
export const JOB_PK = 'job';

export const COUNTER_PREFIX = '!c!';
export const CHUNK_PREFIX = '!q!';
export const JOB_TASK_STATUS_PREFIX = '!p!';

/** RowKey of a node's job preparation/release status row (in the job's tasks partition). */
export function jobTaskStatusKey(nodeId: string): string {
  return `${JOB_TASK_STATUS_PREFIX}${nodeId}`;
}
/** Rows with RowKey >= this are user tasks. */
export const TASK_ROWS_FROM = '!~';
export const COUNTER_SHARDS = 16;

export function counterKey(shard: number): string {
  return `${COUNTER_PREFIX}${String(shard).padStart(2, '0')}`;
}

/** Stable shard for a writer (a node id, or 'add' plus a task id). */
export function shardOf(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % COUNTER_SHARDS;
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
