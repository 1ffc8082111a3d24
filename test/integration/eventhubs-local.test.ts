import { appendFileSync, existsSync, mkdtempSync, readdirSync, readlinkSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  latestEventPosition,
  type EventPosition,
  type ReceivedEventData,
} from '@azure/event-hubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEventHubs, type LocalEventHubs } from '../../infra/local/eventhubs';
import { parseAddress, parseSelector } from '../../infra/local/eventhubs/addresses';
import { partitionIndexForKey } from '../../infra/local/eventhubs/partition-key';
import { PartitionLog } from '../../infra/local/eventhubs/partition-log';

const HUB = 'logs';
const PARTITIONS = 4;
const POOLS = Array.from({ length: 10 }, (_, i) => `pool-${i}`);
const PER_POOL = 200; // 2,000 events by partition key
const BY_ID = 1_000; // + 1,000 events by partition id
const retryOptions = { maxRetries: 1, timeoutInMs: 5_000, retryDelayInMs: 100 };

type Got = { partitionId: string; event: ReceivedEventData };

/** Subscribes (all partitions or one) until `count` events arrived or the timeout passed. */
async function collect(
  cs: string,
  count: number,
  opts: { partitionId?: string; startPosition?: EventPosition; timeoutMs?: number; onReady?: () => Promise<void>; timing?: { first?: number; last?: number } },
): Promise<Got[]> {
  const consumer = new EventHubConsumerClient('$Default', cs, { retryOptions });
  const got: Got[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const handlers = {
    processEvents: async (events: ReceivedEventData[], ctx: { partitionId: string }): Promise<void> => {
      if (opts.timing && events.length > 0) opts.timing.first ??= performance.now();
      for (const event of events) got.push({ partitionId: ctx.partitionId, event });
      if (opts.timing) opts.timing.last = performance.now();
      if (got.length >= count) done();
    },
    processError: async (): Promise<void> => undefined,
  };
  const options = { startPosition: opts.startPosition ?? earliestEventPosition, maxBatchSize: 500, maxWaitTimeInSeconds: 1 };
  const sub = opts.partitionId === undefined ? consumer.subscribe(handlers, options) : consumer.subscribe(opts.partitionId, handlers, options);
  const timer = setTimeout(done, opts.timeoutMs ?? 15_000);
  if (opts.onReady) {
    await new Promise((r) => setTimeout(r, 1_000)); // let the receivers attach before producing
    await opts.onReady();
  }
  await finished;
  clearTimeout(timer);
  await sub.close();
  await consumer.close();
  return got;
}

function byPartition(got: Got[]): Map<string, ReceivedEventData[]> {
  const m = new Map<string, ReceivedEventData[]>();
  for (const g of got) m.set(g.partitionId, [...(m.get(g.partitionId) ?? []), g.event]);
  return m;
}

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;
}

/** Open file descriptors pointing into `dir` (Linux; empty elsewhere). */
function fdsUnder(dir: string): string[] {
  if (!existsSync('/proc/self/fd')) return [];
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return [];
    }
  });
}

