import { EventHubConsumerClient, earliestEventPosition } from '@azure/event-hubs';
import type { BlobServiceClient } from '@azure/storage-blob';
import { parseServiceLogBlob } from '../../shared/events/blob-sink';
import { eventIdOf } from '../../shared/events/eventhubs-sink';
import { SERVICE_LOG_CONTAINER, type PublishedRecord } from '../../shared/events/records';
import { recordsOf } from '../../cli/format';

/** One event read back from Event Hubs with a real EventHubConsumerClient. */
export interface HubEvent {
  id?: string;
  partitionId: string;
  partitionKey?: string;
  sequenceNumber: number;
  record: PublishedRecord;
}

/** Reads every partition from the earliest event up to the last one enqueued when called. */
export async function readHub(connectionString: string, timeoutMs = 20_000): Promise<HubEvent[]> {
  const consumer = new EventHubConsumerClient('$Default', connectionString, { retryOptions: { maxRetries: 2, timeoutInMs: 5_000 } });
  try {
    const targets = new Map<string, number>();
    for (const id of await consumer.getPartitionIds()) {
      const p = await consumer.getPartitionProperties(id);
      if (!p.isEmpty) targets.set(id, p.lastEnqueuedSequenceNumber);
    }
    const out: HubEvent[] = [];
    if (targets.size === 0) return out;
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    const sub = consumer.subscribe(
      {
        processEvents: async (events, ctx) => {
          for (const e of events) {
            for (const record of recordsOf(e.body)) out.push({ id: eventIdOf(e), partitionId: ctx.partitionId, partitionKey: e.partitionKey ?? undefined, sequenceNumber: e.sequenceNumber, record });
            if (e.sequenceNumber >= (targets.get(ctx.partitionId) ?? Infinity)) targets.delete(ctx.partitionId);
          }
          if (targets.size === 0) finished();
        },
        processError: async () => undefined,
      },
      { startPosition: earliestEventPosition, maxBatchSize: 1000, maxWaitTimeInSeconds: 1 },
    );
    const timer = setTimeout(finished, timeoutMs);
    await done;
    clearTimeout(timer);
    await sub.close();
    if (targets.size > 0) throw new Error(`readHub: partitions ${[...targets.keys()].join(',')} not read to the end in ${timeoutMs} ms`);
    return out;
  } finally {
    await consumer.close();
  }
}

/** Every PT1H.json blob under `resourceId` in path order, with its records in line order. */
export async function readServiceLogBlobs(blobService: BlobServiceClient, resourceId: string): Promise<{ path: string; records: PublishedRecord[] }[]> {
  const container = blobService.getContainerClient(SERVICE_LOG_CONTAINER);
  if (!(await container.exists())) return [];
  const out: { path: string; records: PublishedRecord[] }[] = [];
  for await (const b of container.listBlobsFlat({ prefix: `resourceId=${resourceId}/` })) {
    const buf = await container.getBlobClient(b.name).downloadToBuffer();
    out.push({ path: b.name, records: parseServiceLogBlob(buf.toString('utf8')) });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** The pool id or job id a record is ordered by (its Event Hubs partition key). */
export function orderKeyOf(r: PublishedRecord): string {
  const p = r.properties as { id: string; jobId?: string };
  return p.jobId ?? p.id;
}
