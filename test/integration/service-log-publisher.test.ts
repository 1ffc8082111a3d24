import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config';
import { EventHubsSink } from '../../shared/events/eventhubs-sink';
import { outboxActions, POOL_OUTBOX_PREFIX, TASK_OUTBOX_PREFIX, type OutboxEvent } from '../../shared/events/outbox';
import { closeServiceLogSinks, FULL_SWEEP_MS, publishOutbox, publishPendingServiceLogs, serviceLogSinks, SWEEP_SPREAD_MS } from '../../shared/events/publisher';
import { serviceLogResourceId, type OutboxSource, type SinkRecord } from '../../shared/events/records';
import type { ServiceLogSink } from '../../shared/events/sinks';
import { createRuntime, type Runtime } from '../../shared/runtime';
import { addJob, deleteJob } from '../../shared/services/jobs';
import { TABLES, TASK_BUCKETS, taskPartition } from '../../shared/storage/keys';
import { noopTelemetry, type Telemetry } from '../../shared/telemetry';
import { startLocalEventHubs, type LocalEventHubs } from '../../infra/local/eventhubs';
import { gate, sampleEvent } from '../support/service-logs';
import { orderKeyOf, readHub, readServiceLogBlobs, type HubEvent } from '../support/service-log-readers';
import { azuriteConnectionString, uniqueName } from '../support/storage';

const HUB = 'servicelogs';
const dataDir = mkdtempSync(join(tmpdir(), 'bp-pub-'));
const prefix = uniqueName('pub');
const account = uniqueName('acct');
let eh: LocalEventHubs;
const runtimes: Runtime[] = [];
const tracked: string[] = [];

/** A control-plane instance ("host") on the shared storage and hub. */
function host(): Runtime {
  const config = loadConfig({ AzureWebJobsStorage: azuriteConnectionString(), BATCHPLANE_STORAGE_PREFIX: prefix, BATCHPLANE_ACCOUNT_NAME: account, BATCHPLANE_SERVICE_LOGS: 'on', BATCHPLANE_EVENTHUBS_CONNECTION_STRING: eh.connectionString(HUB), BATCHPLANE_DATA_DIR: dataDir });
  const telemetry: Telemetry = { ...noopTelemetry, trackEvent: (name, props) => void tracked.push(`${name}:${String(props?.eventId)}`) };
  const rt = createRuntime(config, { telemetry });
  runtimes.push(rt);
  return rt;
}

beforeAll(async () => {
  eh = await startLocalEventHubs({ port: 0, hubs: [{ name: HUB, partitionCount: 4 }], dataDir: join(dataDir, 'eh') });
  await host().storage.ensure();
});
afterAll(async () => {
  await Promise.all(runtimes.map((rt) => closeServiceLogSinks(rt)));
  await eh?.close();
  const rt = runtimes[0];
  if (rt) await Promise.all(TABLES.map((t) => rt.storage.tables[t].client.deleteTable()));
  rmSync(dataDir, { recursive: true, force: true });
});

let seq = 0;
/** Writes one outbox row the way the services do (one transaction, one row). */
/** Writes outbox rows as the services do: task partitions through the task repository (which tells the publisher). */
async function emit(rt: Runtime, source: OutboxSource, events: OutboxEvent[]): Promise<void> {
  const actions = outboxActions(true, source.partitionKey, source.table === 'pools' ? POOL_OUTBOX_PREFIX : TASK_OUTBOX_PREFIX, events, Date.now(), String(seq++).padStart(6, '0'));
  if (source.table === 'pools') await rt.storage.tables.pools.transact(actions);
  else await rt.tasks.transact(actions);
}

function taskEvents(job: string, task: string, pool = 'p1'): OutboxEvent[] {
  const t = new Date().toISOString();
  return [sampleEvent('TaskStartEvent', t, { job, task, pool }), sampleEvent('TaskCompleteEvent', t, { job, task, pool })];
}

/** Hub events and blob records that belong to `keys` (pool or job ids). */
async function published(rt: Runtime, keys: string[]): Promise<{ hub: HubEvent[]; blob: string[] }> {
  const hub = (await readHub(eh.connectionString(HUB))).filter((e) => keys.includes(orderKeyOf(e.record)));
  const blobs = await readServiceLogBlobs(rt.storage.blobService, serviceLogResourceId(rt.config));
  return { hub, blob: blobs.flatMap((b) => b.records.filter((r) => keys.includes(orderKeyOf(r))).map((r) => r.correlationId)) };
}

