import type { TransactionAction } from '@azure/data-tables';
import type { JobRecord } from '../domain/model';
import type { TaskAssignment } from '../nodes/protocol';
import type { Runtime } from '../runtime';
import { shardOf } from '../storage/keys';
import { advanceChunkAction, dropChunkAction, isConflictOrStale, isExhausted, mergeTaskAction, type Chunk, type PendingEntry } from '../storage/tasks';
import { durationSeconds } from '../api/validate';
import { activeJobsOnPool } from './jobs';
import { commitWithCounter, moveDelta, sumDeltas } from './taskflow';
import type { TaskCounts } from '../domain/model';
import { taskStartBody } from '../events/bodies';
import { outboxActions, TASK_OUTBOX_PREFIX } from '../events/outbox';

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
}

/**
 * Claims runnable tasks for one node: jobs by priority then age, tasks FIFO within a job.
 * Per job: read the oldest pending chunks (one query), take entries that fit the free slots, and
 * commit ONE transaction: chunk cursors (ETag-guarded: two claimers never take the same entry),
 * task rows → running on this node, counters. A lost race re-reads and tries again.
 */
/**
 * Other writes of the same job partition that may ride along in a claim's transaction (the
 * node's completions of this exchange), so a busy node costs one transaction per exchange.
 * Taken ones are removed from the map; on a conflict the carry is committed alone first.
 */
export interface ClaimCarry {
  actions: TransactionAction[];
  delta: Partial<TaskCounts>;
  commitAlone(): Promise<void>;
}

export async function claimTasks(rt: Runtime, req: ClaimRequest, carry?: Map<string, ClaimCarry>): Promise<TaskAssignment[]> {
  const out: TaskAssignment[] = [];
  let free = req.freeSlots;
  const jobs = await activeJobsOnPool(rt, req.poolId);
  for (const job of jobs) {
    if (free <= 0) break;
    for (let attempt = 0; attempt < 5 && free > 0; attempt++) {
      const ride = carry?.get(job.id);
      try {
        const got = await serialized(`claim:${job.id}`, () => claimFromJob(rt, job, req, free, ride));
        if (!got) break;
        if (ride && got.carried) carry!.delete(job.id);
        out.push(...got.assignments);
        free -= got.slots;
        if (!got.more) break;
      } catch (err) {
        rt.cache.delete(chunkCacheKey(job.id));
        if (!isConflictOrStale(err)) throw err;
        if (ride) {
          carry!.delete(job.id);
          await ride.commitAlone();
        }
        await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
      }
    }
  }
  return out;
}

const chunkCacheKey = (jobId: string): string => `chunks:${jobId}`;

/** Claims of one job run one at a time in this process, so they never race each other on the head chunk. */
const locks = new Map<string, Promise<unknown>>();
async function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  try {
    return await run;
  } finally {
    if (locks.get(key) === tail) locks.delete(key);
  }
}

/**
 * The head of a job's queue as this process last saw it (chunks with their ETags). Claims made
 * here keep it current from the transaction's response, so a busy job's queue is read once per
 * ~98 tasks, not once per claim; a stale entry (another instance, a terminate) fails the claim's
 * ETag check and is re-read.
 */
async function headChunks(rt: Runtime, jobId: string): Promise<Chunk[]> {
  const hit = rt.cache.get(chunkCacheKey(jobId));
  const cached = hit?.value as Chunk[] | undefined;
  if (cached && cached.some((c) => !isExhausted(c))) return cached;
  const chunks = await rt.tasks.chunks(jobId, 8);
  if (chunks.length) rt.cache.set(chunkCacheKey(jobId), { until: Number.MAX_SAFE_INTEGER, value: chunks });
  return chunks;
}

function rememberChunks(rt: Runtime, jobId: string, chunks: Chunk[], advanced: Map<string, number>, dropped: Set<string>, etags: Map<string, string>): void {
  const next = chunks
    .filter((c) => !dropped.has(c.rowKey))
    .map((c) => (advanced.has(c.rowKey) ? { ...c, next: advanced.get(c.rowKey)!, etag: etags.get(c.rowKey) ?? c.etag } : c));
  if (next.some((c) => !isExhausted(c) && (!advanced.has(c.rowKey) || etags.has(c.rowKey)))) rt.cache.set(chunkCacheKey(jobId), { until: Number.MAX_SAFE_INTEGER, value: next });
  else rt.cache.delete(chunkCacheKey(jobId));
}

