import { jobFromRow, jobToRow } from './jobs';
import { JOB_PK, odataString, POOL_PK } from './keys';
import { poolFromRow, poolToRow } from './pools';
import { StorageError } from './errors';
import type { EntityTable, Row } from './table';

/**
 * One-off upgrade of rows written before the filter columns existed (`idl`, the time columns…,
 * see api/ops/columns.ts): pool and job rows are rewritten from their documents, once per storage
 * account; a marker row (pools table, partition 'meta', which no pool query reads) records it.
 * Node rows are rewritten by every state change; task rows are not upgraded (a job says whether
 * its task rows carry `idl`: JobRecord.taskIdIndex).
 */
export const INDEX_COLUMNS_VERSION = 1;
const MARKER = { partitionKey: 'meta', rowKey: 'index-columns' } as const;

export async function upgradeIndexColumns(pools: EntityTable, jobs: EntityTable): Promise<number> {
  const marker = await pools.get(MARKER.partitionKey, MARKER.rowKey);
  if (marker && Number(marker.row.version) >= INDEX_COLUMNS_VERSION) return 0;
  const rewrite = async (table: EntityTable, filter: string, toRow: (row: Row) => Row): Promise<number> => {
    let n = 0;
    for (const { row, etag } of await table.all(filter)) {
      if (row.idl !== undefined) continue;
      try {
        await table.update(toRow(row), etag, 'Merge');
        n++;
      } catch (err) {
        // Rewritten meanwhile (by current code, which writes the columns) or deleted: nothing to do.
        if (!(err instanceof StorageError && (err.isPreconditionFailed || err.isNotFound))) throw err;
      }
    }
    return n;
  };
  const n = (await rewrite(pools, `PartitionKey eq ${odataString(POOL_PK)} and RowKey lt '~'`, (r) => poolToRow(poolFromRow(r))))
    + (await rewrite(jobs, `PartitionKey eq ${odataString(JOB_PK)}`, (r) => jobToRow(jobFromRow(r))));
  await pools.upsert({ ...MARKER, version: INDEX_COLUMNS_VERSION });
  return n;
}
