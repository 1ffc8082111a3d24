import type { TransactionAction } from '@azure/data-tables';
import { LeaseLostError, type LeaseState, type OutboxSnapshot, type OutboxStore, type StoredLease } from '../events/lease';
import { parseOutboxRow, POOL_OUTBOX_PREFIX, TASK_OUTBOX_PREFIX } from '../events/outbox';
import type { OutboxRow, OutboxSource } from '../events/records';
import { StorageError } from './errors';
import { odataString } from './keys';
import type { EntityTable, Row } from './table';

/**
 * The service-log outbox of the pools and tasks tables, with its publisher lease row:
 *
 *   pools  PK 'pool'   RK '~l~'   lease          RK '~o~<time><seq><rand>'  outbox rows
 *   tasks  PK jobId~b  RK '!l!'   lease          RK '!o!<time><seq><rand>'  outbox rows (per bucket partition)
 *
 * The lease sorts just before the outbox rows and nothing else sorts between them, so one range
 * query reads the lease and the oldest rows together. Pool rows (ids) sort before '~'; task rows
 * from '!~'; counters ('!c!') before '!l!'; pending chunks ('!q!') after '!o!~'.
 */
export const POOL_LEASE_KEY = '~l~';
export const TASK_LEASE_KEY = '!l!';

interface Layout {
  table: EntityTable;
  lease: string;
  prefix: string;
}

export class OutboxRepository implements OutboxStore {
  constructor(private readonly tables: { pools: EntityTable; tasks: EntityTable }) {}

  private layout(source: OutboxSource): Layout {
    return source.table === 'pools'
      ? { table: this.tables.pools, lease: POOL_LEASE_KEY, prefix: POOL_OUTBOX_PREFIX }
      : { table: this.tables.tasks, lease: TASK_LEASE_KEY, prefix: TASK_OUTBOX_PREFIX };
  }

  async snapshot(source: OutboxSource, max: number): Promise<OutboxSnapshot> {
    const l = this.layout(source);
    const filter = `PartitionKey eq ${odataString(source.partitionKey)} and RowKey ge ${odataString(l.lease)} and RowKey lt ${odataString(`${l.prefix}~`)}`;
    const page = await l.table.page(filter, max + 1);
    let lease: StoredLease | undefined;
    const rows: OutboxRow[] = [];
    for (const { row, etag } of page.items) {
      if (row.rowKey === l.lease) lease = { state: leaseFromRow(row), etag };
      else if (row.rowKey.startsWith(l.prefix)) rows.push({ rowKey: row.rowKey, events: parseOutboxRow(row) });
    }
    const more = !!page.continuation || rows.length > max;
    return { lease, rows: rows.slice(0, max), more };
  }

  async rows(source: OutboxSource, rowKeys: readonly string[]): Promise<OutboxRow[]> {
    const l = this.layout(source);
    const found = await Promise.all(rowKeys.map((rk) => l.table.get(source.partitionKey, rk)));
    return found.flatMap((f) => (f ? [{ rowKey: f.row.rowKey, events: parseOutboxRow(f.row) }] : []));
  }

  async writeLease(source: OutboxSource, state: LeaseState, etag: string | undefined): Promise<string> {
    const l = this.layout(source);
    const row = leaseToRow(source.partitionKey, l.lease, state);
    try {
      return etag === undefined ? await l.table.create(row) : await l.table.update(row, etag);
    } catch (err) {
      throw lost(source, err);
    }
  }

  async complete(source: OutboxSource, rowKeys: readonly string[], state: LeaseState, etag: string): Promise<string> {
    const l = this.layout(source);
    if (rowKeys.length > 99) throw new Error('an outbox attempt holds at most 99 rows');
    const actions: TransactionAction[] = rowKeys.map((rk) => ['delete', { partitionKey: source.partitionKey, rowKey: rk }]);
    actions.push(['update', leaseToRow(source.partitionKey, l.lease, state), 'Replace', { etag }]);
    try {
      const etags = await l.table.transact(actions);
      return etags.get(l.lease) ?? '';
    } catch (err) {
      throw lost(source, err);
    }
  }
}

function lost(source: OutboxSource, err: unknown): unknown {
  if (err instanceof StorageError && (err.isConflict || err.isPreconditionFailed)) return new LeaseLostError(source);
  // A table transaction reports a stale ETag on its lease action as 412 with the failing index.
  if (err instanceof StorageError && /UpdateConditionNotSatisfied|ConditionNotMet/i.test(err.code)) return new LeaseLostError(source);
  return err;
}

export function leaseToRow(partitionKey: string, rowKey: string, s: LeaseState): Row {
  return { partitionKey, rowKey, owner: s.owner, expiresAt: s.expiresAt, inflight: JSON.stringify(s.inflight), inflightAt: s.inflightAt ?? '' };
}

export function leaseFromRow(row: Row): LeaseState {
  let inflight: string[] = [];
  try {
    const v = JSON.parse(String(row.inflight ?? '[]')) as unknown;
    if (Array.isArray(v)) inflight = v.filter((k): k is string => typeof k === 'string');
  } catch {
    inflight = [];
  }
  const at = typeof row.inflightAt === 'string' && row.inflightAt ? row.inflightAt : undefined;
  return { owner: String(row.owner ?? ''), expiresAt: String(row.expiresAt ?? new Date(0).toISOString()), inflight, ...(at ? { inflightAt: at } : {}) };
}
