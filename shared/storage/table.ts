import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { decorate } from './errors';

export type Row = Record<string, unknown> & { partitionKey: string; rowKey: string };
export interface Stored<T> {
  value: T;
  etag: string;
}
export interface Page<T> {
  items: T[];
  continuation?: string;
}

/**
 * A thin, typed wrapper over one TableClient: every call is decorated into StorageError.
 * Repositories build on it; nothing else touches a TableClient.
 */
export class EntityTable {
  constructor(readonly client: TableClient) {}

  async get(pk: string, rk: string): Promise<{ row: Row; etag: string } | undefined> {
    try {
      const e = await decorate(this.client.getEntity<Record<string, unknown>>(pk, rk));
      return { row: e as unknown as Row, etag: e.etag };
    } catch (err) {
      if ((err as { isNotFound?: boolean }).isNotFound) return undefined;
      throw err;
    }
  }

  async create(row: Row): Promise<string> {
    const r = await decorate(this.client.createEntity(row));
    return r.etag ?? '';
  }

  async update(row: Row, etag: string, mode: 'Merge' | 'Replace' = 'Replace'): Promise<string> {
    const r = await decorate(this.client.updateEntity(row, mode, { etag }));
    return r.etag ?? '';
  }

  async upsert(row: Row, mode: 'Merge' | 'Replace' = 'Replace'): Promise<string> {
    const r = await decorate(this.client.upsertEntity(row, mode));
    return r.etag ?? '';
  }

  async delete(pk: string, rk: string, etag = '*'): Promise<boolean> {
    try {
      await decorate(this.client.deleteEntity(pk, rk, { etag }));
      return true;
    } catch (err) {
      if ((err as { isNotFound?: boolean }).isNotFound) return false;
      throw err;
    }
  }

  /** One page of a query (≤ 1000 rows), with the storage continuation token. */
  async page(filter: string | undefined, top: number, continuation?: string, select?: string[]): Promise<Page<{ row: Row; etag: string }>> {
    const iter = this.client
      .listEntities<Record<string, unknown>>({ queryOptions: { filter, select } })
      .byPage({ maxPageSize: top, continuationToken: continuation });
    const res = await decorate(iter.next());
    if (res.done || !res.value) return { items: [] };
    const page = res.value as TableEntityResult<Record<string, unknown>>[] & { continuationToken?: string };
    return {
      items: page.map((e) => ({ row: e as unknown as Row, etag: e.etag })),
      continuation: page.continuationToken,
    };
  }

  /** Every row matching the filter (follows continuations). Use only on bounded sets. */
  async all(filter: string | undefined, select?: string[]): Promise<{ row: Row; etag: string }[]> {
    const out: { row: Row; etag: string }[] = [];
    let continuation: string | undefined;
    do {
      const p = await this.page(filter, 1000, continuation, select);
      out.push(...p.items);
      continuation = p.continuation;
    } while (continuation);
    return out;
  }

  /** Actions of any partitions and number: grouped by partition, ≤ 100 per transaction, one transaction after another. */
  async transactAll(actions: readonly TransactionAction[]): Promise<void> {
    const byPartition = new Map<string, TransactionAction[]>();
    for (const a of actions) {
      const pk = (a[1] as { partitionKey: string }).partitionKey;
      const group = byPartition.get(pk);
      if (group) group.push(a);
      else byPartition.set(pk, [a]);
    }
    for (const group of byPartition.values()) for (let i = 0; i < group.length; i += 100) await this.transact(group.slice(i, i + 100));
  }

  /** An entity-group transaction (≤ 100 actions, one partition); returns the etags by row key. */
  async transact(actions: TransactionAction[]): Promise<Map<string, string>> {
    const etags = new Map<string, string>();
    if (actions.length === 0) return etags;
    const res = await decorate(this.client.submitTransaction(actions));
    // Sub-responses come in action order; only creates carry a rowKey, so map by index.
    res.subResponses.forEach((s, i) => {
      const rowKey = s.rowKey ?? (actions[i]?.[1] as { rowKey?: string } | undefined)?.rowKey;
      if (s.etag && rowKey) etags.set(rowKey, s.etag);
    });
    return etags;
  }
}
