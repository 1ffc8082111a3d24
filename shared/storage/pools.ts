import type { PoolRecord } from '../domain/model';
import { packDoc, unpackDoc } from './doc';
import { odataString, POOL_PK } from './keys';
import type { EntityTable, Page, Row, Stored } from './table';

/** Converts a pool record to its row; indexed columns hold lower-cased values for filters. */
export function poolToRow(p: PoolRecord): Row {
  return {
    partitionKey: POOL_PK,
    rowKey: p.id,
    state: p.state,
    allocationState: p.allocationState,
    vmSize: p.vmSize.toLowerCase(),
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
    const r = await this.table.get(POOL_PK, id);
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
    return this.table.delete(POOL_PK, id, etag);
  }

  async list(tableFilter: string | undefined, top: number, continuation?: string): Promise<Page<Stored<PoolRecord>>> {
    const filter = [`PartitionKey eq ${odataString(POOL_PK)}`, tableFilter ? `(${tableFilter})` : undefined].filter(Boolean).join(' and ');
    const page = await this.table.page(filter, top, continuation);
    return { items: page.items.map((i) => ({ value: poolFromRow(i.row), etag: i.etag })), continuation: page.continuation };
  }

  /** Every pool (bounded by the account's pool quota). */
  async all(): Promise<Stored<PoolRecord>[]> {
    const rows = await this.table.all(`PartitionKey eq ${odataString(POOL_PK)}`);
    return rows.map((i) => ({ value: poolFromRow(i.row), etag: i.etag }));
  }
}