function expectOnceInOrder(p: { hub: HubEvent[]; blob: string[] }, count: number): void {
  const ids = p.hub.map((e) => e.id!);
  expect(new Set(ids).size, 'duplicates in Event Hubs').toBe(ids.length);
  expect(ids.length, 'gap in Event Hubs').toBe(count);
  expect(new Set(p.blob).size, 'duplicates in blobs').toBe(p.blob.length);
  expect([...p.blob].sort()).toEqual([...ids].sort());
  for (const key of new Set(p.hub.map((e) => orderKeyOf(e.record)))) {
    const mine = p.hub.filter((e) => orderKeyOf(e.record) === key);
    expect(new Set(mine.map((e) => e.partitionId)).size, `${key} in one partition`).toBe(1);
    const seqs = mine.map((e) => e.sequenceNumber);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const tasks = mine.filter((e) => e.record.operationName.startsWith('Task')).map((e) => `${(e.record.properties as { id: string }).id}:${e.record.operationName}`);
    for (const t of new Set(tasks.map((x) => x.split(':')[0]))) expect(tasks.filter((x) => x.startsWith(`${t}:`))).toEqual([`${t}:TaskStartEvent`, `${t}:TaskCompleteEvent`]);
  }
}

async function outboxRows(rt: Runtime, source: OutboxSource): Promise<number> {
  const table = source.table === 'pools' ? rt.storage.tables.pools : rt.storage.tables.tasks;
  const p = source.table === 'pools' ? POOL_OUTBOX_PREFIX : TASK_OUTBOX_PREFIX;
  return (await table.all(`PartitionKey eq '${source.partitionKey}' and RowKey ge '${p}' and RowKey lt '${p}~'`)).length;
}

/** Wraps a sink: the host "dies" right after the write landed (throws, or never returns). */
function dyingAfterWrite(inner: ServiceLogSink, how: 'throw' | 'hang', hang = gate()): ServiceLogSink {
  return {
    name: inner.name,
    written: (r, w) => inner.written(r, w),
    close: () => inner.close(),
    write: async (records: readonly SinkRecord[]) => {
      await inner.write(records);
      if (how === 'throw') throw new Error('host crashed after sending');
      await hang.wait();
    },
  };
}

