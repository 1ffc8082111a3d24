import type { SinkRecord } from './records';

/** When an interrupted attempt may have written its records (clock skew included). */
export interface SinkWindow {
  from: Date;
  to: Date;
}

/**
 * Where published service-log records go (Event Hubs, blob storage). The publisher's exactly-once
 * guarantee rests on this contract, which test/contract/service-log-sink.contract.ts checks for
 * every implementation:
 *
 * - `write(records)` writes every record once, keeping the given order per partition key (Event
 *   Hubs) or per blob. It never retries a record itself after reporting failure; when it throws,
 *   any subset may have been written, and `written` tells which.
 * - `written(records, window)` answers, for records an earlier attempt may have written inside
 *   `window`, the ids this sink already holds. It throws when it cannot tell (never guesses).
 * - `close()` releases connections; a closed sink may be used again (it reconnects).
 */
export interface ServiceLogSink {
  readonly name: string;
  write(records: readonly SinkRecord[]): Promise<void>;
  written(records: readonly SinkRecord[], window: SinkWindow): Promise<Set<string>>;
  close(): Promise<void>;
}

/** Awaits every promise, then throws the first failure (so nothing is still running when it throws). */
export async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
