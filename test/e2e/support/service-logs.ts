import type { BlobServiceClient } from '@azure/storage-blob';
import { expect } from 'vitest';
import { eventSchemas } from '../../../shared/events/catalog';
import { serviceLogBlobPath, type PublishedRecord } from '../../../shared/events/records';
import { orderKeyOf, readHub, readServiceLogBlobs, type HubEvent } from '../../support/service-log-readers';
import { waitFor } from './stack';

/** Everything a run streamed and stored for some pools/jobs. */
export interface Published {
  hub: HubEvent[];
  blob: PublishedRecord[];
}

export async function publishedFor(cs: string, blobs: BlobServiceClient, resourceId: string, keys: string[]): Promise<Published> {
  const hub = (await readHub(cs)).filter((e) => keys.includes(orderKeyOf(e.record)));
  const files = await readServiceLogBlobs(blobs, resourceId);
  // Laid out as Azure Monitor does: each record in the PT1H.json of its event's hour.
  for (const f of files) for (const r of f.records) expect(f.path).toBe(serviceLogBlobPath(resourceId, r.time));
  const blob = files.flatMap((b) => b.records).filter((r) => keys.includes(orderKeyOf(r)));
  return { hub, blob };
}

/** Waits until the hub holds `count` events of `keys`, then a little longer to catch late duplicates. */
export async function waitForPublished(cs: string, blobs: BlobServiceClient, resourceId: string, keys: string[], count: number): Promise<Published> {
  let seen = 'nothing yet';
  try {
    await waitFor(`${count} service-log events`, async () => {
      const p = await publishedFor(cs, blobs, resourceId, keys);
      seen = `${p.hub.length} in the hub (${p.hub.map((e) => e.record.operationName).join(', ')}), ${p.blob.length} in blobs`;
      return p.hub.length >= count ? true : undefined;
    }, 90_000, 500); // > the publisher lease (60 s): a lease left by a lost attempt delays, never loses, events
  } catch (err) {
    throw new Error(`${(err as Error).message}; last read: ${seen}`);
  }
  await new Promise((r) => setTimeout(r, 2_500));
  return publishedFor(cs, blobs, resourceId, keys);
}

/**
 * The stream is exactly once and ordered: unique ids, valid catalog bodies, one Event Hubs
 * partition per pool/job, sequence numbers in order, and the blobs hold the same records.
 */
export function expectExactlyOnce(p: Published, resourceId: string): void {
  const ids = p.hub.map((e) => e.id);
  expect(new Set(ids).size, 'duplicate events in Event Hubs').toBe(ids.length);
  for (const e of p.hub) {
    expect(e.record).toMatchObject({ resourceId, category: 'ServiceLog', correlationId: e.id });
    expect(() => eventSchemas[e.record.operationName].parse(e.record.properties)).not.toThrow();
  }
  for (const key of new Set(p.hub.map((e) => orderKeyOf(e.record)))) {
    const mine = p.hub.filter((e) => orderKeyOf(e.record) === key);
    expect(new Set(mine.map((e) => e.partitionId)).size, `${key}: one partition`).toBe(1);
    expect(new Set(mine.map((e) => e.partitionKey))).toEqual(new Set([key]));
  }
  const byId = new Map(p.hub.map((e) => [e.id, e.record]));
  expect(p.blob.length, 'blob records').toBe(p.hub.length);
  for (const r of p.blob) expect(r).toEqual(byId.get(r.correlationId));
}

/** Names of the events of one pool or job, in stream order. */
export function namesOf(p: Published, key: string): string[] {
  return sequenceOf(p, key).map((r) => r.operationName);
}

export function sequenceOf(p: Published, key: string): PublishedRecord[] {
  return p.hub.filter((e) => orderKeyOf(e.record) === key).sort((a, b) => a.sequenceNumber - b.sequenceNumber).map((e) => e.record);
}

/** One task's events in stream order. */
export function taskSequence(p: Published, jobId: string, taskId: string): PublishedRecord[] {
  return sequenceOf(p, jobId).filter((r) => (r.properties as { id: string }).id === taskId);
}

export const POOL_LIFECYCLE = ['PoolCreateEvent', 'PoolResizeStartEvent', 'PoolResizeCompleteEvent'];
