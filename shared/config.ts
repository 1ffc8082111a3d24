import path from 'node:path';

/**
 * Configuration, read from the environment in one place. Every variable is documented in the
 * README; defaults make the local stack work with no configuration at all.
 */
export interface Config {
  accountName: string;
  /** Base64 Shared Key of the account. */
  accountKey: string;
  storageConnectionString: string;
  /** Prefix of every table and queue name. */
  storagePrefix: string;
  /** The URL clients and agents use to reach the control plane (no trailing slash). */
  publicUrl: string;
  dataDir: string;
  nodeProvider: 'local';
  /** A node that has not talked for this long becomes unusable and its tasks are requeued. */
  nodeHeartbeatTimeoutSeconds: number;
  /** A node whose agent has not booted after this long becomes unusable. */
  nodeBootTimeoutSeconds: number;
  /** Smallest autoScaleEvaluationInterval accepted (Azure: 300 s); lower only for development and tests. */
  autoscaleMinIntervalSeconds: number;
  /** Period of the metric-sample timer (Azure: 30 s); the timer schedule is derived from it at registration. */
  metricsIntervalSeconds: number;
  /** Account quotas (the seed's defaults): dedicated cores, pools, active jobs + job schedules. */
  quotaCores: number;
  quotaPools: number;
  quotaActiveJobs: number;
  /** Service-log events (outbox → Event Hubs + blob). Off unless enabled, as on Azure; the local stack turns them on. */
  serviceLogs: boolean;
  /** Event Hubs connection string (with EntityPath) the publisher sends service-log events to. */
  eventHubsConnectionString?: string;
  /** Subscription and resource group named in service-log resource ids (`/SUBSCRIPTIONS/<sub>/RESOURCEGROUPS/<rg>/…`). */
  subscriptionId: string;
  resourceGroup: string;
}

/** The local development account key (like Azurite's well-known key: not a secret). */
export const DEV_ACCOUNT_KEY = 'YmF0Y2hwbGFuZS1sb2NhbC1kZXZlbG9wbWVudC1hY2NvdW50LWtleS0wMDAwMDAwMA==';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = env.BATCHPLANE_PORT ?? '7071';
  const key = env.BATCHPLANE_ACCOUNT_KEY ?? DEV_ACCOUNT_KEY;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) throw new Error('BATCHPLANE_ACCOUNT_KEY must be base64');
  const storage = env.BATCHPLANE_STORAGE_CONNECTION_STRING ?? env.AzureWebJobsStorage;
  if (!storage) throw new Error('Set AzureWebJobsStorage (or BATCHPLANE_STORAGE_CONNECTION_STRING) to a storage connection string');
  return {
    accountName: env.BATCHPLANE_ACCOUNT_NAME ?? 'batchplane',
    accountKey: key,
    storageConnectionString: storage,
    storagePrefix: env.BATCHPLANE_STORAGE_PREFIX ?? 'bp',
    publicUrl: (env.BATCHPLANE_PUBLIC_URL ?? `http://127.0.0.1:${port}`).replace(/\/$/, ''),
    dataDir: path.resolve(env.BATCHPLANE_DATA_DIR ?? path.join(process.cwd(), '.data')),
    nodeProvider: 'local',
    nodeHeartbeatTimeoutSeconds: Number(env.BATCHPLANE_NODE_HEARTBEAT_TIMEOUT ?? 30),
    nodeBootTimeoutSeconds: Number(env.BATCHPLANE_NODE_BOOT_TIMEOUT ?? 120),
    autoscaleMinIntervalSeconds: positive(env, 'BATCHPLANE_AUTOSCALE_MIN_INTERVAL', 300),
    metricsIntervalSeconds: positive(env, 'BATCHPLANE_METRICS_INTERVAL', 30),
    quotaCores: positive(env, 'BATCHPLANE_QUOTA_CORES', 20),
    quotaPools: positive(env, 'BATCHPLANE_QUOTA_POOLS', 20),
    quotaActiveJobs: positive(env, 'BATCHPLANE_QUOTA_ACTIVE_JOBS', 20),
    serviceLogs: (env.BATCHPLANE_SERVICE_LOGS ?? 'off').toLowerCase() === 'on',
    eventHubsConnectionString: env.BATCHPLANE_EVENTHUBS_CONNECTION_STRING,
    subscriptionId: env.BATCHPLANE_SUBSCRIPTION_ID ?? '00000000-0000-0000-0000-000000000000',
    resourceGroup: env.BATCHPLANE_RESOURCE_GROUP ?? 'batchplane-local',
  };
}

/** A whole number ≥ 1 from the environment, or the default. */
function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of at least 1 (got '${raw}')`);
  return n;
}
