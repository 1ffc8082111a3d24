import type { OutboxRow, OutboxSource } from './records';

/**
 * The publisher lease of one outbox partition: a row in that partition (pools '~l~', tasks
 * '!l!'), written only with its ETag, so exactly one publisher at a time holds it. It also records
 * the rows an attempt is publishing (`inflight`) BEFORE anything is sent; a publisher that finds
 * a non-empty `inflight` knows an earlier attempt was interrupted and asks the sinks what they
 * already hold before sending.
 */
export interface LeaseState {
  owner: string;
  /** ISO time after which another publisher may take the lease over. */
  expiresAt: string;
  /** Row keys of the attempt in flight, in publish order; empty when none. */
  inflight: string[];
  /** When the attempt in flight first started (kept across takeovers: bounds the sink scan). */
  inflightAt?: string;
}

export interface StoredLease {
  state: LeaseState;
  etag: string;
}

/** Lease, plus the oldest outbox rows of the partition (RowKey order). */
export interface OutboxSnapshot {
  lease?: StoredLease;
  rows: OutboxRow[];
  /** True when the partition may hold more rows than returned. */
  more: boolean;
}

/** Thrown by an OutboxStore when a lease write lost the race (409 on create, 412 on update). */
export class LeaseLostError extends Error {
  constructor(source: OutboxSource) {
    super(`service-log lease of ${source.table}/${source.partitionKey} was taken by another publisher`);
    this.name = 'LeaseLostError';
  }
}

/** The storage the publisher needs; shared/storage/outbox.ts implements it on Table storage. */
export interface OutboxStore {
  /** The lease and up to `max` oldest rows in one read. */
  snapshot(source: OutboxSource, max: number): Promise<OutboxSnapshot>;
  /** The rows among `rowKeys` that still exist, in the order given. */
  rows(source: OutboxSource, rowKeys: readonly string[]): Promise<OutboxRow[]>;
  /** Creates (no etag) or ETag-replaces the lease; returns the new ETag; LeaseLostError on a race. */
  writeLease(source: OutboxSource, state: LeaseState, etag: string | undefined): Promise<string>;
  /**
   * Deletes `rowKeys` and writes the lease in ONE transaction (≤ 99 rows), guarded by the lease
   * ETag; LeaseLostError when stale.
   */
  complete(source: OutboxSource, rowKeys: readonly string[], state: LeaseState, etag: string): Promise<string>;
}

/** Most rows one attempt publishes: their deletes plus the lease write fill one 100-action transaction. */
export const MAX_ROWS_PER_ATTEMPT = 99;

export function heldByOther(lease: LeaseState | undefined, owner: string, now: Date): boolean {
  return !!lease && lease.owner !== owner && Date.parse(lease.expiresAt) > now.getTime();
}

/** The lease `owner` writes to start an attempt on `rowKeys` (an interrupted attempt keeps its start time). */
export function claimed(prev: LeaseState | undefined, owner: string, now: Date, leaseMs: number, rowKeys: string[]): LeaseState {
  const resuming = !!prev && prev.inflight.length > 0;
  return {
    owner,
    expiresAt: new Date(now.getTime() + leaseMs).toISOString(),
    inflight: rowKeys,
    inflightAt: resuming ? (prev.inflightAt ?? now.toISOString()) : now.toISOString(),
  };
}

export function renewed(lease: LeaseState, now: Date, leaseMs: number): LeaseState {
  return { ...lease, expiresAt: new Date(now.getTime() + leaseMs).toISOString() };
}

/** Given up early (a sink failed): free for anyone now, the attempt still recorded as in flight. */
export function released(lease: LeaseState, now: Date): LeaseState {
  return { ...lease, expiresAt: now.toISOString() };
}

/** After a completed attempt: free, nothing in flight. */
export function cleared(owner: string, now: Date): LeaseState {
  return { owner, expiresAt: now.toISOString(), inflight: [] };
}

/** True when the holder should renew before its next sink write (less than half the lease left). */
export function needsRenewal(lease: LeaseState, now: Date, leaseMs: number): boolean {
  return Date.parse(lease.expiresAt) - now.getTime() < leaseMs / 2;
}
