import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { RequestCounter } from '../storage/counting';
import { decorate, StorageError } from '../storage/errors';
import { groupInOrder, SERVICE_LOG_CONTAINER, serviceLogBlobPath, serviceLogLine, type PublishedRecord, type SinkRecord } from './records';
import type { ServiceLogSink } from './sinks';

/**
 * Service logs as Azure diagnostic logs in blob storage: container `insights-logs-servicelog`,
 * one append blob per hour of event time (`…/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`), one JSON
 * record per line. Each attempt appends one block per blob (split only past 4 MiB), so a block is
 * all there or not at all. Steady state costs one request per blob per attempt: the append; the
 * container and blob are created only when the append answers 404.
 *
 * `written` downloads the hour blobs the records belong to and collects their `correlationId`s.
 */
const MAX_BLOCK_BYTES = 4 * 1024 * 1024;
/** Deadline of one `write` (under half the publisher's 60 s lease). */
const WRITE_TIMEOUT_MS = 20_000;

export class BlobSink implements ServiceLogSink {
  readonly name = 'blob';
  private readonly container: ContainerClient;

  constructor(
    blobService: BlobServiceClient,
    private readonly counter?: RequestCounter,
    containerName = SERVICE_LOG_CONTAINER,
  ) {
    this.container = blobService.getContainerClient(containerName);
  }

  async write(records: readonly SinkRecord[]): Promise<void> {
    const byBlob = groupInOrder(records, (r) => pathOf(r.record));
    const abortSignal = AbortSignal.timeout(WRITE_TIMEOUT_MS);
    for (const [path, list] of byBlob) {
      for (const block of blocks(list.map((r) => `${serviceLogLine(r.record)}\n`))) await this.append(path, block, abortSignal);
    }
  }

  private async append(path: string, text: string, abortSignal: AbortSignal): Promise<void> {
    const blob = this.container.getAppendBlobClient(path);
    const body = Buffer.from(text, 'utf8');
    try {
      this.counter?.add('blob');
      await decorate(blob.appendBlock(body, body.length, { abortSignal }));
      return;
    } catch (err) {
      if (!(err instanceof StorageError && err.isNotFound)) throw err;
    }
    this.counter?.add('blob');
    await decorate(this.container.createIfNotExists({ abortSignal }));
    this.counter?.add('blob');
    await decorate(blob.createIfNotExists({ abortSignal }));
    this.counter?.add('blob');
    await decorate(blob.appendBlock(body, body.length, { abortSignal }));
  }

  async written(records: readonly SinkRecord[]): Promise<Set<string>> {
    const want = new Set(records.map((r) => r.id));
    const found = new Set<string>();
    for (const path of groupInOrder(records, (r) => pathOf(r.record)).keys()) {
      for (const rec of await this.read(path)) if (want.has(rec.correlationId)) found.add(rec.correlationId);
    }
    return found;
  }

  /** Every record of one hour blob (empty when it does not exist). */
  async read(path: string): Promise<PublishedRecord[]> {
    let text: string;
    try {
      this.counter?.add('blob');
      const buf = await decorate(this.container.getBlobClient(path).downloadToBuffer());
      text = buf.toString('utf8');
    } catch (err) {
      if (err instanceof StorageError && err.isNotFound) return [];
      throw err;
    }
    return parseServiceLogBlob(text);
  }

  async close(): Promise<void> {
    // Nothing to release: the blob client belongs to the storage context.
  }
}

function pathOf(r: PublishedRecord): string {
  return serviceLogBlobPath(r.resourceId, r.time);
}

/** The records of a PT1H.json blob (JSON lines; blank lines ignored). */
export function parseServiceLogBlob(text: string): PublishedRecord[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as PublishedRecord);
}

/** Lines joined into blocks of at most 4 MiB (a single longer line is its own block). */
function blocks(lines: string[]): string[] {
  const out: string[] = [];
  let cur = '';
  let size = 0;
  for (const line of lines) {
    const n = Buffer.byteLength(line);
    if (size > 0 && size + n > MAX_BLOCK_BYTES) {
      out.push(cur);
      cur = '';
      size = 0;
    }
    cur += line;
    size += n;
  }
  if (size > 0) out.push(cur);
  return out;
}
