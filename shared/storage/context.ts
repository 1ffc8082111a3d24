import { TableClient } from '@azure/data-tables';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { RequestCounter } from './counting';
import { decorate } from './errors';
import { EntityTable } from './table';
import { TABLES, type TableName } from './keys';
import { upgradeIndexColumns } from './upgrade';
import { upgradeIdKeys } from './upgrade-id-keys';

export const QUEUES = { poolCommands: 'pool-commands', submissions: 'task-submissions', nodeCommands: 'node-commands' } as const;

export interface StorageOptions {
  connectionString: string;
  /** Prefix of every table and queue name (tests use a unique one per file). */
  prefix: string;
  counter?: RequestCounter;
}

/** Every storage client of one control-plane instance, created once in the composition root. */
export class StorageContext {
  readonly counter: RequestCounter;
  readonly tables: Record<TableName, EntityTable>;
  readonly queueService: QueueServiceClient;
  readonly blobService: BlobServiceClient;

  constructor(readonly options: StorageOptions) {
    this.counter = options.counter ?? new RequestCounter();
    const allowInsecureConnection = /DefaultEndpointsProtocol=http;|127\.0\.0\.1|localhost/.test(options.connectionString);
    const make = (name: TableName): EntityTable =>
      new EntityTable(
        TableClient.fromConnectionString(options.connectionString, this.tableName(name), {
          allowInsecureConnection,
          additionalPolicies: [{ policy: this.counter.tablePolicy(), position: 'perCall' }],
          retryOptions: { maxRetries: 3, retryDelayInMs: 50, maxRetryDelayInMs: 1000 },
        }),
      );
    this.tables = { pools: make('pools'), nodes: make('nodes'), jobs: make('jobs'), tasks: make('tasks'), metrics: make('metrics'), usage: make('usage') };
    this.queueService = QueueServiceClient.fromConnectionString(options.connectionString, {
      retryOptions: { maxTries: 3, retryDelayInMs: 50, maxRetryDelayInMs: 1000 },
    });
    this.blobService = BlobServiceClient.fromConnectionString(options.connectionString);
  }

  tableName(name: TableName): string {
    return `${this.options.prefix}${name}`;
  }

  queueName(name: string): string {
    return `${this.options.prefix}-${name}`.toLowerCase();
  }

  queue(name: string): QueueClient {
    return this.queueService.getQueueClient(this.queueName(name));
  }

  /**
   * Creates every table and queue (idempotent), and upgrades, once per account, rows written
   * before ids were keyed case-insensitively and before the filter columns existed.
   */
  async ensure(): Promise<void> {
    await Promise.all(TABLES.map((t) => decorate(this.tables[t].client.createTable())));
    await Promise.all(Object.values(QUEUES).map((q) => decorate(this.queue(q).createIfNotExists())));
    const moved = await upgradeIdKeys(this.tables);
    if (moved && (moved.collisions.length || Object.values(moved.moved).some((n) => n > 0))) {
      console.warn(`batchplane: rows moved to case-insensitive id keys: ${JSON.stringify(moved.moved)}${moved.collisions.length ? `; left under their old keys (ids that differ only by case): ${moved.collisions.join(', ')}` : ''}`);
    }
    await upgradeIndexColumns(this.tables.pools, this.tables.jobs);
  }

  /** Sends a JSON message, base64-encoded as the Functions queue trigger expects. */
  async send(queue: string, message: unknown, visibilityTimeoutSeconds?: number): Promise<void> {
    this.counter.add('queue');
    const text = Buffer.from(JSON.stringify(message)).toString('base64');
    await decorate(this.queue(queue).sendMessage(text, visibilityTimeoutSeconds ? { visibilityTimeout: visibilityTimeoutSeconds } : undefined));
  }
}
