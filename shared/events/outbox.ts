import type { TransactionAction } from '@azure/data-tables';
import type { ServiceLogEventName } from './catalog';

/**
 * The outbox: service-log events are written as rows in the SAME entity-group transaction as the
 * state change they report (one row per transaction, holding every event of that change), and a
 * publisher later moves them to Event Hubs and blob storage. Row keys sort by time, so a
 * partition's events keep their order.
 *
 *   tasks table, partition = job id:   RK '!o!<time><seq><rand>'
 *   pools table, partition = 'pool':   RK '~o~<time><seq><rand>'
 */
export interface OutboxEvent {
  name: ServiceLogEventName;
  /** ISO time of the transition. */
  time: string;
  body: unknown;
}

export const TASK_OUTBOX_PREFIX = '!o!';
export const POOL_OUTBOX_PREFIX = '~o~';

let seq = 0;

export function outboxKey(prefix: string, nowMs: number, rand: string): string {
  return `${prefix}${String(nowMs).padStart(15, '0')}${String(seq++ % 1_000_000).padStart(6, '0')}${rand}`;
}

/** The outbox row of one transaction, or nothing when service logs are off or there is nothing to say. */
export function outboxActions(enabled: boolean, partitionKey: string, prefix: string, events: OutboxEvent[], nowMs: number, rand: string): TransactionAction[] {
  if (!enabled || events.length === 0) return [];
  return [['create', { partitionKey, rowKey: outboxKey(prefix, nowMs, rand), events: JSON.stringify(events) }]];
}

export function parseOutboxRow(row: Record<string, unknown>): OutboxEvent[] {
  try {
    const v = JSON.parse(String(row.events ?? '[]')) as OutboxEvent[];
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}
