import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { BlobSink } from '../../shared/events/blob-sink';
import { EventHubsSink } from '../../shared/events/eventhubs-sink';
import { outboxActions, POOL_OUTBOX_PREFIX, TASK_OUTBOX_PREFIX } from '../../shared/events/outbox';
import { StorageContext } from '../../shared/storage/context';
import { TABLES } from '../../shared/storage/keys';
import { OutboxRepository } from '../../shared/storage/outbox';
import { startLocalEventHubs, type LocalEventHubs } from '../../infra/local/eventhubs';
import { describeOutboxStore } from '../contract/outbox-store.contract';
import { describeServiceLogSink } from '../contract/service-log-sink.contract';
import { orderKeyOf, readHub, readServiceLogBlobs } from '../support/service-log-readers';
import { azuriteConnectionString, uniqueName } from '../support/storage';

const HUB = 'contract';
const dataDir = mkdtempSync(join(tmpdir(), 'bp-sinks-'));
let eh: LocalEventHubs;
let ctx: StorageContext;
const sinks: EventHubsSink[] = [];

beforeAll(async () => {
  eh = await startLocalEventHubs({ port: 0, hubs: [{ name: HUB, partitionCount: 4 }], dataDir });
  ctx = new StorageContext({ connectionString: azuriteConnectionString(), prefix: uniqueName('sl') });
  await ctx.ensure();
});
afterAll(async () => {
  await Promise.all(sinks.map((s) => s.close()));
  await eh?.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (ctx) await Promise.all(TABLES.map((t) => ctx.tables[t].client.deleteTable()));
});

describeServiceLogSink('EventHubsSink (local endpoint)', async () => {
  const cs = eh.connectionString(HUB);
  const sink = new EventHubsSink(cs);
  sinks.push(sink);
  return {
    sink,
    resourceId: '/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.BATCH/BATCHACCOUNTS/EH',
    readBack: async (ids) => {
      const events = (await readHub(cs)).filter((e) => e.id && ids.has(e.id));
      events.sort((a, b) => a.partitionId.localeCompare(b.partitionId) || a.sequenceNumber - b.sequenceNumber);
      // The partition key travels with each event, and one key always lands in one partition.
      const partitionOf = new Map<string, string>();
      for (const e of events) {
        if (partitionOf.has(e.partitionKey!) && partitionOf.get(e.partitionKey!) !== e.partitionId) throw new Error(`key ${e.partitionKey} in two partitions`);
        partitionOf.set(e.partitionKey!, e.partitionId);
      }
      return events.map((e) => ({ id: e.id!, partitionKey: e.partitionKey! }));
    },
  };
});

describeServiceLogSink('BlobSink (Azurite)', async () => {
  const resourceId = `/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.BATCH/BATCHACCOUNTS/${uniqueName('A').toUpperCase()}`;
  return {
    sink: new BlobSink(ctx.blobService, ctx.counter),
    resourceId,
    readBack: async (ids) =>
      (await readServiceLogBlobs(ctx.blobService, resourceId)).flatMap((b) => b.records.filter((r) => ids.has(r.correlationId)).map((r) => ({ id: r.correlationId, partitionKey: orderKeyOf(r) }))),
  };
});

let n = 0;
describeOutboxStore('OutboxRepository (Azurite)', async () => {
  const store = new OutboxRepository(ctx.tables);
  return {
    store,
    source: () => (n++ % 2 === 0 ? { table: 'tasks', partitionKey: uniqueName('job') } : { table: 'pools', partitionKey: uniqueName('pool') }),
    add: async (s, events) => {
      const table = s.table === 'pools' ? ctx.tables.pools : ctx.tables.tasks;
      const actions = outboxActions(true, s.partitionKey, s.table === 'pools' ? POOL_OUTBOX_PREFIX : TASK_OUTBOX_PREFIX, events, Date.now(), Math.random().toString(16).slice(2, 8));
      await table.transact(actions);
      return actions[0]![1].rowKey as string;
    },
  };
});