describe('local Event Hubs endpoint with the real SDK clients', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bp-eh-'));
  const handlesBefore = tcpHandles();
  let eh: LocalEventHubs;
  let cs: string;
  const countsBefore: Record<string, number> = {};

  beforeAll(async () => {
    eh = await startLocalEventHubs({ port: 0, hubs: [{ name: HUB, partitionCount: PARTITIONS }], dataDir });
    cs = eh.connectionString(HUB);
  });

  afterAll(async () => {
    await eh.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports hub and partition properties and refuses unknown hubs', async () => {
    const producer = new EventHubProducerClient(cs, { retryOptions });
    const props = await producer.getEventHubProperties();
    expect(props.name).toBe(HUB);
    expect(await producer.getPartitionIds()).toEqual(['0', '1', '2', '3']);
    expect(await producer.getPartitionProperties('2')).toMatchObject({ partitionId: '2', isEmpty: true, lastEnqueuedSequenceNumber: -1 });
    await expect(producer.sendBatch([{ body: 1 }], { partitionId: '9' })).rejects.toThrow(/between 0 and 3/);
    await producer.close();
    const nope = new EventHubProducerClient(eh.connectionString('nope'), { retryOptions: { maxRetries: 0, timeoutInMs: 3_000 } });
    await expect(nope.getEventHubProperties()).rejects.toThrow(/could not be found/);
    await nope.close();
  });

  it('maps partition keys like the SDK (and so like Azure)', () => {
    const req = createRequire(join(process.cwd(), 'package.json'));
    const sdkDir = dirname(req.resolve('@azure/event-hubs'));
    const sdk = req(join(sdkDir, 'impl', 'partitionKeyToIdMapper.js')) as { mapPartitionKeyToId(key: string, count: number): number };
    const keys = [...POOLS, '', 'a', 'job-é-ü', 'x'.repeat(12), 'y'.repeat(13), 'z'.repeat(100)];
    for (const key of keys) for (const n of [1, 2, 4, 7, 32]) expect(partitionIndexForKey(key, n)).toBe(sdk.mapPartitionKeyToId(key, n));
  });

  it('stores batches by partition key and by partition id, and reads them back in order', async () => {
    const producer = new EventHubProducerClient(cs, { retryOptions });
    await producer.getPartitionIds(); // connect + CBS outside the timing
    const t0 = performance.now();
    for (const pool of POOLS) {
      let batch = await producer.createBatch({ partitionKey: pool });
      expect(batch.maxSizeInBytes).toBe(1024 * 1024);
      for (let n = 0; n < PER_POOL; n++) {
        const event = { body: { poolId: pool, n }, properties: { n } };
        if (!batch.tryAdd(event)) {
          await producer.sendBatch(batch);
          batch = await producer.createBatch({ partitionKey: pool });
          batch.tryAdd(event);
        }
      }
      await producer.sendBatch(batch);
    }
    const idBatch = await producer.createBatch({ partitionId: '0' });
    for (let n = 0; n < BY_ID; n++) expect(idBatch.tryAdd({ body: { direct: n } })).toBe(true);
    await producer.sendBatch(idBatch);
    await producer.sendBatch([{ body: 'array-1' }, { body: 'array-2' }], { partitionId: '3' });
    const sendMs = performance.now() - t0;
    const total = POOLS.length * PER_POOL + BY_ID + 2;
    console.log(`send: ${total} events in ${sendMs.toFixed(0)} ms (${Math.round((total / sendMs) * 1000)} ev/s)`);

    for (const id of ['0', '1', '2', '3']) countsBefore[id] = (await producer.getPartitionProperties(id)).lastEnqueuedSequenceNumber + 1;
    await producer.close();

    const t1 = performance.now();
    const timing: { first?: number; last?: number } = {};
    const got = await collect(cs, total, { timing });
    const readMs = timing.last! - timing.first!;
    console.log(
      `receive: ${got.length} events, ${(timing.first! - t1).toFixed(0)} ms to connect/claim/attach, then ${readMs.toFixed(0)} ms (${Math.round((got.length / readMs) * 1000)} ev/s)`,
    );
    expect(got).toHaveLength(total);

    const parts = byPartition(got);
    for (const [id, events] of parts) {
      expect(events.map((e) => e.sequenceNumber)).toEqual(events.map((_, i) => i)); // 0-based, gap-free
      expect(events.length).toBe(countsBefore[id]);
      const offsets = events.map((e) => Number(e.offset));
      expect(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!)).toBe(true);
    }
    for (const pool of POOLS) {
      const home = String(partitionIndexForKey(pool, PARTITIONS));
      const mine = got.filter((g) => (g.event.body as { poolId?: string }).poolId === pool);
      expect(new Set(mine.map((g) => g.partitionId))).toEqual(new Set([home]));
      expect(mine.map((g) => (g.event.body as { n: number }).n)).toEqual([...Array(PER_POOL).keys()]);
      expect(mine[0]!.event.partitionKey).toBe(pool);
      expect(mine[0]!.event.properties).toEqual({ n: 0 });
    }
    expect(parts.get('3')!.slice(-2).map((e) => e.body)).toEqual(['array-1', 'array-2']);
  });

  it('starts from a sequence number, an enqueued time and latest', async () => {
    const fromSeq = await collect(cs, 3, { partitionId: '0', startPosition: { sequenceNumber: 500 }, timeoutMs: 5_000 });
    expect(fromSeq[0]!.event.sequenceNumber).toBe(501);
    const inclusive = await collect(cs, 3, { partitionId: '0', startPosition: { sequenceNumber: 500, isInclusive: true }, timeoutMs: 5_000 });
    expect(inclusive[0]!.event.sequenceNumber).toBe(500);

    const producer = new EventHubProducerClient(cs, { retryOptions });
    await producer.sendBatch([{ body: 'time-a' }], { partitionId: '3' });
    await new Promise((r) => setTimeout(r, 20));
    await producer.sendBatch([{ body: 'time-b' }], { partitionId: '3' });
    const a = await collect(cs, 1, { partitionId: '3', startPosition: { sequenceNumber: countsBefore['3']!, isInclusive: true }, timeoutMs: 5_000 });
    expect(a[0]!.event.body).toBe('time-a');
    const fromTime = await collect(cs, 1, { partitionId: '3', startPosition: { enqueuedOn: a[0]!.event.enqueuedTimeUtc }, timeoutMs: 5_000 });
    expect(fromTime[0]!.event.body).toBe('time-b');
    countsBefore['3']! += 2;

    const tail = await collect(cs, 5, {
      partitionId: '1',
      startPosition: latestEventPosition,
      onReady: async () => {
        for (let i = 0; i < 5; i++) await producer.sendBatch([{ body: { tail: i } }], { partitionId: '1' });
      },
    });
    await producer.close();
    expect(tail.map((g) => g.event.body)).toEqual([0, 1, 2, 3, 4].map((i) => ({ tail: i })));
    expect(tail[0]!.event.sequenceNumber).toBe(countsBefore['1']);
    countsBefore['1']! += 5;
  });

  it('live-tails new events on all partitions', async () => {
    const producer = new EventHubProducerClient(cs, { retryOptions });
    const got = await collect(cs, 20, {
      startPosition: latestEventPosition,
      onReady: async () => {
        for (let i = 0; i < 20; i++) await producer.sendBatch([{ body: { live: i } }], { partitionKey: `job-${i % 3}` });
      },
    });
    await producer.close();
    expect(got.map((g) => (g.event.body as { live: number }).live).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    for (const g of got) countsBefore[g.partitionId]! += 1;
  });

  it('keeps events and sequence numbers across a restart on the same port and data dir', async () => {
    const port = eh.port;
    await eh.close();
    expect(fdsUnder(dataDir)).toEqual([]); // partition files are closed
    eh = await startLocalEventHubs({ port, hubs: [{ name: HUB, partitionCount: PARTITIONS }], dataDir });
    expect(eh.port).toBe(port);

    const producer = new EventHubProducerClient(cs, { retryOptions });
    for (const id of ['0', '1', '2', '3']) {
      expect((await producer.getPartitionProperties(id)).lastEnqueuedSequenceNumber).toBe(countsBefore[id]! - 1);
    }
    const total = Object.values(countsBefore).reduce((a, b) => a + b, 0);
    const got = await collect(cs, total, {});
    expect(got).toHaveLength(total);
    for (const [id, events] of byPartition(got)) expect(events.map((e) => e.sequenceNumber)).toEqual([...Array(countsBefore[id]).keys()]);

    await producer.sendBatch([{ body: 'after-restart' }], { partitionId: '2' });
    const p2 = await producer.getPartitionProperties('2');
    expect(p2.lastEnqueuedSequenceNumber).toBe(countsBefore['2']);
    const last = await collect(cs, 1, { partitionId: '2', startPosition: { sequenceNumber: countsBefore['2']!, isInclusive: true }, timeoutMs: 5_000 });
    expect(last[0]!.event.body).toBe('after-restart');
    expect(last[0]!.event.offset).toBe(p2.lastEnqueuedOffset);
    await producer.close();
  });

  it('applies retention by count', async () => {
    const small = await startLocalEventHubs({ port: 0, hubs: [{ name: 'tiny', partitionCount: 1 }], retention: { maxEventsPerPartition: 10 } });
    const producer = new EventHubProducerClient(small.connectionString('tiny'), { retryOptions });
    await producer.sendBatch(Array.from({ length: 25 }, (_, i) => ({ body: i })));
    expect(await producer.getPartitionProperties('0')).toMatchObject({ beginningSequenceNumber: 15, lastEnqueuedSequenceNumber: 24 });
    const got = await collect(small.connectionString('tiny'), 10, { partitionId: '0', timeoutMs: 5_000 });
    expect(got.map((g) => g.event.sequenceNumber)).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    await producer.close();
    await small.close();
  });

  it('close() leaves no open sockets or files', async () => {
    await eh.close();
    await eh.close(); // idempotent
    for (let i = 0; i < 20 && tcpHandles() > handlesBefore; i++) await new Promise((r) => setTimeout(r, 100));
    expect(tcpHandles()).toBeLessThanOrEqual(handlesBefore);
    expect(fdsUnder(dataDir)).toEqual([]);
  });
});

