import { createHash } from 'node:crypto';
import { makeServiceLogRecord, partitionKeyOf, isServiceLogEventName, type ServiceLogEventName, type ServiceLogRecord } from './catalog';
import type { OutboxEvent } from './outbox';

/**
 * Pure building blocks of service-log publishing: the resource id, stable event ids, the records
 * the sinks receive and the Azure Monitor blob layout.
 */

/** The event hub of the local development endpoint (infra/local/stack.ts) and the CLI's default. */
export const SERVICE_LOG_HUB = 'batchplane-servicelogs';

/** The container Azure Monitor writes Batch service logs to. */
export const SERVICE_LOG_CONTAINER = 'insights-logs-servicelog';

/** An outbox partition: the pools partition ('pool') or one job's task partition. */
export interface OutboxSource {
  table: 'pools' | 'tasks';
  partitionKey: string;
}

/** One outbox row as the publisher sees it. */
export interface OutboxRow {
  rowKey: string;
  events: OutboxEvent[];
}

/** The Azure Monitor resource-log envelope plus `correlationId`: the event's stable id. */
export type PublishedRecord = ServiceLogRecord & { correlationId: string };

/** What a sink receives. */
export interface SinkRecord {
  /** Stable id: the same outbox row and index give the same id on every attempt of every publisher. */
  id: string;
  /** Event Hubs partition key: the pool id for pool events, the job id for task events. */
  partitionKey: string;
  record: PublishedRecord;
}

/** `/SUBSCRIPTIONS/<SUB>/RESOURCEGROUPS/<RG>/PROVIDERS/MICROSOFT.BATCH/BATCHACCOUNTS/<ACCOUNT>`, upper-case as Azure Monitor writes it. */
export function serviceLogResourceId(c: { subscriptionId: string; resourceGroup: string; accountName: string }): string {
  return `/SUBSCRIPTIONS/${c.subscriptionId}/RESOURCEGROUPS/${c.resourceGroup}/PROVIDERS/MICROSOFT.BATCH/BATCHACCOUNTS/${c.accountName}`.toUpperCase();
}

/** The id of event `index` of outbox row `rowKey` in `source`, GUID-shaped (derived, not random). */
export function serviceLogEventId(source: OutboxSource, rowKey: string, index: number): string {
  const h = createHash('sha256').update(`${source.table}\n${source.partitionKey}\n${rowKey}\n${index}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The records of `rows`, in row order then event order. A body the catalog rejects (an emitter
 * bug) is still published as it was written, so no event is ever dropped; `onInvalid` reports it.
 */
export function buildRecords(source: OutboxSource, rows: readonly OutboxRow[], resourceId: string, onInvalid?: (err: unknown, name: string) => void): SinkRecord[] {
  const out: SinkRecord[] = [];
  for (const row of rows) {
    row.events.forEach((ev, i) => {
      const id = serviceLogEventId(source, row.rowKey, i);
      const { record, partitionKey } = envelope(source, row.rowKey, ev, resourceId, onInvalid);
      out.push({ id, partitionKey, record: { time: record.time, resourceId: record.resourceId, category: record.category, operationName: record.operationName, correlationId: id, properties: record.properties } });
    });
  }
  return out;
}

function envelope(source: OutboxSource, rowKey: string, ev: OutboxEvent, resourceId: string, onInvalid?: (err: unknown, name: string) => void): { record: ServiceLogRecord; partitionKey: string } {
  // The row key starts with a 3-character prefix and the 15-digit commit time: a deterministic fallback.
  const parsed = new Date(ev.time);
  const time = Number.isNaN(parsed.getTime()) ? new Date(Number(rowKey.slice(3, 18)) || 0) : parsed;
  try {
    if (!isServiceLogEventName(ev.name)) throw new Error(`'${String(ev.name)}' is not a service-log event`);
    const record = makeServiceLogRecord(ev.name, ev.body as never, { time, resourceId });
    return { record, partitionKey: partitionKeyOf(ev.name, record.properties as never) };
  } catch (err) {
    onInvalid?.(err, String(ev.name));
    const b = (ev.body ?? {}) as { id?: unknown; jobId?: unknown };
    const key = typeof b.jobId === 'string' ? b.jobId : typeof b.id === 'string' ? b.id : source.partitionKey;
    const record = { time: time.toISOString(), resourceId, category: 'ServiceLog', operationName: ev.name as ServiceLogEventName, properties: ev.body } as ServiceLogRecord;
    return { record, partitionKey: key };
  }
}

/** `resourceId=<resourceId>/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json` for the hour (UTC) of `time`. */
export function serviceLogBlobPath(resourceId: string, time: string): string {
  const d = new Date(time);
  if (Number.isNaN(d.getTime())) throw new Error(`invalid service-log time '${time}'`);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `resourceId=${resourceId}/y=${d.getUTCFullYear()}/m=${p(d.getUTCMonth() + 1)}/d=${p(d.getUTCDate())}/h=${p(d.getUTCHours())}/m=00/PT1H.json`;
}

/** One blob line (no trailing newline). */
export function serviceLogLine(r: PublishedRecord): string {
  return JSON.stringify(r);
}

/** Groups items by key, keeping first-seen key order and item order within a key. */
export function groupInOrder<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}
