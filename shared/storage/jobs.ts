import type { JobRecord } from '../domain/model';
import { dateColumns, packDoc, unpackDoc } from './doc';
import { idKey, JOB_PK, odataString } from './keys';
import type { EntityTable, Page, Row, Stored } from './table';

/** Filter columns (see api/ops/columns.ts): `idl`/`poolIdl` lower-cased, times as Table DateTimes; `poolId` is the pool's idKey (activeOnPool). */
export function jobToRow(j: JobRecord): Row {
  return {
    partitionKey: JOB_PK,
    rowKey: idKey(j.id),
    idl: idKey(j.id),
    state: j.state,
    poolId: idKey(j.poolInfo.poolId ?? ''),
    ...(j.executionInfo.poolId ? { poolIdl: j.executionInfo.poolId.toLowerCase() } : {}),
    priority: j.priority,
    ...dateColumns({ creationTime: j.creationTime, stateTransitionTime: j.stateTransitionTime, lastModified: j.lastModified, startTime: j.executionInfo.startTime, endTime: j.executionInfo.endTime }),
    ...packDoc(j),
  };
}

export function jobFromRow(row: Row): JobRecord {
  return unpackDoc<JobRecord>(row);
}

/** The jobs table: one row per job. */
export class JobRepository {
  constructor(private readonly table: EntityTable) {}

  async get(id: string): Promise<Stored<JobRecord> | undefined> {
    const r = await this.table.get(JOB_PK, idKey(id));
    return r && { value: jobFromRow(r.row), etag: r.etag };
  }

  async insert(j: JobRecord): Promise<string> {
    return this.table.create(jobToRow(j));
  }

  async update(j: JobRecord, etag: string): Promise<string> {
    return this.table.update(jobToRow(j), etag);
  }

  async delete(id: string, etag = '*'): Promise<boolean> {
    return this.table.delete(JOB_PK, idKey(id), etag);
  }

  async list(tableFilter: string | undefined, top: number, continuation?: string): Promise<Page<Stored<JobRecord>>> {
    const filter = [`PartitionKey eq ${odataString(JOB_PK)}`, tableFilter ? `(${tableFilter})` : undefined].filter(Boolean).join(' and ');
    const p = await this.table.page(filter, top, continuation);
    return { items: p.items.map((i) => ({ value: jobFromRow(i.row), etag: i.etag })), continuation: p.continuation };
  }

  /** Every job (follows continuations; the account's job quota bounds it). */
  async all(): Promise<Stored<JobRecord>[]> {
    const rows = await this.table.all(`PartitionKey eq ${odataString(JOB_PK)}`);
    return rows.map((i) => ({ value: jobFromRow(i.row), etag: i.etag }));
  }

  /** Jobs that can run tasks on a pool (active or terminating-with-running tasks are not needed). */
  async activeOnPool(poolId: string): Promise<Stored<JobRecord>[]> {
    const rows = await this.table.all(`PartitionKey eq ${odataString(JOB_PK)} and poolId eq ${odataString(idKey(poolId))} and state eq 'active'`);
    return rows.map((i) => ({ value: jobFromRow(i.row), etag: i.etag }));
  }

  async onPool(poolId: string): Promise<Stored<JobRecord>[]> {
    const rows = await this.table.all(`PartitionKey eq ${odataString(JOB_PK)} and poolId eq ${odataString(idKey(poolId))}`);
    return rows.map((i) => ({ value: jobFromRow(i.row), etag: i.etag }));
  }
}
