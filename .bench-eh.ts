import { EventHubProducerClient, EventHubConsumerClient, earliestEventPosition } from '@azure/event-hubs';
import { startLocalEventHubs } from './infra/local/eventhubs';
import { PartitionLog } from './infra/local/eventhubs/partition-log';
import * as rhea from 'rhea';
async function main() {
  // raw append cost
  const log = new PartitionLog({ hub: 'x', id: '0' });
  const msg = rhea.message.encode({ body: rhea.message.data_section(Buffer.from(JSON.stringify({ poolId: 'pool-1', n: 1, pad: 'x'.repeat(150) }))), application_properties: { n: 1 }, message_annotations: { 'x-opt-partition-key': 'pool-1' } });
  let t = performance.now();
  for (let i = 0; i < 20; i++) log.append(Array(1000).fill(msg), 'pool-1', Date.now());
  console.log('append 20k:', (performance.now() - t).toFixed(0), 'ms');

  const eh = await startLocalEventHubs({ port: 0, hubs: [{ name: 'logs', partitionCount: 4 }], dataDir: process.env.DD });
  const cs = eh.connectionString('logs');
  const p = new EventHubProducerClient(cs, { retryOptions: { maxRetries: 1 } });
  await p.getEventHubProperties();
  const N = 20000;
  t = performance.now();
  let tAdd = 0, tSend = 0;
  for (let k = 0; k < N / 1000; k++) {
    const a = performance.now();
    const b = await p.createBatch({ partitionKey: 'pool-' + k });
    for (let i = 0; i < 1000; i++) b.tryAdd({ body: { poolId: 'pool-' + k, n: i, pad: 'x'.repeat(150) } });
    const s = performance.now(); tAdd += s - a;
    await p.sendBatch(b);
    tSend += performance.now() - s;
  }
  const sendMs = performance.now() - t;
  console.log(`send ${N}: ${sendMs.toFixed(0)} ms => ${Math.round(N / sendMs * 1000)} ev/s (createBatch+tryAdd ${tAdd.toFixed(0)} ms, sendBatch ${tSend.toFixed(0)} ms)`);
  t = performance.now();
  let single = 0;
  for (let i = 0; i < 200; i++) { await p.sendBatch([{ body: i }], { partitionId: '0' }); single++; }
  console.log('single-event sendBatch avg', ((performance.now() - t) / single).toFixed(2), 'ms');
  const c = new EventHubConsumerClient('$Default', cs);
  let got = 0; let first = 0;
  const done = new Promise<void>((r) => {
    c.subscribe({ processEvents: async (evs) => { if (!first && evs.length) first = performance.now(); got += evs.length; if (got >= N + 200) r(); }, processError: async () => {} }, { startPosition: earliestEventPosition, maxBatchSize: 1000, maxWaitTimeInSeconds: 1 });
  });
  t = performance.now();
  await done;
  const end = performance.now();
  console.log(`receive ${got}: ${(end - t).toFixed(0)} ms total, ${(end - first).toFixed(0)} ms after first event => ${Math.round(got / (end - first) * 1000)} ev/s`);
  await c.close(); await p.close(); await eh.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
