import { StorageError } from './errors';
import { jobFromRow, jobToRow } from './jobs';
import { bucketOfPartition, idKey, JOB_PK, JOB_TASK_STATUS_PREFIX, jobOfPartition, odataString, POOL_PK, TASK_ROWS_FROM, taskPartition, type TableName } from './keys';
import { nodeFromRow, nodeToRow } from './nodes';
import { poolFromRow, poolToRow } from './pools';
import type { EntityTable, Row } from './table';
import { lifetimeFromRow, lifetimeToRow } from './usage';

/**
 * One-off upgrade of the key layout: keys built from ids became their idKeys (lower case), because
 * Batch ids are case-insensitive (storage/keys.ts). Rows an earlier version wrote under ids with
 * upper-case letters move to their idKey rows, once per storage account (a marker row in the pools
 * table, partition 'meta', records it). Stop the instances of the earlier version first: what they
 * write meanwhile is not moved. Let one instance finish the move before others start: a second
 * instance moving at the same time could copy a row's older state over what the first one's
 * services wrote since.
 *   pools    RowKey → idKey, the row rebuilt from its document (poolToRow);
 *   jobs     RowKey → idKey, rebuilt (jobToRow: the `poolId` column becomes the pool's idKey too);
 *   nodes    PartitionKey and RowKey → idKeys, rebuilt (nodeToRow);
 *   tasks    PartitionKey `jobId~b` → `idKey(jobId)~b`; task rows' RowKey → idKey, the job id kept in
 *            the `jobId` column as taskToRow does; '!p!<nodeId>' → jobTaskStatusKey; the other
 *            rows of a partition (counters, queue chunks, outbox, lease) move unchanged;
 *   metrics  PartitionKey → idKey;
 *   usage    PartitionKey and RowKey → idKeys, the ids kept in their columns (lifetimeToRow).
 * Moves write the new rows first (upserts), then delete the old ones, so a crash part-way leaves
 * copies, never a loss, and the next start finishes the work. Two pools (or jobs) whose ids
 * differed only by case were allowed before: the one whose id is already lower case (else the
 * first) keeps the key; the others are left where they are, unreachable, and reported.
 */
export const ID_KEYS_VERSION = 1;
const MARKER = { partitionKey: 'meta', rowKey: 'id-keys' } as const;

export interface IdKeysReport {
  moved: Record<TableName, number>;
  /** Pools and jobs left under their old keys because another one has their idKey. */
  collisions: string[];
}

export async function upgradeIdKeys(tables: Record<TableName, EntityTable>): Promise<IdKeysReport | undefined> {
  const marker = await tables.pools.get(MARKER.partitionKey, MARKER.rowKey);
  if (marker && Number(marker.row.version) >= ID_KEYS_VERSION) return undefined;
  const report: IdKeysReport = { moved: { pools: 0, nodes: 0, jobs: 0, tasks: 0, metrics: 0, usage: 0 }, collisions: [] };

  const poolRows = await tables.pools.all(`PartitionKey eq ${odataString(POOL_PK)} and RowKey lt '~'`);
  const skipPools = collisions(poolRows.map((r) => r.row.rowKey), 'pool', report);
  report.moved.pools = await moveAll(tables.pools, poolRows.map((r) => r.row), (row) => (skipPools.has(row.rowKey) ? undefined : poolToRow(poolFromRow(row))));

  const jobRows = await tables.jobs.all(`PartitionKey eq ${odataString(JOB_PK)}`);
  const skipJobs = collisions(jobRows.map((r) => r.row.rowKey), 'job', report);
  // Every job row is rewritten whose key or `poolId` column is not an idKey.
  report.moved.jobs = await moveAll(tables.jobs, jobRows.map((r) => r.row), (row) => (skipJobs.has(row.rowKey) ? undefined : jobToRow(jobFromRow(row))), (row) => row.poolId !== idKey(String(row.poolId ?? '')));

  report.moved.nodes = await moveScan(tables.nodes, (row) => (skipPools.has(row.partitionKey) ? undefined : nodeToRow(nodeFromRow(row))));
  report.moved.tasks = await moveScan(tables.tasks, (row) => (skipJobs.has(jobOfPartition(row.partitionKey)) ? undefined : taskRowUnderIdKeys(row)));
  report.moved.metrics = await moveScan(tables.metrics, (row) => (skipPools.has(row.partitionKey) ? undefined : { ...row, partitionKey: idKey(row.partitionKey) }));
  report.moved.usage = await moveScan(tables.usage, (row) => (skipPools.has(row.partitionKey) ? undefined : lifetimeToRow(lifetimeFromRow(row))));

  await tables.pools.upsert({ ...MARKER, version: ID_KEYS_VERSION });
  return report;
}

