import { describe, expect, it, vi } from 'vitest';
import type { ServiceLogEventName } from '../../shared/events/catalog';
import { relayOutbox, type RelayDeps } from '../../shared/events/relay';
import type { OutboxSource, SinkRecord } from '../../shared/events/records';
import { describeOutboxStore } from '../contract/outbox-store.contract';
import { describeServiceLogSink } from '../contract/service-log-sink.contract';
import { FakeOutboxStore, gate, RecordingSink, sampleEvent } from '../support/service-logs';

const RID = '/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.BATCH/BATCHACCOUNTS/A';
const POOLS: OutboxSource = { table: 'pools', partitionKey: 'pool' };
const JOB: OutboxSource = { table: 'tasks', partitionKey: 'j1' };

describeServiceLogSink('RecordingSink', async () => {
  const sink = new RecordingSink();
  return { sink, resourceId: RID, readBack: async (ids) => sink.records.filter((r) => ids.has(r.id)).map((r) => ({ id: r.id, partitionKey: r.partitionKey })) };
});

let sources = 0;
describeOutboxStore('FakeOutboxStore', async () => {
  const store = new FakeOutboxStore();
  return { store, source: () => ({ table: 'tasks', partitionKey: `job${sources++}` }), add: (s, events) => store.add(s, events) };
});

interface World {
  store: FakeOutboxStore;
  eh: RecordingSink;
  blob: RecordingSink;
  now: { ms: number };
  published: SinkRecord[];
  deps(owner: string, extra?: Partial<RelayDeps>): RelayDeps;
  /** n rows of pool events (two pools interleaved), two events each. */
  addPoolRows(n: number): Promise<void>;
}

function world(): World {
  const store = new FakeOutboxStore();
  const eh = new RecordingSink('eh');
  const blob = new RecordingSink('blob');
  const now = { ms: Date.parse('2026-11-23T15:00:00Z') };
  const published: SinkRecord[] = [];
  let i = 0;
  return {
    store,
    eh,
    blob,
    now,
    published,
    deps: (owner, extra = {}) => ({ store, sinks: [eh, blob], clock: () => new Date(now.ms), owner, resourceId: RID, onPublished: (r) => published.push(r), ...extra }),
    addPoolRows: async (n) => {
      for (let k = 0; k < n; k++, i++) {
        const t = new Date(now.ms + i).toISOString();
        const names: ServiceLogEventName[] = ['PoolResizeStartEvent', 'PoolResizeCompleteEvent'];
        await store.add(POOLS, names.map((name, j) => sampleEvent(name, t, { pool: `p${(i + j) % 2}` })));
      }
    },
  };
}

/** Every sink holds every event of `expected` exactly once, in order per partition key. */
function expectExactlyOnce(w: World, expected: number): void {
  for (const sink of [w.eh, w.blob]) {
    const ids = sink.ids();
    expect(new Set(ids).size, `${sink.name}: duplicates`).toBe(ids.length);
    expect(ids.length, `${sink.name}: gap`).toBe(expected);
    for (const key of new Set(sink.records.map((r) => r.partitionKey))) {
      const order = sink.records.filter((r) => r.partitionKey === key).map((r) => r.record.time);
      expect(order, `${sink.name}: order of ${key}`).toEqual([...order].sort());
    }
  }
  expect(w.store.rowCount(POOLS)).toBe(0);
  expect(w.store.lease(POOLS)?.inflight).toEqual([]);
}

