import type { PoolRecord } from '../domain/model';
import { dateColumns, packDoc, unpackDoc } from './doc';
import { idKey, odataString, POOL_PK } from './keys';
import type { TransactionAction } from '@azure/data-tables';
import type { EntityTable, Page, Row, Stored } from './table';

/** Pool rows have ids' keys (idKey) as row keys; other rows of the partition (the outbox, '~o~…') sort after '~'. */
const POOL_ROWS = `PartitionKey eq ${odataString(POOL_PK)} and RowKey lt '~'`;

/**
 * Converts a pool record to its row. Filter columns (see api/ops/columns.ts): strings lower-cased
 * (`idl` = the id, Batch matches values case-insensitively), times as Table DateTimes.
 */
export function poolToRow(p: PoolRecord): Row {
  return {
    partitionKey: POOL_PK,
    rowKey: idKey(p.id),
    idl: idKey(p.id),
    state: p.state,
    allocationState: p.allocationState,
    vmSize: p.vmSize.toLowerCase(),
    autoScale: p.enableAutoScale,
    interNode: p.enableInterNodeCommunication,
    ...dateColumns({ creationTime: p.creationTime, stateTransitionTime: p.stateTransitionTime, allocationStateTransitionTime: p.allocationStateTransitionTime, lastModified: p.lastModified }),
    ...packDoc(p),
  };
}

export function poolFromRow(row: Row): PoolRecord {
  return unpackDoc<PoolRecord>(row);
}

/** The pools table: one row per pool, ETag-guarded read-modify-write. */
export class PoolRepository {
  constructor(private readonly table: EntityTable) {}

  async get(id: string): Promise<Stored<PoolRecord> | undefined> {
    const r = await this.table.get(POOL_PK, idKey(id));
    return r && { value: poolFromRow(r.row), etag: r.etag };
  }

  /** Throws StorageError 409 when the pool exists. */
  async insert(p: PoolRecord): Promise<string> {
    return this.table.create(poolToRow(p));
  }

  /** Throws StorageError 412 when the ETag is stale. */
  async update(p: PoolRecord, etag: string): Promise<string> {
    return this.table.update(poolToRow(p), etag);
  }

  async delete(id: string, etag = '*'): Promise<boolean> {
    return this.table.delete(POOL_PK, idKey(id), etag);
  }

  /** Insert plus extra actions of the same partition (the outbox) in one transaction; 409 when it exists. */
  async insertWith(p: PoolRecord, extra: TransactionAction[]): Promise<string> {
    if (extra.length === 0) return this.insert(p);
    return (await this.table.transact([['create', poolToRow(p)], ...extra])).get(idKey(p.id)) ?? '';
  }

  /** ETag-guarded replace plus extra actions in one transaction; 412 when stale. */
  async updateWith(p: PoolRecord, etag: string, extra: TransactionAction[]): Promise<string> {
    if (extra.length === 0) return this.update(p, etag);
    return (await this.table.transact([['update', poolToRow(p), 'Replace', { etag }], ...extra])).get(idKey(p.id)) ?? '';
  }

  /** Delete plus extra actions in one transaction. */
  async deleteWith(id: string, extra: TransactionAction[]): Promise<void> {
    if (extra.length === 0) {
      await this.delete(id);
      return;
    }
    await this.table.transact([['delete', { partitionKey: POOL_PK, rowKey: idKey(id) }], ...extra]);
  }

  async list(tableFilter: string | undefined, top: number, continuation?: string): Promise<Page<Stored<PoolRecord>>> {
    const filter = [POOL_ROWS, tableFilter ? `(${tableFilter})` : undefined].filter(Boolean).join(' and ');
    const page = await this.table.page(filter, top, continuation);
    return { items: page.items.map((i) => ({ value: poolFromRow(i.row), etag: i.etag })), continuation: page.continuation };
  }

  /** Every pool (bounded by the account's pool quota). */
  async all(): Promise<Stored<PoolRecord>[]> {
    const rows = await this.table.all(POOL_ROWS);
    return rows.map((i) => ({ value: poolFromRow(i.row), etag: i.etag }));
  }
}
