import type { NodeLifetime } from '../domain/stats';
import type { NodeUsage } from '../nodes/protocol';
import { idKey, odataString } from './keys';
import type { EntityTable, Row } from './table';

/**
 * The usage table: one row per closed node lifetime (partition = the pool's idKey, row = the node's; the
 * ids as given in `poolId`/`nodeId`), written
 * when the node is removed. Open lifetimes are the live node rows. Columns: `start`/`end` (Table
 * DateTimes, so time ranges are server-side filters), `vmSize`, `cores`, `dedicated`, and the last
 * lifetime usage the node's agent reported (`usage`, JSON).
 * Node ids are unique, so writing a lifetime twice (a replayed removal) replaces it: no double count.
 */
export function lifetimeToRow(l: NodeLifetime): Row {
  return {
    partitionKey: idKey(l.poolId),
    rowKey: idKey(l.nodeId),
    poolId: l.poolId,
    nodeId: l.nodeId,
    vmSize: l.vmSize,
    cores: l.cores,
    dedicated: l.dedicated,
    start: new Date(l.start),
    end: new Date(l.end),
    ...(l.usage ? { usage: JSON.stringify(l.usage) } : {}),
  };
}

export function lifetimeFromRow(row: Record<string, unknown>): NodeLifetime {
  const time = (v: unknown): number => (v instanceof Date ? v.getTime() : Date.parse(String(v)));
  let usage: NodeUsage | undefined;
  if (typeof row.usage === 'string') {
    try {
      usage = JSON.parse(row.usage) as NodeUsage;
    } catch {
      usage = undefined;
    }
  }
  return {
    poolId: String(row.poolId ?? row.partitionKey),
    nodeId: String(row.nodeId ?? row.rowKey),
    vmSize: String(row.vmSize ?? ''),
    cores: Number(row.cores ?? 1) || 1,
    dedicated: row.dedicated !== false,
    start: time(row.start),
    end: time(row.end),
    ...(usage ? { usage } : {}),
  };
}

const iso = (ms: number): string => `datetime'${new Date(ms).toISOString()}'`;

export class UsageRepository {
  constructor(private readonly table: EntityTable) {}

  /** Records a closed lifetime (idempotent). */
  async record(l: NodeLifetime): Promise<void> {
    await this.table.upsert(lifetimeToRow(l), 'Replace');
  }

  /** Closed lifetimes of a pool that ended at or after `sinceMs`. */
  async ofPool(poolId: string, sinceMs: number): Promise<NodeLifetime[]> {
    const rows = await this.table.all(`PartitionKey eq ${odataString(idKey(poolId))} and end ge ${iso(sinceMs)}`);
    return rows.map((r) => lifetimeFromRow(r.row));
  }

  /** Closed lifetimes of every pool that overlap [fromMs, toMs). */
  async overlapping(fromMs: number, toMs: number): Promise<NodeLifetime[]> {
    const rows = await this.table.all(`end gt ${iso(fromMs)} and start lt ${iso(toMs)}`);
    return rows.map((r) => lifetimeFromRow(r.row));
  }
}