describe('relayOutbox: exactly once', () => {
  it('publishes every row in order to every sink, deletes them and reports each event once', async () => {
    const w = world();
    await w.addPoolRows(3);
    const r = await relayOutbox(w.deps('a'), POOLS);
    expect(r).toEqual({ status: 'done', attempts: 1, published: 6, alreadyWritten: 0 });
    expectExactlyOnce(w, 6);
    expect(w.eh.ids()).toEqual(w.blob.ids());
    expect(w.published.map((p) => p.id)).toEqual(w.eh.ids());
    // Cost of one attempt: a read, the lease write, the delete transaction; no sink scans.
    expect([w.store.reads, w.store.writes, w.eh.scans]).toEqual([1, 2, 0]);
  });

  it('costs one read and no write when the partition is clean', async () => {
    const w = world();
    expect(await relayOutbox(w.deps('a'), POOLS)).toMatchObject({ status: 'done', attempts: 0 });
    expect([w.store.reads, w.store.writes]).toEqual([1, 0]);
  });

  it('moves more than one transaction of rows in several attempts', async () => {
    const w = world();
    await w.addPoolRows(150);
    const r = await relayOutbox(w.deps('a'), POOLS);
    expect(r).toMatchObject({ status: 'done', attempts: 2, published: 300 });
    expectExactlyOnce(w, 300);
  });

  it('leaves a partition alone while another publisher holds the lease', async () => {
    const w = world();
    await w.addPoolRows(1);
    const hold = gate();
    w.eh.beforeWrite = () => hold.wait();
    const first = relayOutbox(w.deps('a'), POOLS);
    await hold.reached;
    expect(await relayOutbox(w.deps('b'), POOLS)).toMatchObject({ status: 'busy', published: 0 });
    hold.release();
    await first;
    expectExactlyOnce(w, 2);
  });

  it.each([
    ['the first sink fails before writing', (w: World) => void (w.eh.failAfter = 0)],
    ['the first sink fails halfway', (w: World) => void (w.eh.failAfter = 3)],
    ['the second sink fails after the first wrote', (w: World) => void (w.blob.failAfter = 0)],
    ['the second sink fails halfway', (w: World) => void (w.blob.failAfter = 1)],
    ['both sinks wrote but the delete failed', (w: World) => void (w.store.beforeComplete = once(() => { throw new Error('storage down'); }))],
  ])('resumes without duplicates or gaps when %s', async (_case, fault) => {
    const w = world();
    await w.addPoolRows(4);
    fault(w);
    await expect(relayOutbox(w.deps('a'), POOLS)).rejects.toThrow();
    expect(w.store.lease(POOLS)?.inflight).toHaveLength(4);
    // The failed attempt released the lease: the next publisher resumes at once.
    const r = await relayOutbox(w.deps('b'), POOLS);
    expect(r.status).toBe('done');
    expectExactlyOnce(w, 8);
    expect(w.published).toHaveLength(8);
  });

  it('takes over from a crashed publisher only after its lease expires, sending only what is missing', async () => {
    const w = world();
    await w.addPoolRows(2);
    const crash = gate();
    w.blob.afterWrite = () => crash.wait(); // the host dies after the blob append, before the delete
    const ghost = relayOutbox(w.deps('a', { leaseMs: 10_000 }), POOLS);
    await crash.reached;
    expect(await relayOutbox(w.deps('b'), POOLS)).toMatchObject({ status: 'busy' });
    w.now.ms += 10_001;
    w.blob.afterWrite = undefined;
    const r = await relayOutbox(w.deps('b'), POOLS);
    expect(r).toMatchObject({ status: 'done', published: 4, alreadyWritten: 8 });
    expectExactlyOnce(w, 4);
    // The ghost wakes up: its lease is gone, so its delete is refused and it sends nothing more.
    crash.release();
    expect(await ghost).toMatchObject({ status: 'lost', published: 0 });
    expectExactlyOnce(w, 4);
  });

  it.each([
    ['its claim', 1],
    ['its delete', 2],
  ])('frees its own lease at once when %s landed but was answered as lost (a retried request)', async (_case, nth) => {
    const w = world();
    await w.addPoolRows(2);
    const { LeaseLostError } = await import('../../shared/events/lease');
    let writes = 0;
    w.store.afterWrite = () => {
      if (++writes === nth) throw new LeaseLostError(POOLS);
    };
    const first = await relayOutbox(w.deps('a'), POOLS);
    expect(first.status).toBe(nth === 1 ? 'busy' : 'lost');
    w.store.afterWrite = undefined;
    // No time passes: another publisher is not kept out for the lease's 60 s.
    expect(Date.parse(w.store.lease(POOLS)!.expiresAt)).toBeLessThanOrEqual(w.now.ms);
    const r = await relayOutbox(w.deps('b'), POOLS);
    expect(r.status).toBe('done');
    expectExactlyOnce(w, 4);
  });

  it('a publisher that overslept its lease between sinks stops before writing again', async () => {
    const w = world();
    await w.addPoolRows(2);
    const stall = gate();
    w.eh.afterWrite = () => stall.wait();
    const slow = relayOutbox(w.deps('a', { leaseMs: 10_000 }), POOLS);
    await stall.reached;
    w.now.ms += 10_001;
    w.eh.afterWrite = undefined;
    expect(await relayOutbox(w.deps('b'), POOLS)).toMatchObject({ status: 'done', alreadyWritten: 4 });
    stall.release();
    expect(await slow).toMatchObject({ status: 'lost' });
    expectExactlyOnce(w, 4);
  });

  it('renews the lease when a sink is slow, and completes', async () => {
    const w = world();
    await w.addPoolRows(1);
    w.eh.afterWrite = () => void (w.now.ms += 40_000);
    const r = await relayOutbox(w.deps('a', { leaseMs: 60_000 }), POOLS);
    expect(r.status).toBe('done');
    expect(w.store.writes).toBe(3); // claim, renewal, complete
    expectExactlyOnce(w, 2);
  });

  it('never loses a row committed late with an older key while an attempt was in flight', async () => {
    const w = world();
    await w.addPoolRows(2);
    w.eh.beforeWrite = once(async () => {
      await w.store.add(POOLS, [sampleEvent('PoolDeleteStartEvent', new Date(w.now.ms - 5).toISOString(), { pool: 'late' })], '~o~000000000000001000000late');
    });
    await relayOutbox(w.deps('a'), POOLS);
    expect(w.store.rowCount(POOLS)).toBe(1); // not in the attempt's list, so not deleted by it
    await relayOutbox(w.deps('a'), POOLS);
    expect(w.store.rowCount(POOLS)).toBe(0);
    expect(w.eh.records.map((r) => r.partitionKey)).toContain('late');
    expect(new Set(w.eh.ids()).size).toBe(5);
  });

  it('concurrent publishers on one partition never send a row twice', async () => {
    const w = world();
    await w.addPoolRows(250);
    w.eh.beforeWrite = () => new Promise((r) => setTimeout(r, Math.random() * 3));
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => relayOutbox(w.deps(`p${i}`), POOLS)));
    while (w.store.rowCount(POOLS) > 0) await relayOutbox(w.deps('last'), POOLS);
    expect(results.some((r) => r.status === 'busy')).toBe(true);
    expectExactlyOnce(w, 500);
  });

  it('keeps partitions apart (a job partition has its own lease)', async () => {
    const w = world();
    await w.addPoolRows(1);
    await w.store.add(JOB, [sampleEvent('TaskStartEvent', new Date(w.now.ms).toISOString(), { job: 'j1' })]);
    const [a, b] = await Promise.all([relayOutbox(w.deps('a'), POOLS), relayOutbox(w.deps('b'), JOB)]);
    expect([a.published, b.published]).toEqual([2, 1]);
    expect(w.eh.records.find((r) => r.partitionKey === 'j1')?.record.operationName).toBe('TaskStartEvent');
  });

  it('publishes invalid bodies as written and reports them', async () => {
    const w = world();
    await w.store.add(POOLS, [{ name: 'PoolDeleteStartEvent', time: new Date(w.now.ms).toISOString(), body: { id: 'p1', surprise: true } }]);
    const onInvalid = vi.fn();
    await relayOutbox(w.deps('a', { onInvalid }), POOLS);
    expect(onInvalid).toHaveBeenCalledOnce();
    expect(w.eh.records[0]?.record.properties).toEqual({ id: 'p1', surprise: true });
  });
});

function once<A extends unknown[], R>(f: (...a: A) => R): (...a: A) => R | undefined {
  let done = false;
  return (...a) => {
    if (done) return undefined;
    done = true;
    return f(...a);
  };
}
