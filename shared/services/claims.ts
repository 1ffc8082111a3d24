import type { TransactionAction } from '@azure/data-tables';
import type { JobRecord } from '../domain/model';
import type { TaskAssignment } from '../nodes/protocol';
import type { Runtime } from '../runtime';
import { idKey, shardOf, taskPartition } from '../storage/keys';
import { advanceChunkAction, dropChunkAction, isConflictOrStale, isExhausted, mergeTaskAction, type Chunk, type PendingEntry } from '../storage/tasks';
import { bucketsWithWork, forgetChunks, headChunks, noteClaimedBucket, rememberChunks } from './queue-heads';
import { durationSeconds } from '../api/validate';
import { activeJobsOnPool } from './jobs';
import { parallelAllowance } from '../domain/job-state';
import { commitWithCounter, moveDelta, sumDeltas } from './taskflow';
import { inGroup, type GroupCommitter } from './group-commit';
import type { TaskCounts } from '../domain/model';
import { taskStartBody } from '../events/bodies';
import { outboxActions, TASK_OUTBOX_PREFIX, type OutboxEvent } from '../events/outbox';
import { assignmentExtras } from './task-assignment';
import { preparationOf } from './job-task-spec';

/** What a claim token carries (opaque to the agent, echoed back with the completion). */
export interface ClaimToken {
  /** Claim id: the exchange that claimed the task. */
  c: string;
  /** Retry count of this run. */
  r: number;
  /** maxTaskRetryCount. */
  m: number;
  /** Table ETag of the task row right after the claim. */
  e: string;
  /** Slots. */
  s: number;
  /** Claim time (the running state's transition time). */
  t: string;
  /** Queue wait of this run in ms: claim time − the time the task became active (absent in older tokens). */
  w?: number;
  /** Ms from the task's creation to this run's claim: the task's waitTime (absent in older tokens). */
  q?: number;
}

export const encodeClaim = (c: ClaimToken): string => Buffer.from(JSON.stringify(c)).toString('base64url');
export function decodeClaim(s: string): ClaimToken | undefined {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as ClaimToken;
    return typeof c.c === 'string' && typeof c.e === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}

/** The wait figures a claim token carries (ms; omitted when a time is unknown or unparsable). */
export function waits(claimTime: string, e: Pick<PendingEntry, 'activeSince' | 'creationTime'>): Pick<ClaimToken, 'w' | 'q'> {
  const at = Date.parse(claimTime);
  const since = Date.parse(e.activeSince);
  const created = Date.parse(e.creationTime ?? e.activeSince);
  return {
    ...(Number.isFinite(at - since) ? { w: Math.max(0, at - since) } : {}),
    ...(Number.isFinite(at - created) ? { q: Math.max(0, at - created) } : {}),
  };
}

export interface ClaimRequest {
  poolId: string;
  nodeId: string;
  freeSlots: number;
  claimId: string;
  /** Jobs whose preparation task failed on this node: none of their tasks go to it. */
  skipJobs?: string[];
}

/**
 * Other writes of the same bucket partition that may ride along in a claim's transaction (the
 * node's completions of this exchange), so a busy node costs one transaction per exchange.
 * Keyed by partition (`taskPartition(jobId, bucket)`). Taken ones are removed from the map; on a
 * conflict the carry is committed alone first.
 */
export interface ClaimCarry {
  /** State changes of the carried completions (their events go in the claim's one outbox row). */
  actions: TransactionAction[];
  events: OutboxEvent[];
  delta: Partial<TaskCounts>;
  commitAlone(): Promise<void>;
}

/**
 * Claims runnable tasks for one node: jobs by priority then age, tasks FIFO within a job (across
 * its buckets by the age of their heads, see bucketsWithWork). `seen.blocked` is set when a job's next
 * task needs more slots than the node had left. Per bucket: read the oldest pending chunks (one
 * query, cached), take entries that fit the free slots, and commit ONE transaction, shared with
 * other nodes' claims (group commit): chunk cursors (ETag-guarded: two claimers never take the
 * same entry), task rows → running on the nodes, counters. A lost race re-reads and tries again.
 */
