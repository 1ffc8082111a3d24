import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { loadConfig, type Config } from './config';
import { LocalNodeProvider } from './nodes/local-provider';
import type { NodeProvider } from './nodes/provider';
import { Signals } from './services/signals';
import { StorageContext } from './storage/context';
import { JobRepository } from './storage/jobs';
import { NodeRepository } from './storage/nodes';
import { PoolRepository } from './storage/pools';
import { TaskRepository } from './storage/tasks';
import { createTelemetry, type Telemetry } from './telemetry';

/**
 * The composition root: the only place that reads the environment, the clock and randomness.
 * Services receive a Runtime and use `clock()` and `ids` from it.
 */
export interface Runtime {
  config: Config;
  clock: () => Date;
  ids: { uuid(): string; hex(bytes: number): string };
  storage: StorageContext;
  pools: PoolRepository;
  nodes: NodeRepository;
  jobs: JobRepository;
  tasks: TaskRepository;
  provider: NodeProvider;
  signals: Signals;
  telemetry: Telemetry;
  /** Per-process caches (never the only copy of any state). */
  cache: Map<string, { until: number; value: unknown }>;
  nodeToken(poolId: string, nodeId: string): string;
}

export function createRuntime(config: Config = loadConfig(), overrides: Partial<Runtime> = {}): Runtime {
  const storage = overrides.storage ?? new StorageContext({ connectionString: config.storageConnectionString, prefix: config.storagePrefix });
  return {
    config,
    clock: () => new Date(),
    ids: { uuid: () => randomUUID(), hex: (n) => randomBytes(n).toString('hex') },
    storage,
    pools: new PoolRepository(storage.tables.pools),
    nodes: new NodeRepository(storage.tables.nodes),
    jobs: new JobRepository(storage.tables.jobs),
    tasks: new TaskRepository(storage.tables.tasks),
    provider: new LocalNodeProvider(config.dataDir),
    signals: new Signals(),
    telemetry: createTelemetry(process.env),
    cache: new Map(),
    nodeToken: (poolId, nodeId) => createHmac('sha256', Buffer.from(config.accountKey, 'base64')).update(`node:${poolId}:${nodeId}`).digest('base64url'),
    ...overrides,
  };
}
