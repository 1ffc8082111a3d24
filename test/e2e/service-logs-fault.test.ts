import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startAzurite, type RunningAzurite } from '../../infra/local/azurite';
import { startStack, type Stack } from '../../infra/local/stack';
import { serviceLogSinks, useServiceLogSinks } from '../../shared/events/publisher';
import { serviceLogResourceId, type SinkRecord } from '../../shared/events/records';
import type { ServiceLogSink } from '../../shared/events/sinks';
import { expectExactlyOnce, namesOf, POOL_LIFECYCLE, taskSequence, waitForPublished } from './support/service-logs';
import { IMAGE, stepLog, waitFor } from './support/stack';
import { readHub } from '../support/service-log-readers';
import { jobPartitionsFilter } from '../../shared/storage/keys';

let azurite: RunningAzurite;
let dataDir: string;
const stacks: Stack[] = [];

beforeAll(async () => {
  azurite = await startAzurite();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'bp-slfault-'));
});
afterAll(async () => {
  for (const st of stacks) await st.close().catch(() => undefined);
  await azurite?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const quiet = (level: 'info' | 'warn' | 'error', message: string): void => {
  if (level === 'error' || (level === 'warn' && !message.includes('host killed'))) console.warn(message);
};

/** A host on the shared storage and data directory (so the local Event Hubs log survives it). */
async function host(): Promise<{ stack: Stack; client: BatchServiceClient }> {
  const stack = await startStack({ port: 0, dataDir, storageConnectionString: azurite.connectionString, env: { ...process.env, BATCHPLANE_EVENTHUBS_CONNECTION_STRING: '' }, log: quiet });
  stacks.push(stack);
  return { stack, client: new BatchServiceClient(new BatchSharedKeyCredentials(stack.accountName, stack.accountKey), stack.url, { noRetryPolicy: true }) };
}

/**
 * The first host's publisher "dies" at a different step per partition: the job's events never
 * leave (killed between the state write and the publish); the pool's reach Event Hubs and the
 * host dies before the blob append and the delete. Every later attempt dies the same way.
 */
function dying(sinks: readonly ServiceLogSink[], jobId: string): ServiceLogSink[] {
  const [eh, blob] = sinks as [ServiceLogSink, ServiceLogSink];
  const die = (): never => {
    throw new Error('host killed');
  };
  return [
    { ...bind(eh), write: async (rs: readonly SinkRecord[]) => (rs.some((r) => r.partitionKey === jobId) ? die() : (await eh.write(rs), die())) },
    { ...bind(blob), write: async () => die() },
  ];
}

function bind(s: ServiceLogSink): ServiceLogSink {
  return { name: s.name, write: (r) => s.write(r), written: (r, w) => s.written(r, w), close: () => s.close() };
}

async function outboxRows(stack: Stack): Promise<number> {
  const pools = await stack.rt.storage.tables.pools.all("PartitionKey eq 'pool' and RowKey ge '~o~' and RowKey lt '~o~~'");
  const tasks = await stack.rt.storage.tables.tasks.all(`${jobPartitionsFilter('f-job')} and RowKey ge '!o!' and RowKey lt '!o!~'`);
  return pools.length + tasks.length;
}

describe('service logs survive a host killed between the state write and the publish', () => {
  it('still delivers every event exactly once after restart', async () => {
    // A rare CI timeout of this test: name the step it was in and when each step began.
    const step = stepLog('service-logs-fault', onTestFailed);
    step('host A');
    // 1. Host A records transitions, but its publisher never gets to finish.
    const a = await host();
    useServiceLogSinks(a.stack.rt, dying(serviceLogSinks(a.stack.rt), 'f-job'));
    step('pool add');
    await a.client.pool.add({ id: 'f-pool', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1 });
    step('wait steady');
    await waitFor('steady', async () => ((await a.client.pool.get('f-pool')).allocationState === 'steady' ? true : undefined));
    step('job add');
    await a.client.job.add({ id: 'f-job', poolInfo: { poolId: 'f-pool' } });
    step('add tasks');
    await a.client.task.addCollection('f-job', [{ id: 'ok', commandLine: '/bin/true' }, { id: 'bad', commandLine: '/bin/false' }]);
    step('wait tasks done');
    await waitFor('tasks done', async () => ((await a.client.job.getTaskCounts('f-job')).taskCounts.completed === 2 ? true : undefined));
    step('let A retry');
    await new Promise((r) => setTimeout(r, 2_500)); // let A's timer try (and die) at least once more
    expect(await outboxRows(a.stack)).toBeGreaterThanOrEqual(4);
    // A's retries resumed their own interrupted attempts: the pool events reached Event Hubs once, the job's never.
    step('read hub');
    const sent = await readHub(a.stack.eventHubsConnectionString!);
    // How far A got depends on when its 2 s timer first fired (before or after the pool was steady):
    // whatever it sent is a prefix of the pool's lifecycle, never a duplicate.
    const names = sent.map((e) => e.record.operationName);
    expect(names.length).toBeGreaterThanOrEqual(1);
    expect(names).toEqual(POOL_LIFECYCLE.slice(0, names.length));
    step('close A');
    await a.stack.close();

    // 2. Host B on the same storage and data directory publishes what A left, then goes on.
    step('host B');
    const b = await host();
    // On failure, also show the pools partition's publisher lease and outbox rows as B sees them.
    onTestFailed(async () => {
      const rows = await b.stack.rt.storage.tables.pools.all("PartitionKey eq 'pool' and RowKey ge '~l~' and RowKey lt '~o~~'").catch((e: unknown) => [{ row: { error: String(e) } }]);
      console.warn(`pools partition lease and outbox at failure (${new Date().toISOString()}):\n  ${rows.map((r) => JSON.stringify(r.row)).join('\n  ')}`);
    });
    step('wait outbox drained');
    await waitFor('outbox drained', async () => ((await outboxRows(b.stack)) === 0 ? true : undefined), 30_000, 250);
    step('pool delete');
    await b.client.pool.deleteMethod('f-pool');
    step('wait pool gone');
    await waitFor('pool gone', async () => ((await b.client.pool.exists('f-pool')).body ? undefined : true));

    const rid = serviceLogResourceId(b.stack.rt.config);
    step('wait published');
    const p = await waitForPublished(b.stack.eventHubsConnectionString!, b.stack.rt.storage.blobService, rid, ['f-pool', 'f-job'], 5 + 5);
    expectExactlyOnce(p, rid);
    expect(namesOf(p, 'f-pool')).toEqual([...POOL_LIFECYCLE, 'PoolDeleteStartEvent', 'PoolDeleteCompleteEvent']);
    expect(taskSequence(p, 'f-job', 'ok').map((r) => r.operationName)).toEqual(['TaskStartEvent', 'TaskCompleteEvent']);
    expect(taskSequence(p, 'f-job', 'bad').map((r) => r.operationName)).toEqual(['TaskStartEvent', 'TaskCompleteEvent', 'TaskFailEvent']);
  }, 300_000); // its waits are bounded one by one (60 + 60 + 20 + 30 + 60 + 80 s): under CI load their sum can pass 120 s
});
