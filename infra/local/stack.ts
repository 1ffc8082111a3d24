import { readFileSync } from 'node:fs';
import path from 'node:path';
import { registerFunctions } from '../../functions/index';
import { loadConfig } from '../../shared/config';
import { createRuntime, type Runtime } from '../../shared/runtime';
import { reviveNodes } from '../../shared/services/lifecycle';
import { startAzurite, type RunningAzurite } from './azurite';
import { startLocalEventHubs, type LocalEventHubs } from './eventhubs';
import { closeServiceLogSinks } from '../../shared/events/publisher';
import { SERVICE_LOG_HUB } from '../../shared/events/records';
import { startLocalHost, type LocalHost } from './host';

export interface StackOptions {
  /** HTTP port of the Batch endpoint (0 = any free port). */
  port: number;
  dataDir: string;
  /** Azurite ports (0 = any); ignored when `storageConnectionString` is given. */
  azurite?: { blobPort: number; queuePort: number; tablePort: number; inMemory?: boolean };
  /** Use an existing storage account instead of starting Azurite. */
  storageConnectionString?: string;
  /** Local Event Hubs endpoint (0 = any port; default 0). Not started when env names BATCHPLANE_EVENTHUBS_CONNECTION_STRING. */
  eventHubs?: { port: number };
  env?: NodeJS.ProcessEnv;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface Stack {
  url: string;
  accountName: string;
  accountKey: string;
  storageConnectionString: string;
  /** Where service logs are streamed (the local endpoint's, unless the caller named one). */
  eventHubsConnectionString?: string;
  rt: Runtime;
  host: LocalHost;
  close(): Promise<void>;
}

/**
 * The whole local stack in one call: Azurite (persisted under dataDir), the local Functions host
 * serving every registration of functions/, and the local node provider. `close()` stops all of
 * it, agents included.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  let azurite: RunningAzurite | undefined;
  let cs = opts.storageConnectionString;
  if (!cs) {
    const a = opts.azurite ?? { blobPort: 0, queuePort: 0, tablePort: 0 };
    azurite = await startAzurite({ ...a, location: a.inMemory ? undefined : path.join(opts.dataDir, 'azurite') });
    cs = azurite.connectionString;
  }
  const base = opts.env ?? process.env;
  let eventHubs: LocalEventHubs | undefined;
  if (!base.BATCHPLANE_EVENTHUBS_CONNECTION_STRING) {
    try {
      eventHubs = await startLocalEventHubs({ port: opts.eventHubs?.port ?? 0, hubs: [{ name: SERVICE_LOG_HUB, partitionCount: 4 }], dataDir: path.join(opts.dataDir, 'eventhubs') });
    } catch (err) {
      await azurite?.stop();
      throw err;
    }
  }
  const ehEnv = eventHubs ? { BATCHPLANE_EVENTHUBS_CONNECTION_STRING: eventHubs.connectionString(SERVICE_LOG_HUB) } : {};
  // Service logs are on by default in the local stack (off by default in Azure, as Azure does).
  const env: NodeJS.ProcessEnv = { BATCHPLANE_SERVICE_LOGS: 'on', ...base, ...ehEnv, AzureWebJobsStorage: cs, BATCHPLANE_DATA_DIR: opts.dataDir, BATCHPLANE_PORT: String(opts.port) };
  const config = loadConfig(env);
  const rt = createRuntime(config);
  let host: LocalHost | undefined;
  try {
    await rt.storage.ensure();
    const hostJson = JSON.parse(readFileSync(path.resolve(__dirname, '../../host.json'), 'utf8')) as unknown;
    host = await startLocalHost({ port: opts.port, hostJson, register: (app) => registerFunctions(app, rt), settings: { AzureWebJobsStorage: cs }, log: opts.log ?? quietLog });
  } catch (err) {
    await eventHubs?.close();
    await azurite?.stop();
    throw err;
  }
  if (!env.BATCHPLANE_PUBLIC_URL) rt.config.publicUrl = host.url;
  await reviveNodes(rt);
  const h = host;
  return {
    url: rt.config.publicUrl,
    accountName: config.accountName,
    accountKey: config.accountKey,
    storageConnectionString: cs,
    eventHubsConnectionString: config.eventHubsConnectionString,
    rt,
    host: h,
    close: async () => {
      await h.close();
      await closeServiceLogSinks(rt);
      await rt.provider.shutdown();
      await eventHubs?.close();
      await azurite?.stop();
    },
  };
}

/** Host log filter: warnings and errors only (every invocation is logged at info level). */
export function quietLog(level: 'info' | 'warn' | 'error', message: string): void {
  if (level === 'error') console.error(message);
  else if (level === 'warn') console.warn(message);
}
