/**
 * Scenario 6's machine baseline: the storage emulator's own insert rate, with the control plane
 * out of the way — entity-group transactions of 100 inserts into ONE partition (as a job's tasks
 * are stored), 8 in flight, rows of about a task row's size, in a table of their own (deleted
 * afterwards). Azurite's in-memory table looks up every insert among the rows of its partition,
 * so this rate falls as the partition grows; it is measured over the same first rows as the
 * scenario's first tenth.
 */
import { randomBytes } from 'node:crypto';
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { inParallel, now } from './support';

export async function rawInsertRate(connectionString: string, rows: number, perTx = 100, inFlight = 8): Promise<number> {
  const table = TableClient.fromConnectionString(connectionString, `benchraw${randomBytes(4).toString('hex')}`, { allowInsecureConnection: true });
  await table.createTable();
  const spec = JSON.stringify({ commandLine: '/bin/true', resourceFiles: [], environmentSettings: [], constraints: { maxWallClockTime: 'P10675199DT2H48M5.4775807S', retentionTime: 'P7D', maxTaskRetryCount: 0 }, requiredSlots: 1, userIdentity: {} });
  try {
    const t0 = now();
    await inParallel(Math.ceil(rows / perTx), inFlight, async (c) => {
      const actions: TransactionAction[] = Array.from({ length: perTx }, (_, i) => [
        'create',
        { partitionKey: 'job', rowKey: `x${String(c * perTx + i).padStart(6, '0')}`, state: 'active', creationTime: new Date().toISOString(), spec },
      ]);
      await table.submitTransaction(actions);
    });
    return (rows * 1000) / (now() - t0);
  } finally {
    await table.deleteTable().catch(() => undefined);
  }
}
