import { randomBytes } from 'node:crypto';
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { startSilentAzurite } from './azurite';
async function main() {
  const B = Number(process.argv[2]); const per = Number(process.argv[3] ?? 100);
  const az = await startSilentAzurite();
  const table = TableClient.fromConnectionString(az.connectionString, `t${randomBytes(4).toString('hex')}`, { allowInsecureConnection: true });
  await table.createTable();
  const spec = JSON.stringify({ commandLine: '/bin/true', resourceFiles: [], environmentSettings: [], constraints: { maxWallClockTime: 'P10675199DT2H48M5.4775807S', retentionTime: 'P7D', maxTaskRetryCount: 0 }, requiredSlots: 1, userIdentity: {} });
  let n = 0; let next = 0; const N = 100000; let tenth = Date.now(); let done = 0; const out: number[] = [];
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 8 }, async () => { while (next < N) { const base = next; next += per; const tx = base / per;
      const acts: TransactionAction[] = Array.from({ length: per }, () => ['create', { partitionKey: `job~${tx % B}`, rowKey: `x${String(n++).padStart(7, '0')}`, state: 'active', creationTime: new Date().toISOString(), spec }]);
      await table.submitTransaction(acts); done += per; if (done % 10000 === 0) { out.push(Math.round(10000000 / (Date.now() - tenth))); tenth = Date.now(); } } }));
  console.log('B', B, 'per', per, 'total', Math.round(N * 1000 / (Date.now() - t0)), out.join(' '));
  await az.stop(); process.exit(0);
}
main();