/** Forget the cached head of a job's queue (its chunks were rewritten elsewhere in this process). */
export function forgetChunks(rt: Runtime, jobId: string): void {
  rt.cache.delete(chunkCacheKey(jobId));
}

async function claimFromJob(rt: Runtime, job: JobRecord, req: ClaimRequest, free: number, ride?: ClaimCarry): Promise<{ assignments: TaskAssignment[]; slots: number; more: boolean; carried: boolean } | undefined> {
  const chunks = await headChunks(rt, job.id);
  if (chunks.length === 0) return undefined;
  const advanced = new Map<string, number>();
  const dropped = new Set<string>();
  const now = rt.clock().toISOString();
  const actions: TransactionAction[] = [];
  const taken: PendingEntry[] = [];
  let slots = 0;
  let more = false;
  for (const chunk of chunks) {
    if (isExhausted(chunk)) {
      if (actions.length < 90) {
        actions.push(dropChunkAction(job.id, chunk));
        dropped.add(chunk.rowKey);
      }
      continue;
    }
    let next = chunk.next;
    while (next < chunk.entries.length && actions.length + taken.length + (ride?.actions.length ?? 0) < 95) {
      const e = chunk.entries[next]!;
      if (e.spec.requiredSlots > free - slots) break;
      taken.push(e);
      slots += e.spec.requiredSlots;
      next++;
    }
    if (next > chunk.next) {
      actions.push(advanceChunkAction(job.id, chunk, next));
      advanced.set(chunk.rowKey, next);
    }
    if (next < chunk.entries.length) {
      more = true;
      break;
    }
  }
  if (taken.length === 0) {
    if (actions.length) rememberChunks(rt, job.id, chunks, advanced, dropped, await rt.tasks.transact(actions));
    return more ? { assignments: [], slots: 0, more: false, carried: false } : undefined;
  }
  for (const e of taken) {
    actions.push(mergeTaskAction(job.id, e.spec.id, {
      state: 'running', stateTransitionTime: now, previousState: 'active', previousStateTransitionTime: e.activeSince, lastModified: now,
      nodeId: req.nodeId, poolId: req.poolId, claim: req.claimId, startTime: now, retryCount: e.retryCount,
    }));
  }
  const events = taken.map((e) => ({ name: 'TaskStartEvent' as const, time: now, body: taskStartBody(job.id, e.spec, req.poolId, req.nodeId, e.retryCount) }));
  actions.push(...outboxActions(rt.config.serviceLogs, job.id, TASK_OUTBOX_PREFIX, events, rt.clock().getTime(), rt.ids.hex(3)));
  const delta = moveDelta('active', 'running', taken.length, slots);
  const etags = await commitWithCounter(rt, job.id, shardOf(`node:${req.nodeId}`), ride ? sumDeltas(delta, ride.delta) : delta, ride ? [...ride.actions, ...actions] : actions);
  rememberChunks(rt, job.id, chunks, advanced, dropped, etags);
  const env: Record<string, string> = {};
  for (const { name, value } of job.commonEnvironmentSettings) env[name] = value;
  const assignments = taken.map((e): TaskAssignment => {
    const taskEnv = { ...env };
    for (const { name, value } of e.spec.environmentSettings) taskEnv[name] = value;
    const wall = e.spec.constraints.maxWallClockTime ? durationSeconds(e.spec.constraints.maxWallClockTime) : undefined;
    return {
      jobId: job.id,
      taskId: e.spec.id,
      claim: encodeClaim({ c: req.claimId, r: e.retryCount, m: e.spec.constraints.maxTaskRetryCount, e: etags.get(e.spec.id) ?? '*', s: e.spec.requiredSlots, t: now, ...waits(now, e) }),
      retryCount: e.retryCount,
      commandLine: e.spec.commandLine,
      resourceFiles: e.spec.resourceFiles,
      environment: taskEnv,
      ...(wall !== undefined ? { maxWallClockSeconds: wall } : {}),
      requiredSlots: e.spec.requiredSlots,
    };
  });
  return { assignments, slots, more, carried: !!ride };
}
