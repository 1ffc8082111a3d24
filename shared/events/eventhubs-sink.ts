import { EventHubConsumerClient, EventHubProducerClient, type EventData, type ReceivedEventData } from '@azure/event-hubs';
import { groupInOrder, type SinkRecord } from './records';
import { settleAll, type ServiceLogSink, type SinkWindow } from './sinks';

/**
 * Service logs to Event Hubs with the real producer, in batches (createBatch / tryAdd / sendBatch).
 * Each event's body is `{ "records": [record] }` — the shape Azure Monitor diagnostic settings
 * stream, so consumers written for Azure read it unchanged — one record per event, sent with the
 * partition key of its pool or job (order per pool/job = order in one partition). The stable id
 * travels as `messageId` and application property `eventId`.
 *
 * `written` reads every partition from just before the interrupted attempt up to the last event
 * enqueued when it started, collecting the ids it finds.
 */
export interface EventHubsSinkOptions {
  consumerGroup?: string;
  /** Limit for one `written` scan (default 30 s); it throws rather than guess. */
  scanTimeoutMs?: number;
  /** Deadline of one `write` (default 20 s, under half the publisher's 60 s lease). */
  writeTimeoutMs?: number;
  /** SDK retry options. */
  retryOptions?: { maxRetries?: number; timeoutInMs?: number; retryDelayInMs?: number };
}

export const EVENT_ID_PROPERTY = 'eventId';

export function toEventData(r: SinkRecord): EventData {
  return {
    body: { records: [r.record] },
    contentType: 'application/json',
    messageId: r.id,
    properties: { [EVENT_ID_PROPERTY]: r.id, category: r.record.category, operationName: r.record.operationName },
  };
}

/** The stable id of a received event, when it carries one. */
export function eventIdOf(e: Pick<ReceivedEventData, 'messageId' | 'properties'>): string | undefined {
  const p = e.properties?.[EVENT_ID_PROPERTY];
  if (typeof p === 'string') return p;
  return typeof e.messageId === 'string' ? e.messageId : undefined;
}

export class EventHubsSink implements ServiceLogSink {
  readonly name = 'eventhubs';
  private producer?: EventHubProducerClient;
  private readonly retryOptions: NonNullable<EventHubsSinkOptions['retryOptions']>;

  constructor(
    private readonly connectionString: string,
    private readonly opts: EventHubsSinkOptions = {},
  ) {
    this.retryOptions = opts.retryOptions ?? { maxRetries: 2, timeoutInMs: 8_000, retryDelayInMs: 200 };
  }

  private client(): EventHubProducerClient {
    return (this.producer ??= new EventHubProducerClient(this.connectionString, { retryOptions: this.retryOptions }));
  }

  async write(records: readonly SinkRecord[]): Promise<void> {
    const byKey = groupInOrder(records, (r) => r.partitionKey);
    const abortSignal = AbortSignal.timeout(this.opts.writeTimeoutMs ?? 20_000);
    await settleAll([...byKey].map(([key, list]) => this.sendInOrder(key, list, abortSignal)));
  }

  /** One partition key: batches sent one after another, so what landed is always a prefix. */
  private async sendInOrder(partitionKey: string, list: SinkRecord[], abortSignal: AbortSignal): Promise<void> {
    const producer = this.client();
    let batch = await producer.createBatch({ partitionKey, abortSignal });
    for (const r of list) {
      const data = toEventData(r);
      if (batch.tryAdd(data)) continue;
      if (batch.count === 0) throw new Error(`service-log event ${r.id} is larger than an Event Hubs batch (${batch.maxSizeInBytes} bytes)`);
      await producer.sendBatch(batch, { abortSignal });
      batch = await producer.createBatch({ partitionKey, abortSignal });
      if (!batch.tryAdd(data)) throw new Error(`service-log event ${r.id} is larger than an Event Hubs batch (${batch.maxSizeInBytes} bytes)`);
    }
    if (batch.count > 0) await producer.sendBatch(batch, { abortSignal });
  }

  async written(records: readonly SinkRecord[], window: SinkWindow): Promise<Set<string>> {
    const want = new Set(records.map((r) => r.id));
    const found = new Set<string>();
    if (want.size === 0) return found;
    const consumer = new EventHubConsumerClient(this.opts.consumerGroup ?? '$Default', this.connectionString, { retryOptions: this.retryOptions });
    try {
      const ids = await consumer.getPartitionIds();
      await settleAll(
        ids.map(async (partitionId) => {
          const props = await consumer.getPartitionProperties(partitionId);
          if (props.isEmpty || props.lastEnqueuedOnUtc.getTime() < window.from.getTime()) return;
          await this.scan(consumer, partitionId, window.from, props.lastEnqueuedSequenceNumber, want, found);
        }),
      );
    } finally {
      await consumer.close();
    }
    return found;
  }

  /** Reads one partition from `from` until sequence number `last`, collecting wanted ids. */
  private async scan(consumer: EventHubConsumerClient, partitionId: string, from: Date, last: number, want: Set<string>, found: Set<string>): Promise<void> {
    const timeoutMs = this.opts.scanTimeoutMs ?? 30_000;
    let lastError: unknown;
    let finish!: (err?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => (finish = (err) => (err ? reject(err) : resolve())));
    const sub = consumer.subscribe(
      partitionId,
      {
        processEvents: async (events) => {
          for (const e of events) {
            const id = eventIdOf(e);
            if (id && want.has(id)) found.add(id);
            if (e.sequenceNumber >= last) finish();
          }
        },
        processError: async (err) => {
          lastError = err;
        },
      },
      { startPosition: { enqueuedOn: from }, maxBatchSize: 500, maxWaitTimeInSeconds: 1 },
    );
    const timer = setTimeout(() => finish(new Error(`Event Hubs partition ${partitionId}: could not read up to sequence number ${last} in ${timeoutMs} ms${lastError ? ` (${String(lastError)})` : ''}`)), timeoutMs);
    try {
      await done;
    } finally {
      clearTimeout(timer);
      await sub.close();
    }
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    await p?.close();
  }
}