describe('service-log publisher on Azurite and the local Event Hubs endpoint', () => {
  it('publishes a job partition to Event Hubs and blobs once, deletes the rows, one telemetry event each', async () => {
    const rt = host();
    const job = uniqueName('job');
    for (let i = 0; i < 5; i++) await emit(rt, { table: 'tasks', partitionKey: job }, taskEvents(job, `t${i}`));
    const r = await publishOutbox(rt, { table: 'tasks', partitionKey: job });
    expect(r).toMatchObject({ status: 'done', published: 10 });
    const p = await published(rt, [job]);
    expectOnceInOrder(p, 10);
    expect(await outboxRows(rt, { table: 'tasks', partitionKey: job })).toBe(0);
    expect(p.hub.map((e) => tracked.find((t) => t.endsWith(`:${e.id!}`)))).toEqual(p.hub.map((e) => `${e.record.operationName}:${e.id!}`));
  });

  it('two hosts publishing concurrently while events are written: no duplicate, no gap, order kept', async () => {
    const [a, b] = [host(), host()];
    const jobs = [uniqueName('job'), uniqueName('job')];
    for (const j of jobs) await addJob(a, { id: j, poolInfo: { poolId: 'p1' } } as never);
    let writing = true;
    const writer = (async () => {
      // Each job's events in one of its bucket partitions (events keep their order within a bucket; the sweep reads every bucket).
      for (let i = 0; i < 30; i++) await emit(i % 2 ? a : b, { table: 'tasks', partitionKey: taskPartition(jobs[i % 2]!, 2 + (i % 2) * 5) }, taskEvents(jobs[i % 2]!, `t${i}`));
      writing = false;
    })();
    const publisher = async (rt: Runtime): Promise<void> => {
      while (writing) await publishPendingServiceLogs(rt);
      await publishPendingServiceLogs(rt);
    };
    await Promise.all([writer, publisher(a), publisher(b), publisher(a)]);
    await publishPendingServiceLogs(b);
    expectOnceInOrder(await published(a, jobs), 60);
  });

  it('a host that crashed after sending, before deleting: the next publish adds no duplicate and leaves no gap', async () => {
    const rt = host();
    const job = uniqueName('job');
    const source: OutboxSource = { table: 'tasks', partitionKey: job };
    for (let i = 0; i < 3; i++) await emit(rt, source, taskEvents(job, `t${i}`));
    const [ehSink, blobSink] = serviceLogSinks(rt) as ServiceLogSink[];
    await expect(publishOutbox(rt, source, { sinks: [dyingAfterWrite(ehSink!, 'throw'), blobSink!] })).rejects.toThrow(/crashed/);
    expect(await outboxRows(rt, source)).toBe(3);
    expect((await published(rt, [job])).hub).toHaveLength(6); // sent, not yet deleted
    const r = await publishOutbox(host(), source);
    expect(r).toMatchObject({ status: 'done', published: 6, alreadyWritten: 6 });
    expectOnceInOrder(await published(rt, [job]), 6);
    expect(await outboxRows(rt, source)).toBe(0);
  });

  it('a host that died holding the lease: taken over after expiry, the ghost can no longer delete or send', async () => {
    const rt = host();
    const source: OutboxSource = { table: 'pools', partitionKey: 'pool' };
    const pool = uniqueName('pool');
    await emit(rt, source, [sampleEvent('PoolCreateEvent', new Date().toISOString(), { pool }), sampleEvent('PoolResizeStartEvent', new Date().toISOString(), { pool })]);
    const hang = gate();
    const ghostSink = dyingAfterWrite(new EventHubsSink(eh.connectionString(HUB)), 'hang', hang);
    const ghost = publishOutbox(rt, source, { leaseMs: 1_000, sinks: [ghostSink, serviceLogSinks(rt)[1]!] });
    await hang.reached;
    const heir = host();
    expect(await publishOutbox(heir, source)).toMatchObject({ status: 'busy' });
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await publishOutbox(heir, source)).toMatchObject({ status: 'done', published: 2, alreadyWritten: 2 });
    hang.release();
    expect(await ghost).toMatchObject({ status: 'lost', published: 0 });
    await ghostSink.close();
    expectOnceInOrder(await published(rt, [pool]), 2);
  });

  it('a tick reads the partitions this process wrote to; rows written elsewhere wait for the full sweep', async () => {
    const rt = host();
    await publishPendingServiceLogs(rt, { full: true });
    const [mine, theirs] = [uniqueName('job'), uniqueName('job')];
    await addJob(rt, { id: theirs, poolInfo: { poolId: 'p1' } } as never);
    await emit(rt, { table: 'tasks', partitionKey: taskPartition(mine, 1) }, taskEvents(mine, 'm'));
    // Another instance's write: straight to the table, this process's repository never saw it.
    await rt.storage.tables.tasks.transact(outboxActions(true, taskPartition(theirs, 4), TASK_OUTBOX_PREFIX, taskEvents(theirs, 'o'), Date.now(), 'zz0001'));
    const tick = await publishPendingServiceLogs(rt);
    expect(tick).toMatchObject({ sources: 2, published: 2 });
    expect(await outboxRows(rt, { table: 'tasks', partitionKey: taskPartition(theirs, 4) })).toBe(1);
    const full = await publishPendingServiceLogs(rt, { full: true });
    expect(full.published).toBe(2);
    expect(full.sources).toBeGreaterThanOrEqual(1 + TASK_BUCKETS);
    expect(await outboxRows(rt, { table: 'tasks', partitionKey: taskPartition(theirs, 4) })).toBe(0);
    expectOnceInOrder(await published(rt, [mine, theirs]), 4);
  });

  it('a full sweep is spread over the ticks of its first half, and still reads every bucket of every job', async () => {
    const rt = host();
    let now = Date.now();
    rt.clock = () => new Date(now);
    await publishPendingServiceLogs(rt); // a process's first tick reads everything at once
    // Named to sort after every other job: its last bucket is the sweep's last partition (the worst case).
    const theirs = uniqueName('zzzjob');
    await addJob(rt, { id: theirs, poolInfo: { poolId: 'p1' } } as never);
    for (const b of [0, TASK_BUCKETS - 1]) await rt.storage.tables.tasks.transact(outboxActions(true, taskPartition(theirs, b), TASK_OUTBOX_PREFIX, taskEvents(theirs, `o${b}`), Date.now(), 'zz0002'));
    now += 2_000;
    expect(await publishPendingServiceLogs(rt)).toMatchObject({ published: 0 }); // the sweep of this process is not due yet
    now += FULL_SWEEP_MS;
    const ticks: { sources: number; published: number }[] = [];
    // 2-second ticks from the sweep's start to the first tick at or after the end of its spread.
    for (let t = 0; t < SWEEP_SPREAD_MS + 2_000; t += 2_000, now += 2_000) ticks.push(await publishPendingServiceLogs(rt));
    const jobs = (await rt.jobs.list(undefined, 1000)).items.length;
    // Each tick reads the pools partition and its share of the sweep: never the whole sweep at once.
    expect(ticks[0]!.sources).toBe(2);
    expect(Math.max(...ticks.map((t) => t.sources - 1))).toBeLessThan(jobs * TASK_BUCKETS);
    expect(ticks.reduce((n, t) => n + t.published, 0)).toBe(4);
    for (const b of [0, TASK_BUCKETS - 1]) expect(await outboxRows(rt, { table: 'tasks', partitionKey: taskPartition(theirs, b) })).toBe(0);
  });

  it('job deletion publishes what the partition still holds before dropping it', async () => {
    const rt = host();
    const job = uniqueName('job');
    await addJob(rt, { id: job, poolInfo: { poolId: 'p1' } } as never);
    await emit(rt, { table: 'tasks', partitionKey: taskPartition(job, TASK_BUCKETS - 1) }, taskEvents(job, 'last'));
    await deleteJob(rt, job);
    expectOnceInOrder(await published(rt, [job]), 2);
  });

  it('does nothing while service logs are off', async () => {
    const rt = host();
    rt.config.serviceLogs = false;
    const job = uniqueName('job');
    await emit(rt, { table: 'tasks', partitionKey: job }, taskEvents(job, 't'));
    expect(await publishOutbox(rt, { table: 'tasks', partitionKey: job })).toMatchObject({ attempts: 0 });
    expect(await publishPendingServiceLogs(rt)).toMatchObject({ sources: 0 });
    expect(await outboxRows(rt, { table: 'tasks', partitionKey: job })).toBe(1);
  });
});
