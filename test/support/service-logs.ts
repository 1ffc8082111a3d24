import { exampleBodies } from '../../shared/events/catalog-examples';
import type { ServiceLogEventName } from '../../shared/events/catalog';
import { LeaseLostError, type LeaseState, type OutboxSnapshot, type OutboxStore } from '../../shared/events/lease';
import type { OutboxEvent } from '../../shared/events/outbox';
import type { OutboxRow, OutboxSource, SinkRecord } from '../../shared/events/records';
import type { ServiceLogSink, SinkWindow } from '../../shared/events/sinks';

/**
 * Test doubles of the publisher's ports. Both pass the same contract suites as the real
 * implementations (test/contract/*), so the exactly-once unit tests exercise real behaviour.
 */

/** A sink that records what it holds, with fault hooks. */
export class RecordingSink implements ServiceLogSink {
  readonly records: SinkRecord[] = [];
  writes = 0;
  scans = 0;
  /** Runs before a write stores anything (may throw or stall). */
  beforeWrite?: (records: readonly SinkRecord[]) => Promise<void> | void;
  /** Runs after a write stored its records (may throw or stall: a crash after sending). */
  afterWrite?: (records: readonly SinkRecord[]) => Promise<void> | void;
  /** Store only this many records of the next write, then throw (a crash mid-write). */
  failAfter?: number;

  constructor(readonly name = 'recording') {}

  async write(records: readonly SinkRecord[]): Promise<void> {
    this.writes++;
    await this.beforeWrite?.(records);
    if (this.failAfter !== undefined) {
      const n = this.failAfter;
      this.failAfter = undefined;
      this.records.push(...records.slice(0, n));
      throw new Error(`${this.name}: failed after ${n} record(s)`);
    }
    this.records.push(...records);
    await this.afterWrite?.(records);
  }

  async written(records: readonly SinkRecord[], _window: SinkWindow): Promise<Set<string>> {
    this.scans++;
    const held = new Set(this.records.map((r) => r.id));
    return new Set(records.map((r) => r.id).filter((id) => held.has(id)));
  }

  async close(): Promise<void> {}

  ids(): string[] {
    return this.records.map((r) => r.id);
  }
}

interface Partition {
  lease?: { state: LeaseState; etag: string };
  rows: Map<string, OutboxRow>;
}

/** An in-memory OutboxStore with Table-storage semantics (ETags, atomic complete). */
export class FakeOutboxStore implements OutboxStore {
  private readonly parts = new Map<string, Partition>();
  private etags = 0;
  private seq = 0;
  reads = 0;
  writes = 0;
  /** Runs before complete() changes anything (may throw: a crash before the delete). */
  beforeComplete?: () => void;
  /** Runs after a lease write or complete() landed (may throw: a retried request whose first try was applied). */
  afterWrite?: () => void;

  private part(s: OutboxSource): Partition {
    const k = `${s.table}/${s.partitionKey}`;
    let p = this.parts.get(k);
    if (!p) this.parts.set(k, (p = { rows: new Map() }));
    return p;
  }

  /** Adds one outbox row (as a service transaction would) and returns its key. */
  async add(s: OutboxSource, events: OutboxEvent[], rowKey?: string): Promise<string> {
    const prefix = s.table === 'pools' ? '~o~' : '!o!';
    const rk = rowKey ?? `${prefix}${String(1_700_000_000_000 + this.seq).padStart(15, '0')}${String(this.seq++).padStart(6, '0')}aa`;
    this.part(s).rows.set(rk, { rowKey: rk, events });
    return rk;
  }

  async snapshot(s: OutboxSource, max: number): Promise<OutboxSnapshot> {
    this.reads++;
    const p = this.part(s);
    const rows = [...p.rows.values()].sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1));
    return { lease: p.lease && { ...p.lease }, rows: rows.slice(0, max), more: rows.length > max };
  }

  async rows(s: OutboxSource, rowKeys: readonly string[]): Promise<OutboxRow[]> {
    this.reads++;
    const p = this.part(s);
    return rowKeys.flatMap((k) => p.rows.get(k) ?? []);
  }

  async writeLease(s: OutboxSource, state: LeaseState, etag: string | undefined): Promise<string> {
    this.writes++;
    const p = this.part(s);
    if (etag === undefined ? p.lease !== undefined : p.lease?.etag !== etag) throw new LeaseLostError(s);
    p.lease = { state: structuredClone(state), etag: `e${++this.etags}` };
    this.afterWrite?.();
    return p.lease.etag;
  }

  async complete(s: OutboxSource, rowKeys: readonly string[], state: LeaseState, etag: string): Promise<string> {
    this.writes++;
    this.beforeComplete?.();
    const p = this.part(s);
    if (p.lease?.etag !== etag) throw new LeaseLostError(s);
    const missing = rowKeys.find((k) => !p.rows.has(k));
    if (missing) throw new Error(`row ${missing} not found`);
    for (const k of rowKeys) p.rows.delete(k);
    p.lease = { state: structuredClone(state), etag: `e${++this.etags}` };
    this.afterWrite?.();
    return p.lease.etag;
  }

  lease(s: OutboxSource): LeaseState | undefined {
    return this.part(s).lease?.state;
  }

  rowCount(s: OutboxSource): number {
    return this.part(s).rows.size;
  }
}

/** A valid catalog event for the tests (`ids` override the pool/job/task ids of the example). */
export function sampleEvent(name: ServiceLogEventName, time: string, ids: { pool?: string; job?: string; task?: string } = {}): OutboxEvent {
  const body = structuredClone(exampleBodies[name]) as Record<string, unknown>;
  if (name.startsWith('Pool')) {
    if (ids.pool) body.id = ids.pool;
  } else {
    if (ids.job) body.jobId = ids.job;
    if (ids.task) body.id = ids.task;
    if (ids.pool) body.nodeInfo = { ...(body.nodeInfo as object), poolId: ids.pool };
  }
  return { name, time, body };
}

/** Resolves when `release()` is called: a stalled (or crashed) step. */
export function gate(): { wait: () => Promise<void>; release: () => void; reached: Promise<void> } {
  let release!: () => void;
  let reach!: () => void;
  const opened = new Promise<void>((r) => (release = r));
  const reached = new Promise<void>((r) => (reach = r));
  return {
    wait: () => {
      reach();
      return opened;
    },
    release,
    reached,
  };
}
