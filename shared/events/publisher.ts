import { hostname } from 'node:os';
import type { JobRecord } from '../domain/model';
import type { Runtime } from '../runtime';
import { BUCKETS, POOL_PK, taskPartition } from '../storage/keys';
import { OutboxRepository } from '../storage/outbox';
import { BlobSink } from './blob-sink';
import { EventHubsSink } from './eventhubs-sink';
import { serviceLogResourceId, type OutboxSource, type SinkRecord } from './records';
import { relayOutbox, type RelayResult } from './relay';
import type { ServiceLogSink } from './sinks';

/**
 * Publishes service-log outbox rows (written by the services in the same transactions as the
 * transitions they report) to Event Hubs (when BATCHPLANE_EVENTHUBS_CONNECTION_STRING is set) and
 * to blob storage, with one telemetry custom event per service-log event. The exactly-once
 * protocol is in relay.ts. Triggers: the 2-second timer (functions/timers/outbox.ts →
 * publishPendingServiceLogs) and job deletion (flushServiceLogs, before the partition is dropped).
 */
export interface PublishOptions {
  /** Lease length in ms (default 60 s); tests shorten it to simulate crashed publishers. */
  leaseMs?: number;
  /** Sinks for this call instead of the runtime's. */
  sinks?: readonly ServiceLogSink[];
}

const sinksByRuntime = new WeakMap<Runtime, readonly ServiceLogSink[]>();

/** The runtime's sinks, created on first use from its configuration. */
export function serviceLogSinks(rt: Runtime): readonly ServiceLogSink[] {
  let sinks = sinksByRuntime.get(rt);
  if (!sinks) {
    const cs = rt.config.eventHubsConnectionString;
    sinks = [...(cs ? [new EventHubsSink(cs)] : []), new BlobSink(rt.storage.blobService, rt.storage.counter)];
    sinksByRuntime.set(rt, sinks);
  }
  return sinks;
}

/** Replaces the runtime's sinks (fault injection in tests, other destinations). */
export function useServiceLogSinks(rt: Runtime, sinks: readonly ServiceLogSink[]): void {
  sinksByRuntime.set(rt, sinks);
}

/** Closes the runtime's sinks (Event Hubs connections); they reconnect if used again. */
export async function closeServiceLogSinks(rt: Runtime): Promise<void> {
  const sinks = sinksByRuntime.get(rt) ?? [];
  await Promise.allSettled(sinks.map((s) => s.close()));
}

/** Publishes the outbox of one partition ('pool' in pools, or a job's partition in tasks). */
export async function publishOutbox(rt: Runtime, source: OutboxSource, opts: PublishOptions = {}): Promise<RelayResult> {
  if (!rt.config.serviceLogs) return { status: 'done', attempts: 0, published: 0, alreadyWritten: 0 };
  return relayOutbox(
    {
      store: new OutboxRepository(rt.storage.tables),
      sinks: opts.sinks ?? serviceLogSinks(rt),
      clock: rt.clock,
      owner: `${hostname()}:${process.pid}:${rt.ids.hex(6)}`,
      resourceId: serviceLogResourceId(rt.config),
      leaseMs: opts.leaseMs,
      onPublished: (r) => trackServiceLogEvent(rt, r),
      onInvalid: (err, name) => rt.telemetry.trackException(err, { operation: 'ServiceLogPublish', event: name, table: source.table, partition: source.partitionKey }),
    },
    source,
  );
}

function trackServiceLogEvent(rt: Runtime, r: SinkRecord): void {
  const p = r.record.properties as { id?: string; jobId?: string; nodeInfo?: { poolId?: string; nodeId?: string } };
  const task = p.jobId !== undefined;
  rt.telemetry.trackEvent(r.record.operationName, {
    category: 'ServiceLog',
    eventId: r.id,
    time: r.record.time,
    poolId: task ? p.nodeInfo?.poolId : p.id,
    jobId: p.jobId,
    taskId: task ? p.id : undefined,
    nodeId: p.nodeInfo?.nodeId,
  });
}

/**
 * Publishes what job `source` still holds before its partition is deleted: waits (up to ~10 s)
 * while another publisher holds the lease. Never throws: a sink outage must not block deletion
 * (the rows are then lost with the job, and the failure is reported to telemetry).
 */
