import * as rhea from 'rhea';
import { PartitionLog } from './infra/local/eventhubs/partition-log';
import { annotate } from './infra/local/eventhubs/amqp-sections';
const msg = rhea.message.encode({ body: rhea.message.data_section(Buffer.from(JSON.stringify({ poolId: 'pool-1', n: 1, pad: 'x'.repeat(150) }))), application_properties: { n: 1 }, message_annotations: { 'x-opt-partition-key': 'pool-1' } });
for (let r = 0; r < 4; r++) {
  const log = new PartitionLog({ hub: 'x', id: '0' });
  let t = performance.now();
  for (let i = 0; i < 20; i++) log.append(Array(1000).fill(msg), 'pool-1', Date.now());
  const a = performance.now() - t; t = performance.now();
  for (let i = 0; i < 20000; i++) annotate(msg, { sequenceNumber: i, offset: String(i), enqueuedMs: Date.now(), partitionKey: 'pool-1' });
  console.log('append', a.toFixed(0), 'annotate', (performance.now() - t).toFixed(0));
}