export async function claimTasks(rt: Runtime, req: ClaimRequest, carry?: Map<string, ClaimCarry>, seen?: { blocked: boolean }): Promise<TaskAssignment[]> {
  const out: TaskAssignment[] = [];
  let free = req.freeSlots;
  const jobs = await activeJobsOnPool(rt, req.poolId);
  for (const job of jobs) {
    if (free <= 0) break;
    if (req.skipJobs?.includes(job.id)) continue;
    let blocked = false;
    for (const bucket of await bucketsWithWork(rt, job.id, (b) => carry?.has(taskPartition(job.id, b)) ?? false)) {
      if (free <= 0 || blocked) break;
      const part = taskPartition(job.id, bucket);
      for (let attempt = 0; attempt < 5 && free > 0; attempt++) {
        const ride = carry?.get(part);
        try {
          const got = await claimInGroup(rt, { job, bucket, req, free, ride });
          if (!got) break;
          if (got.blocked) blocked = true;
          if (ride && got.carried) carry!.delete(part);
          out.push(...got.assignments);
          free -= got.slots;
          if (!got.more) break;
        } catch (err) {
          forgetChunks(rt, job.id, bucket);
          if (!isConflictOrStale(err)) throw err;
          if (ride) {
            carry!.delete(part);
            await ride.commitAlone();
          }
          await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
        }
      }
    }
    if (seen && blocked) seen.blocked = true;
  }
  return out;
}

/** One node's claim on one bucket of a job, waiting for (or leading) a group commit. */
interface ClaimWaiter {
  rt: Runtime;
  job: JobRecord;
  bucket: number;
  req: ClaimRequest;
  free: number;
  ride?: ClaimCarry;
}

interface ClaimResult {
  assignments: TaskAssignment[];
  slots: number;
  more: boolean;
  carried: boolean;
  /** The next queued task needs more slots than this node still offered. */
  blocked: boolean;
}

/**
 * Group commit (group-commit.ts) per bucket partition: claims of one partition never race each
 * other on the head chunk, and the claims that arrive while a transaction is in flight are served
 * together by the next one: one chunk advance, every node's task rows, their carried completions
 * and one counter delta. A job with maxParallelTasks has ONE group for all its buckets, so its
 * running count is read and raised by one transaction at a time; a batch holds waiters of the
 * head's bucket only (the others keep their place).
 */
const claimGroup: GroupCommitter<ClaimWaiter, ClaimResult | undefined> = {
  fits: (batch, w) => w.bucket === batch[0]!.bucket && batch.reduce((n, b) => n + estimate(b), 0) + estimate(w) <= GROUP_BUDGET,
  commit: (batch) => claimForGroup(batch[0]!.rt, batch),
};
/** Actions a group may plan before the counter shard is added (a transaction holds 100). */
const GROUP_BUDGET = 95;

function claimInGroup(rt: Runtime, w: Omit<ClaimWaiter, 'rt'>): Promise<ClaimResult | undefined> {
  const key = w.job.maxParallelTasks > 0 ? w.job.id : taskPartition(w.job.id, w.bucket);
  return inGroup(rt, `claim|${key}`, { ...w, rt }, claimGroup);
}

/** Upper bound of the actions one waiter adds: a task row per free slot, its carried completions. */
function estimate(w: ClaimWaiter): number {
  return Math.min(w.free, 48) + (w.ride?.actions.length ?? 0) + 2;
}

/**
 * Plans and commits one group: walks the head chunks once, FIFO, giving each waiter in arrival
 * order the entries that fit its free slots, then commits ONE transaction (ETag-guarded chunk
 * cursors, task rows → running on each waiter's node, carried completions, counter delta).
 * A conflict fails the whole group; each waiter re-reads and retries on its own.
 */