export async function flushServiceLogs(rt: Runtime, source: OutboxSource): Promise<void> {
  if (!rt.config.serviceLogs) return;
  try {
    for (let i = 0; i < 40; i++) {
      const r = await publishOutbox(rt, source);
      if (r.status === 'done') return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (err) {
    rt.telemetry.trackException(err, { operation: 'ServiceLogFlush', table: source.table, partition: source.partitionKey });
  }
}

export interface SweepResult {
  sources: number;
  published: number;
  busy: number;
  failures: { source: OutboxSource; error: unknown }[];
}

/** A completed job is rescanned every full sweep for this long, then every OLD_JOB_SWEEPS-th. */
const COMPLETED_RECENT_MS = 10 * 60_000;
/**
 * A full sweep (every bucket of every job: rows written by other instances, or before a restart)
 * starts this often. Its reads are spread over the first SWEEP_SPREAD_MS of that time, a share per
 * tick, so a sweep never arrives as a burst of queries (with many jobs, or on a storage emulator
 * whose queries cost a scan of the whole table, a burst delayed every request behind it).
 */
export const FULL_SWEEP_MS = 30_000;
/** The part of each FULL_SWEEP_MS over which a sweep's reads are spread; the last share is read at the first tick at or after it. */
export const SWEEP_SPREAD_MS = FULL_SWEEP_MS / 2;
const OLD_JOB_SWEEPS = 10;

/** Which jobs a full sweep at `now` reads (one range query per bucket each); `includeOld` adds long-completed jobs. */
export function jobsToScan(jobs: readonly Pick<JobRecord, 'id' | 'state' | 'stateTransitionTime'>[], now: Date, includeOld = Math.floor(now.getTime() / 2000) % 30 === 0): string[] {
  return jobs.filter((j) => j.state !== 'completed' || includeOld || now.getTime() - Date.parse(j.stateTransitionTime) < COMPLETED_RECENT_MS).map((j) => j.id);
}

/** How many of a sweep's `size` partitions are due `elapsedMs` after it started (at least one per tick while any are left). */
export function sweepDue(size: number, elapsedMs: number, spreadMs = SWEEP_SPREAD_MS): number {
  if (size === 0) return 0;
  return Math.min(size, Math.max(1, Math.ceil((size * Math.max(0, elapsedMs)) / spreadMs)));
}

interface SweepState {
  /** The current full sweep: its partitions in order, how many were handed out, when it started. */
  sweep: string[];
  taken: number;
  startedAt: number;
  /** False until the first full sweep of this process was read (at once). */
  primed: boolean;
  fullSweeps: number;
  /** Task partitions to read again next tick (they had rows, or failed). */
  again: Set<string>;
}
const sweeps = new WeakMap<Runtime, SweepState>();

/**
 * The timer's work: publish the pools partition and the task partitions that may hold outbox
 * rows — those this process wrote outbox rows to since the last tick (the task repository
 * records them as its transactions commit) and those that still had rows — plus this tick's
 * share of the full sweep (FULL_SWEEP_MS). A process's first tick and `full: true` read every
 * bucket of every job at once. Up to 4 partitions at a time. Failures are collected per
 * partition, so one bad partition never stalls the others.
 */
export async function publishPendingServiceLogs(rt: Runtime, opts: PublishOptions & { full?: boolean } = {}): Promise<SweepResult> {
  const out: SweepResult = { sources: 0, published: 0, busy: 0, failures: [] };
  if (!rt.config.serviceLogs) return out;
  const nowMs = rt.clock().getTime();
  let state = sweeps.get(rt);
  if (!state) sweeps.set(rt, (state = { sweep: [], taken: 0, startedAt: nowMs, primed: false, fullSweeps: 0, again: new Set() }));
  const atOnce = !state.primed || !!opts.full;
  // The job listing first: if it fails, nothing this tick would have read is lost.
  if (atOnce || (state.taken >= state.sweep.length && nowMs - state.startedAt >= FULL_SWEEP_MS)) {
    const ids = jobsToScan((await rt.jobs.all()).map((j) => j.value), rt.clock(), state.fullSweeps % OLD_JOB_SWEEPS === 0);
    state.sweep = ids.flatMap((id) => BUCKETS.map((b) => taskPartition(id, b)));
    state.taken = 0;
    state.primed = true;
    state.startedAt = nowMs;
    state.fullSweeps++;
  }
  const partitions = new Set([...rt.tasks.takeOutboxPartitions(), ...state.again]);
  state.again = new Set();
  const due = atOnce ? state.sweep.length : sweepDue(state.sweep.length, nowMs - state.startedAt);
  for (; state.taken < due; state.taken++) partitions.add(state.sweep[state.taken]!);
  const again = state.again;
  const sources: OutboxSource[] = [{ table: 'pools', partitionKey: POOL_PK }, ...[...partitions].map((partitionKey) => ({ table: 'tasks' as const, partitionKey }))];
  out.sources = sources.length;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < sources.length) {
      const source = sources[next++]!;
      try {
        const r = await publishOutbox(rt, source, opts);
        out.published += r.published;
        if (r.status !== 'done') out.busy++;
        if (source.table === 'tasks' && (r.published > 0 || r.status !== 'done')) again.add(source.partitionKey);
      } catch (error) {
        if (source.table === 'tasks') again.add(source.partitionKey);
        out.failures.push({ source, error });
        rt.telemetry.trackException(error, { operation: 'ServiceLogPublish', table: source.table, partition: source.partitionKey });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, sources.length) }, worker));
  return out;
}
