import { claimed, cleared, heldByOther, LeaseLostError, MAX_ROWS_PER_ATTEMPT, needsRenewal, released, renewed, type LeaseState, type OutboxSnapshot, type OutboxStore } from './lease';
import { buildRecords, type OutboxRow, type OutboxSource, type SinkRecord } from './records';
import type { ServiceLogSink } from './sinks';

/**
 * Moves the outbox rows of one partition to the sinks, exactly once (the I/O is injected; see
 * publisher.ts for the wiring). One attempt:
 *
 *   1. read the lease and the oldest ≤ 99 rows (one query);
 *   2. take the lease with its ETag, recording the row keys in flight — nothing is sent before this
 *      write succeeds, so two publishers never send the same rows;
 *   3. per sink: make sure the lease is still ours (renewing it with its ETag when half is used),
 *      then write the records — or, when resuming an interrupted attempt, only the records the sink
 *      does not already hold (asked with their stable ids);
 *   4. delete the rows and clear `inflight` in ONE transaction guarded by the lease ETag.
 *
 * A crash before 2 leaves nothing in flight; between 2 and 4 the next publisher (after the lease
 * expires, or at once when a failed attempt released it) resumes from `inflight`; after 4 there is
 * nothing left. Residual assumption: a sink write finishes well within the lease (60 s by default;
 * each write starts with at least half of it left), so a publisher that lost its lease mid-write
 * is never overtaken while its write is still landing.
 */
export interface RelayDeps {
  store: OutboxStore;
  sinks: readonly ServiceLogSink[];
  clock: () => Date;
  /** Unique per attempt-runner (host, process, call). */
  owner: string;
  resourceId: string;
  /** Once per event, after its row was deleted (telemetry). */
  onPublished?: (r: SinkRecord) => void;
  /** A row held an event the catalog rejects (it is still published as written). */
  onInvalid?: (err: unknown, name: string) => void;
  leaseMs?: number;
  /** Clock-skew allowance around an interrupted attempt when asking sinks what they hold. */
  skewMs?: number;
  /** Attempts per call (each ≤ 99 rows). */
  maxAttempts?: number;
}

export interface RelayResult {
  /** 'busy': another publisher holds the lease; 'lost': the lease was taken over mid-attempt. */
  status: 'done' | 'busy' | 'lost';
  attempts: number;
  /** Events whose rows this call moved out of the outbox (per event, not per sink). */
  published: number;
  /** Records a resumed attempt found already written (summed over sinks). */
  alreadyWritten: number;
}

export const DEFAULT_LEASE_MS = 60_000;
const DEFAULT_SKEW_MS = 60_000;

export async function relayOutbox(deps: RelayDeps, source: OutboxSource): Promise<RelayResult> {
  const res: RelayResult = { status: 'done', attempts: 0, published: 0, alreadyWritten: 0 };
  const maxAttempts = deps.maxAttempts ?? 10;
  while (res.attempts < maxAttempts) {
    const snap = await deps.store.snapshot(source, MAX_ROWS_PER_ATTEMPT);
    if (heldByOther(snap.lease?.state, deps.owner, deps.clock())) return { ...res, status: 'busy' };
    const resuming = (snap.lease?.state.inflight.length ?? 0) > 0;
    const rows = resuming ? await inflightRows(deps.store, source, snap) : snap.rows;
    if (!resuming && rows.length === 0) return res;
    res.attempts++;
    const status = await attempt(deps, source, snap, rows, resuming, res);
    if (status !== 'done') return { ...res, status };
    if (!resuming && !snap.more) return res;
  }
  return res;
}

async function attempt(deps: RelayDeps, source: OutboxSource, snap: OutboxSnapshot, rows: OutboxRow[], resuming: boolean, res: RelayResult): Promise<RelayResult['status']> {
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const keys = rows.map((r) => r.rowKey);
  // 2. Take the lease and record what is in flight (a resumed attempt keeps only the rows left).
  let lease: LeaseState = claimed(snap.lease?.state, deps.owner, deps.clock(), leaseMs, keys);
  let etag: string;
  try {
    etag = await deps.store.writeLease(source, lease, snap.lease?.etag);
  } catch (err) {
    if (err instanceof LeaseLostError) return (await freeIfOurs(deps, source), 'busy');
    throw err;
  }
  const records = buildRecords(source, rows, deps.resourceId, deps.onInvalid);
  const keep = async (): Promise<void> => {
    if (!needsRenewal(lease, deps.clock(), leaseMs)) return;
    const next = renewed(lease, deps.clock(), leaseMs);
    etag = await deps.store.writeLease(source, next, etag);
    lease = next;
  };
  // 3. Each sink gets the records it does not hold yet.
  try {
    for (const sink of deps.sinks) {
      await keep();
      let todo: readonly SinkRecord[] = records;
      if (resuming && records.length > 0) {
        const held = await sink.written(records, scanWindow(lease, deps.clock(), deps.skewMs ?? DEFAULT_SKEW_MS));
        todo = records.filter((r) => !held.has(r.id));
        res.alreadyWritten += records.length - todo.length;
        await keep();
      }
      if (todo.length > 0) await sink.write(todo);
    }
  } catch (err) {
    if (err instanceof LeaseLostError) return (await freeIfOurs(deps, source), 'lost');
    await deps.store.writeLease(source, released(lease, deps.clock()), etag).catch(() => undefined);
    throw err;
  }
  // 4. Delete the rows and clear the in-flight list together.
  try {
    await deps.store.complete(source, keys, cleared(deps.owner, deps.clock()), etag);
  } catch (err) {
    if (err instanceof LeaseLostError) return (await freeIfOurs(deps, source), 'lost');
    await deps.store.writeLease(source, released(lease, deps.clock()), etag).catch(() => undefined);
    throw err;
  }
  res.published += records.length;
  for (const r of records) deps.onPublished?.(r);
  return 'done';
}

/**
 * A lease write reported as lost may still have landed: a request the storage client retried
 * after its first try was applied fails its ETag check against our own write. The lease is then
 * ours and, unless freed, keeps every other publisher out until it expires (60 s of silence).
 * Read it back; if it is still held under our owner, release it (its in-flight list stays, so the
 * next attempt resumes safely). Best effort: any failure leaves it to expire.
 */
async function freeIfOurs(deps: RelayDeps, source: OutboxSource): Promise<void> {
  try {
    const { lease } = await deps.store.snapshot(source, 0);
    if (!lease || lease.state.owner !== deps.owner || Date.parse(lease.state.expiresAt) <= deps.clock().getTime()) return;
    await deps.store.writeLease(source, released(lease.state, deps.clock()), lease.etag);
  } catch {
    // left to expire
  }
}

/** The rows of an interrupted attempt that still exist, in the attempt's order. */
async function inflightRows(store: OutboxStore, source: OutboxSource, snap: OutboxSnapshot): Promise<OutboxRow[]> {
  const keys = snap.lease!.state.inflight;
  const seen = new Map(snap.rows.map((r) => [r.rowKey, r]));
  if (snap.more && keys.some((k) => !seen.has(k))) return store.rows(source, keys);
  return keys.flatMap((k) => seen.get(k) ?? []);
}

function scanWindow(lease: LeaseState, now: Date, skewMs: number): { from: Date; to: Date } {
  const started = Date.parse(lease.inflightAt ?? '') || now.getTime() - skewMs;
  return { from: new Date(started - skewMs), to: new Date(now.getTime() + skewMs) };
}