async function claimForGroup(rt: Runtime, group: ClaimWaiter[]): Promise<(ClaimResult | undefined)[]> {
  const jobId = group[0]!.job.id;
  const bucket = group[0]!.bucket;
  const chunks = await headChunks(rt, jobId, bucket);
  if (chunks.length === 0) return group.map(() => undefined);
  // maxParallelTasks: at most this many more of the job's tasks may start, for the whole group
  // (running count from the counters).
  const job = group[0]!.job;
  const cap = job.maxParallelTasks > 0 ? parallelAllowance(job.maxParallelTasks, (await rt.tasks.counts(jobId)).running) : Number.POSITIVE_INFINITY;
  const advanced = new Map<string, number>();
  const dropped = new Set<string>();
  const now = rt.clock().toISOString();
  const actions: TransactionAction[] = [];
  const taken: PendingEntry[][] = group.map(() => []);
  const slots: number[] = group.map(() => 0);
  const blocked: boolean[] = group.map(() => false);
  const rides = group.reduce((n, w) => n + (w.ride?.actions.length ?? 0), 0);
  let planned = 0;
  let ci = 0;
  const cursor = new Map<string, number>();
  const at = (c: Chunk): number => cursor.get(c.rowKey) ?? c.next;
  for (let wi = 0; wi < group.length; wi++) {
    const w = group[wi]!;
    while (ci < chunks.length && planned < cap && planned + rides + chunks.length < GROUP_BUDGET - 1) {
      const chunk = chunks[ci]!;
      if (isExhausted(chunk) || at(chunk) >= chunk.entries.length) {
        ci++;
        continue;
      }
      const e = chunk.entries[at(chunk)]!;
      if (e.spec.requiredSlots > w.free - slots[wi]!) {
        blocked[wi] = true;
        break;
      }
      taken[wi]!.push(e);
      slots[wi]! += e.spec.requiredSlots;
      cursor.set(chunk.rowKey, at(chunk) + 1);
      planned++;
    }
  }
  for (const chunk of chunks) {
    if (isExhausted(chunk)) {
      actions.push(dropChunkAction(jobId, chunk));
      dropped.add(chunk.rowKey);
    } else if (cursor.has(chunk.rowKey)) {
      actions.push(advanceChunkAction(jobId, chunk, cursor.get(chunk.rowKey)!));
      advanced.set(chunk.rowKey, cursor.get(chunk.rowKey)!);
    }
  }
  const more = planned < cap && chunks.some((c) => !isExhausted(c) && at(c) < c.entries.length);
  if (planned === 0) {
    if (actions.length) rememberChunks(rt, jobId, bucket, chunks, advanced, dropped, await rt.tasks.transact(actions));
    return group.map((_, wi) => (more ? { assignments: [], slots: 0, more: false, carried: false, blocked: blocked[wi]! } : undefined));
  }
  const events: { name: 'TaskStartEvent'; time: string; body: unknown }[] = [];
  const deltas: Partial<TaskCounts>[] = [];
  const carried: TransactionAction[] = [];
  const rideEvents: OutboxEvent[] = [];
  group.forEach((w, wi) => {
    for (const e of taken[wi]!) {
      actions.push(mergeTaskAction(jobId, e.spec.id, {
        state: 'running', stateTransitionTime: now, previousState: 'active', previousStateTransitionTime: e.activeSince, lastModified: now,
        nodeId: w.req.nodeId, poolId: w.req.poolId, claim: w.req.claimId, startTime: now, retryCount: e.retryCount,
      }));
      events.push({ name: 'TaskStartEvent', time: now, body: taskStartBody(jobId, e.spec, w.req.poolId, w.req.nodeId, e.retryCount) });
    }
    deltas.push(moveDelta('active', 'running', taken[wi]!.length, slots[wi]!));
    if (w.ride) {
      carried.push(...w.ride.actions);
      rideEvents.push(...w.ride.events);
      deltas.push(w.ride.delta);
    }
  });
  // One outbox row: the carried completions' events, then the starts.
  actions.push(...outboxActions(rt.config.serviceLogs, taskPartition(jobId, bucket), TASK_OUTBOX_PREFIX, [...rideEvents, ...events], rt.clock().getTime(), rt.ids.hex(3)));
  const etags = await commitWithCounter(rt, jobId, bucket, shardOf(`node:${group[0]!.req.nodeId}`), sumDeltas(...deltas), [...carried, ...actions]);
  rememberChunks(rt, jobId, bucket, chunks, advanced, dropped, etags);
  noteClaimedBucket(rt, jobId, bucket);
  return group.map((w, wi) => ({ assignments: taken[wi]!.map((e) => assignmentOf(w, e, now, etags)), slots: slots[wi]!, more: more && taken[wi]!.length > 0, carried: !!w.ride, blocked: blocked[wi]! }));
}

function assignmentOf(w: ClaimWaiter, e: PendingEntry, now: string, etags: Map<string, string>): TaskAssignment {
  const environment: Record<string, string> = {};
  for (const { name, value } of w.job.commonEnvironmentSettings) environment[name] = value;
  for (const { name, value } of e.spec.environmentSettings) environment[name] = value;
  const wall = e.spec.constraints.maxWallClockTime ? durationSeconds(e.spec.constraints.maxWallClockTime) : undefined;
  return {
    jobId: w.job.id,
    taskId: e.spec.id,
    claim: encodeClaim({ c: w.req.claimId, r: e.retryCount, m: e.spec.constraints.maxTaskRetryCount, e: etags.get(idKey(e.spec.id)) ?? '*', s: e.spec.requiredSlots, t: now, ...waits(now, e) }),
    retryCount: e.retryCount,
    commandLine: e.spec.commandLine,
    resourceFiles: e.spec.resourceFiles,
    environment,
    ...(wall !== undefined ? { maxWallClockSeconds: wall } : {}),
    requiredSlots: e.spec.requiredSlots,
    ...assignmentExtras(e.spec),
    ...preparationOf(w.job),
  };
}
