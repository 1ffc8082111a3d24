import path from 'node:path';
import { startStack } from './stack';

/**
 * `npm start`: the whole local stack in the foreground until Ctrl-C, which stops every child
 * process it started (Azurite, node agents).
 */
async function main(): Promise<void> {
  const env = process.env;
  const port = Number(env.BATCHPLANE_PORT ?? 7071);
  const dataDir = path.resolve(env.BATCHPLANE_DATA_DIR ?? '.data');
  const stack = await startStack({
    port,
    dataDir,
    storageConnectionString: env.BATCHPLANE_STORAGE_CONNECTION_STRING,
    eventHubs: { port: Number(env.BATCHPLANE_EVENTHUBS_PORT ?? 5672) },
    azurite: {
      blobPort: Number(env.BATCHPLANE_AZURITE_BLOB_PORT ?? 10000),
      queuePort: Number(env.BATCHPLANE_AZURITE_QUEUE_PORT ?? 10001),
      tablePort: Number(env.BATCHPLANE_AZURITE_TABLE_PORT ?? 10002),
    },
    log: (level, message) => {
      if (level !== 'info' || env.BATCHPLANE_VERBOSE === '1') console.log(message);
    },
  });
  console.log(`batchplane is running
  Batch endpoint:   ${stack.url}
  Account name:     ${stack.accountName}
  Account key:      ${stack.accountKey}
  Storage:          ${stack.storageConnectionString}
  Event Hubs:       ${stack.eventHubsConnectionString ?? '(not configured)'}
  Data directory:   ${dataDir}
Press Ctrl-C to stop.`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping batchplane…`);
    stack.close().then(() => process.exit(0), (err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