/** A tasks-table row as the current layout keys it (pure). */
export function taskRowUnderIdKeys(row: Row): Row {
  const job = jobOfPartition(row.partitionKey);
  const partitionKey = taskPartition(job, bucketOfPartition(row.partitionKey));
  if (row.rowKey >= TASK_ROWS_FROM) return { ...row, partitionKey, rowKey: idKey(row.rowKey), ...(job === idKey(job) || typeof row.jobId === 'string' ? {} : { jobId: job }) };
  if (row.rowKey.startsWith(JOB_TASK_STATUS_PREFIX)) return { ...row, partitionKey, rowKey: `${JOB_TASK_STATUS_PREFIX}${idKey(row.rowKey.slice(JOB_TASK_STATUS_PREFIX.length))}` };
  return { ...row, partitionKey };
}

/** The ids (row keys) that must stay where they are: every one but one of each group sharing an idKey. */
export function collisions(ids: readonly string[], kind: string, report: IdKeysReport): Set<string> {
  const byKey = new Map<string, string[]>();
  for (const id of ids) byKey.set(idKey(id), [...(byKey.get(idKey(id)) ?? []), id]);
  const skip = new Set<string>();
  for (const [key, group] of byKey) {
    if (group.length < 2) continue;
    const keep = group.includes(key) ? key : [...group].sort()[0]!;
    for (const id of group) {
      if (id === keep) continue;
      skip.add(id);
      report.collisions.push(`${kind} ${id} (its key is ${keep}'s)`);
    }
  }
  return skip;
}

/** Moves the rows of a whole table, a page at a time (moved rows sort later and are then seen as done). */
async function moveScan(table: EntityTable, rebuild: (row: Row) => Row | undefined): Promise<number> {
  let moved = 0;
  let continuation: string | undefined;
  do {
    const page = await table.page(undefined, 1000, continuation);
    moved += await moveAll(table, page.items.map((i) => i.row), rebuild);
    continuation = page.continuation;
  } while (continuation);
  return moved;
}

/**
 * Writes `rebuild(row)` for each row whose keys are not idKeys (or that `rewrite` asks for), then
 * deletes the old rows that moved (EntityTable.transactAll: per partition, ≤ 100 per transaction).
 */
async function moveAll(table: EntityTable, rows: readonly Row[], rebuild: (row: Row) => Row | undefined, rewrite: (row: Row) => boolean = () => false): Promise<number> {
  const writes: Row[] = [];
  const deletes: Row[] = [];
  for (const row of rows) {
    const old = stored(row);
    if (old.partitionKey === 'meta') continue;
    const next = idKey(old.partitionKey) !== old.partitionKey || idKey(old.rowKey) !== old.rowKey || rewrite(old) ? rebuild(old) : undefined;
    if (!next) continue;
    writes.push(next);
    if (next.partitionKey !== old.partitionKey || next.rowKey !== old.rowKey) deletes.push(old);
  }
  await table.transactAll(writes.map((r) => ['upsert', r, 'Replace']));
  try {
    await table.transactAll(deletes.map((r) => ['delete', { partitionKey: r.partitionKey, rowKey: r.rowKey }]));
  } catch (err) {
    // A row already gone (a move that stopped part-way): delete one by one, a missing row is fine.
    if (!(err instanceof StorageError && err.isNotFound)) throw err;
    for (const r of deletes) await table.delete(r.partitionKey, r.rowKey);
  }
  return writes.length;
}

/**
 * A listed row as it can be written again: without what the listing adds (etag, timestamp, odata
 * annotations), and numbers that are not Int32 typed as Edm.Double (as they were stored).
 */
export function stored(row: Row): Row {
  const out: Row = { partitionKey: row.partitionKey, rowKey: row.rowKey };
  for (const [k, v] of Object.entries(row)) {
    if (k === 'etag' || k === 'timestamp' || k.startsWith('odata.')) continue;
    out[k] = typeof v === 'number' && !(Number.isInteger(v) && Math.abs(v) < 2 ** 31) ? { value: v, type: 'Double' } : v;
  }
  return out;
}
