import { describe, expect, it } from 'vitest';
import { LeaseLostError, type LeaseState, type OutboxStore } from '../../shared/events/lease';
import type { OutboxEvent } from '../../shared/events/outbox';
import type { OutboxSource } from '../../shared/events/records';
import { sampleEvent } from '../support/service-logs';

/** The OutboxStore contract: the fake (unit) and the Table-storage repository (integration). */
export interface StoreHarness {
  store: OutboxStore;
  /** A fresh, empty source partition. */
  source(): OutboxSource;
  /** Writes one outbox row as the services do; returns its row key. */
  add(source: OutboxSource, events: OutboxEvent[]): Promise<string>;
}

const lease = (owner: string, inflight: string[] = []): LeaseState => ({ owner, expiresAt: new Date(Date.now() + 60_000).toISOString(), inflight, inflightAt: new Date().toISOString() });
const ev = (i: number): OutboxEvent => sampleEvent('PoolDeleteStartEvent', new Date(Date.now() + i).toISOString(), { pool: `p${i}` });

export function describeOutboxStore(name: string, make: () => Promise<StoreHarness>): void {
  describe(`${name}: OutboxStore contract`, () => {
    it('reads an empty partition as no lease and no rows', async () => {
      const h = await make();
      expect(await h.store.snapshot(h.source(), 99)).toEqual({ lease: undefined, rows: [], more: false });
    });

    it('returns the oldest rows in row-key order, with their events, up to max', async () => {
      const h = await make();
      const s = h.source();
      const keys: string[] = [];
      const written: OutboxEvent[][] = [];
      for (let i = 0; i < 5; i++) {
        written.push([ev(i), ev(i + 100)]);
        keys.push(await h.add(s, written[i]!));
      }
      const all = await h.store.snapshot(s, 99);
      expect(all.rows.map((r) => r.rowKey)).toEqual([...keys].sort());
      expect(all.rows.find((r) => r.rowKey === keys[0])?.events).toEqual(written[0]);
      expect(all.more).toBe(false);
      const some = await h.store.snapshot(s, 3);
      expect(some.rows.map((r) => r.rowKey)).toEqual([...keys].sort().slice(0, 3));
      expect(some.more).toBe(true);
      expect((await h.store.rows(s, [keys[3]!, 'nope', keys[1]!])).map((r) => r.rowKey)).toEqual([keys[3], keys[1]]);
    });

    it('creates the lease once and replaces it only with its current ETag', async () => {
      const h = await make();
      const s = h.source();
      const e1 = await h.store.writeLease(s, lease('a', ['k1', 'k2']), undefined);
      await expect(h.store.writeLease(s, lease('b'), undefined)).rejects.toBeInstanceOf(LeaseLostError);
      const snap = await h.store.snapshot(s, 99);
      expect(snap.lease?.state).toMatchObject({ owner: 'a', inflight: ['k1', 'k2'] });
      expect(snap.lease?.etag).toBe(e1);
      expect(snap.rows).toEqual([]);
      const e2 = await h.store.writeLease(s, lease('a'), e1);
      await expect(h.store.writeLease(s, lease('b'), e1)).rejects.toBeInstanceOf(LeaseLostError);
      expect(e2).not.toBe(e1);
    });

    it('deletes rows and rewrites the lease atomically, guarded by the lease ETag', async () => {
      const h = await make();
      const s = h.source();
      const keys = [await h.add(s, [ev(1)]), await h.add(s, [ev(2)]), await h.add(s, [ev(3)])];
      const e1 = await h.store.writeLease(s, lease('a', keys.slice(0, 2)), undefined);
      const e2 = await h.store.writeLease(s, lease('a', keys.slice(0, 2)), e1);
      await expect(h.store.complete(s, keys.slice(0, 2), lease('a'), e1)).rejects.toBeInstanceOf(LeaseLostError);
      expect((await h.store.snapshot(s, 99)).rows).toHaveLength(3);
      await h.store.complete(s, keys.slice(0, 2), lease('a'), e2);
      const after = await h.store.snapshot(s, 99);
      expect(after.rows.map((r) => r.rowKey)).toEqual([keys[2]]);
      expect(after.lease?.state.inflight).toEqual([]);
    });
  });
}