describe('local Event Hubs building blocks', () => {
  it('parses addresses and selector filters as the SDK sends them', () => {
    expect(parseAddress('logs/ConsumerGroups/$Default/Partitions/3')).toEqual({ kind: 'consumer', hub: 'logs', consumerGroup: '$Default', partitionId: '3' });
    expect(parseAddress('sb://127.0.0.1:5672/logs/Partitions/1')).toEqual({ kind: 'partition', hub: 'logs', partitionId: '1' });
    expect(parseAddress('$cbs')).toEqual({ kind: 'cbs' });
    expect(parseSelector("amqp.annotation.x-opt-offset > '-1'")).toEqual({ kind: 'earliest' });
    expect(parseSelector("amqp.annotation.x-opt-offset > '@latest'")).toEqual({ kind: 'latest' });
    expect(parseSelector("amqp.annotation.x-opt-sequence-number >= '42'")).toEqual({ kind: 'sequence', sequenceNumber: 42, inclusive: true });
    expect(parseSelector("amqp.annotation.x-opt-enqueued-time > '1700000000000'")).toEqual({ kind: 'enqueued', ms: 1700000000000, inclusive: false });
    expect(() => parseSelector("amqp.annotation.x-opt-offset > 'abc'")).toThrow(/Invalid/);
  });

  it('reloads a partition file and ignores a torn last line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bp-eh-log-'));
    const file = join(dir, '0.jsonl');
    const msg = Buffer.from([0x00, 0x53, 0x77, 0xa1, 0x02, 0x68, 0x69]); // amqp-value "hi"
    const log = new PartitionLog({ hub: 'h', id: '0', file });
    log.append([msg, msg, msg], 'k', 1_000);
    log.close();
    appendFileSync(file, '{"s":3,"o":');
    const again = new PartitionLog({ hub: 'h', id: '0', file });
    expect(again.info()).toMatchObject({ begin_sequence_number: 0, last_enqueued_sequence_number: 2, is_partition_empty: false });
    expect(again.append([msg], undefined, 500)[0]).toMatchObject({ seq: 3, enqueuedMs: 1_000 }); // time never goes back
    again.close();
    expect(readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{"s":3,"o":'))).toHaveLength(1);
    const third = new PartitionLog({ hub: 'h', id: '0', file });
    expect(third.lastSeq).toBe(3);
    third.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
