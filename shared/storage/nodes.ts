import type { NodeRecord } from '../domain/model';
import { dateColumns, packDoc, unpackDoc } from './doc';
import { idKey, odataString } from './keys';
import type { EntityTable, Page, Row, Stored } from './table';

/** Keys are the pool's and the node's idKeys. Filter columns (see api/ops/columns.ts): the state, times as Table DateTimes. */
export function nodeToRow(n: NodeRecord): Row {
  return {
    partitionKey: idKey(n.poolId), rowKey: idKey(n.id), state: n.state,
    ...dateColumns({ stateTransitionTime: n.stateTransitionTime, allocationTime: n.allocationTime, lastBootTime: n.lastBootTime }),
    ...packDoc(n),
  };
}

export function nodeFromRow(row: Row): NodeRecord {
  return unpackDoc<NodeRecord>(row);
}

/** The nodes table: partition = pool id, one row per compute node. */
export class NodeRepository {
  constructor(private readonly table: EntityTable) {}

  async get(poolId: string, nodeId: string): Promise<Stored<NodeRecord> | undefined> {
    const r = await this.table.get(idKey(poolId), idKey(nodeId));
    return r && { value: nodeFromRow(r.row), etag: r.etag };
  }

  async insert(n: NodeRecord): Promise<string> {
    return this.table.create(nodeToRow(n));
  }

  async update(n: NodeRecord, etag: string): Promise<string> {
    return this.table.update(nodeToRow(n), etag);
  }

  async delete(poolId: string, nodeId: string, etag = '*'): Promise<boolean> {
    return this.table.delete(idKey(poolId), idKey(nodeId), etag);
  }

  async listByPool(poolId: string): Promise<Stored<NodeRecord>[]> {
    const rows = await this.table.all(`PartitionKey eq ${odataString(idKey(poolId))}`);
    return rows.map((i) => ({ value: nodeFromRow(i.row), etag: i.etag }));
  }

  async page(poolId: string, tableFilter: string | undefined, top: number, continuation?: string): Promise<Page<Stored<NodeRecord>>> {
    const filter = [`PartitionKey eq ${odataString(idKey(poolId))}`, tableFilter ? `(${tableFilter})` : undefined].filter(Boolean).join(' and ');
    const p = await this.table.page(filter, top, continuation);
    return { items: p.items.map((i) => ({ value: nodeFromRow(i.row), etag: i.etag })), continuation: p.continuation };
  }

  /** Every node of every pool (the monitor's sweep; bounded by the core quota). */
  async all(): Promise<Stored<NodeRecord>[]> {
    const rows = await this.table.all(undefined);
    return rows.map((i) => ({ value: nodeFromRow(i.row), etag: i.etag }));
  }
}
