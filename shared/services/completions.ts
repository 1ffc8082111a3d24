import type { TransactionAction } from '@azure/data-tables';
import type { TaskCounts, TaskFailureInfo } from '../domain/model';
import type { TaskCompletion } from '../nodes/protocol';
import type { Runtime } from '../runtime';
import { bucketOf, chunkKey, shardOf, taskPartition } from '../storage/keys';
import { createChunkAction, isConflictOrStale, mergeTaskAction, type PendingEntry } from '../storage/tasks';
import { decodeClaim, type ClaimToken } from './claims';
import { forgetChunks } from './queue-heads';
import { activeJobsOnPool, changeJob, terminated } from './jobs';
import { applyExitJobActions } from './job-control';
import { endJobsOfJobManagers } from './job-manager';
import { byBucket, commitWithCounter, moveDelta, sumDeltas } from './taskflow';
import { runStatsDelta, taskRunStats } from '../domain/stats';
import { taskEndEvent } from '../events/bodies';
import { outboxActions, TASK_OUTBOX_PREFIX, type OutboxEvent } from '../events/outbox';

let seq = 0;

export interface AppliedCompletions {
  /** `jobId/taskId` of every completion durably handled (applied, or found already applied). */
  acknowledged: string[];
  succeeded: number;
  finished: number;
}

/**
 * Applies the completions a node reports, one transaction per job bucket (≤ 48 tasks each): task rows
 * (ETag of the claim: only the run that was handed out can complete), counters, and a pending
 * chunk for tasks that go back for a retry. If the batch transaction conflicts (a duplicate
 * report, a task terminated meanwhile), each completion is re-applied alone after a read, or
 * skipped when its run is no longer current. Redelivery is therefore a no-op.
 */
export async function applyCompletions(rt: Runtime, poolId: string, nodeId: string, completions: TaskCompletion[], carry?: Map<string, CompletionPlan>): Promise<AppliedCompletions> {
  const out: AppliedCompletions = { acknowledged: [], succeeded: 0, finished: 0 };
  const byJob = new Map<string, TaskCompletion[]>();
  for (const c of completions) byJob.set(c.jobId, [...(byJob.get(c.jobId) ?? []), c]);
  for (const [jobId, ofJob] of byJob) {
    for (const [bucket, list] of byBucket(ofJob, (c) => c.taskId)) {
      for (let i = 0; i < list.length; i += 48) {
        const group = list.slice(i, i + 48);
        // A bucket's only group may ride along with this exchange's claim transaction (see claims.ts).
        const plan = carry && list.length <= 48 ? await planGroup(rt, poolId, nodeId, jobId, bucket, group, false) : undefined;
        if (plan && !plan.front) carry!.set(taskPartition(jobId, bucket), plan);
        else await applyRobustly(rt, poolId, nodeId, jobId, group);
        for (const c of group) out.acknowledged.push(`${c.jobId}/${c.taskId}`);
        out.finished += group.length;
        out.succeeded += group.filter((c) => c.result === 'success').length;
      }
    }
  }
  return out;
}

/** Completions planned but not yet committed: their actions and counter delta (one job bucket, one node shard). */
export interface CompletionPlan {
  jobId: string;
  bucket: number;
  group: TaskCompletion[];
  /** The state changes, without the outbox row: a claim that carries the plan writes ONE row with its own events. */
  actions: TransactionAction[];
  /** Service-log events of the completions, in order. */
  events: OutboxEvent[];
  delta: Partial<TaskCounts>;
  /** A retry goes to the FRONT of the queue: the claims' cached queue head must be read again once it is committed. */
  front?: boolean;
  /** Some tasks went back to the queue: a bucket remembered as empty must be read again once it is committed. */
  requeued?: boolean;
}

/** Commits a group (tasks of one job bucket); on a conflict (duplicate report, task changed meanwhile) re-applies each completion alone after a read. */
export async function applyRobustly(rt: Runtime, poolId: string, nodeId: string, jobId: string, group: TaskCompletion[]): Promise<void> {
  const bucket = bucketOf(group[0]!.taskId);
  try {
    await applyGroup(rt, poolId, nodeId, jobId, bucket, group, false);
  } catch (err) {
    if (!isConflictOrStale(err)) throw err;
    for (const c of group) await applyGroup(rt, poolId, nodeId, jobId, bucket, [c], true).catch((e: unknown) => {
      if (!isConflictOrStale(e)) throw e;
    });
  }
}

/** After an exchange's completions are all committed: job actions of exit conditions, then complete jobs that ran out of work. */
export async function completeJobsIfDone(rt: Runtime, poolId: string, jobIds: Iterable<string>, completions?: TaskCompletion[]): Promise<void> {
  if (completions?.length) await applyExitJobActions(rt, poolId, completions);
  if (completions?.length) await endJobsOfJobManagers(rt, poolId, completions);
  for (const jobId of new Set(jobIds)) await completeJobIfDone(rt, poolId, jobId);
}

async function applyGroup(rt: Runtime, poolId: string, nodeId: string, jobId: string, bucket: number, group: TaskCompletion[], verify: boolean): Promise<void> {
  const plan = await planGroup(rt, poolId, nodeId, jobId, bucket, group, verify);
  if (plan) await commitWithCounter(rt, jobId, bucket, shardOf(`node:${nodeId}`), plan.delta, [...plan.actions, ...outboxActions(rt.config.serviceLogs, taskPartition(jobId, bucket), TASK_OUTBOX_PREFIX, plan.events, rt.clock().getTime(), rt.ids.hex(3))]);
  if (plan?.front || plan?.requeued) forgetChunks(rt, jobId, bucket);
}

async function planGroup(rt: Runtime, poolId: string, nodeId: string, jobId: string, bucket: number, group: TaskCompletion[], verify: boolean): Promise<CompletionPlan | undefined> {
  const now = rt.clock();
  const t = now.toISOString();
  const actions: TransactionAction[] = [];
  const retries: PendingEntry[] = [];
  const deltas: Partial<TaskCounts>[] = [];
  const events: OutboxEvent[] = [];
  for (const c of group) {
    const tok = decodeClaim(c.claim);
    if (!tok) continue;
    let etag = tok.e;
    const canRetry = c.result === 'failure' && (tok.m === -1 || tok.r < tok.m);
    let spec: PendingEntry['spec'] | undefined;
    let created: string | undefined;
    if (verify || canRetry) {
      const cur = await rt.tasks.get(jobId, c.taskId);
      if (!cur || cur.value.state !== 'running' || cur.value.claim !== tok.c) continue;
      etag = cur.etag;
      created = cur.value.creationTime;
      const { jobId: _j, state: _s, stateTransitionTime: _st, previousState: _p, previousStateTransitionTime: _pt, creationTime: _c, lastModified: _l, executionInfo: _e, nodeInfo: _n, claim: _cl, stats: _stats, ...rest } = cur.value;
      spec = rest;
    }
    actions.push(mergeTaskAction(jobId, c.taskId, completionColumns(c, tok, t, canRetry), etag));
    events.push(...endEvents(jobId, poolId, nodeId, c, tok, t));
    if (canRetry && spec) {
      retries.push({ spec, retryCount: tok.r + 1, activeSince: t, creationTime: created });
      deltas.push(moveDelta('running', 'active', 1, tok.s));
    } else {
      deltas.push(moveDelta('running', c.result === 'success' ? 'succeeded' : 'failed', 1, tok.s));
    }
    deltas.push(runStatsDelta(c, tok, canRetry && spec !== undefined));
  }
  if (actions.length === 0) return undefined;
  // A job manager's retry goes to the front of its job's queue (the seed: it is restarted with
  // priority); every other retry joins the back.
  const jm = retries.length ? (await activeJobsOnPool(rt, poolId)).find((j) => j.id === jobId)?.jobManagerTask?.id : undefined;
  const first = retries.filter((r) => r.spec.id === jm);
  const rest = retries.filter((r) => r.spec.id !== jm);
  if (first.length) actions.push(createChunkAction(jobId, bucket, chunkKey(0, seq++, rt.ids.hex(3)), first));
  if (rest.length) actions.push(createChunkAction(jobId, bucket, chunkKey(now.getTime(), seq++, rt.ids.hex(3)), rest));
  return { jobId, bucket, group, actions, events, delta: sumDeltas(...deltas), ...(first.length ? { front: true } : {}), ...(rest.length ? { requeued: true } : {}) };
}

/** TaskCompleteEvent for every finished run, plus TaskFailEvent when it failed (as Azure emits them). */
function endEvents(jobId: string, poolId: string, nodeId: string, c: TaskCompletion, tok: ClaimToken, now: string): OutboxEvent[] {
  const spec = { id: c.taskId, requiredSlots: tok.s, constraints: { maxTaskRetryCount: tok.m } };
  const end = { startTime: c.startTime, endTime: c.endTime, exitCode: c.exitCode, retryCount: tok.r, requeueCount: 0, failureInfo: c.failureInfo };
  const done = taskEndEvent(jobId, spec, poolId, nodeId, end, false);
  const out: OutboxEvent[] = [{ name: done.name, time: now, body: done.body }];
  if (c.result === 'failure') out.push({ name: 'TaskFailEvent', time: now, body: taskEndEvent(jobId, spec, poolId, nodeId, end, true).body });
  return out;
}

function completionColumns(c: TaskCompletion, tok: ClaimToken, now: string, retry: boolean): Record<string, unknown> {
  const failure: TaskFailureInfo | undefined = c.failureInfo ?? (c.result === 'failure' && c.exitCode === undefined ? { category: 'servererror', code: 'TaskFailed', message: 'The task failed to start.' } : undefined);
  const common = {
    startTime: isoTime(c.startTime),
    endTime: isoTime(c.endTime),
    exitCode: c.exitCode,
    result: c.result,
    failureInfo: failure ? JSON.stringify(failure) : '',
    lastModified: now,
    previousState: 'running',
    previousStateTransitionTime: tok.t,
    stateTransitionTime: now,
    stats: JSON.stringify(taskRunStats(c, tok)),
  };
  if (retry) return { ...common, state: 'active', retryCount: tok.r + 1, lastRetryTime: now, claim: '' };
  return { ...common, state: 'completed' };
}

/** Node times in the canonical `toISOString()` form, so the time columns order as strings (filter push-down). */
function isoTime(s: string): string {
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? s : new Date(ms).toISOString();
}

/** onAllTasksComplete = terminatejob: once nothing is active or running, the job completes. */
async function completeJobIfDone(rt: Runtime, poolId: string, jobId: string): Promise<void> {
  const job = (await activeJobsOnPool(rt, poolId)).find((j) => j.id === jobId);
  if (!job || job.onAllTasksComplete !== 'terminatejob') return;
  const counts = await rt.tasks.counts(jobId);
  if (counts.active + counts.running > 0) return;
  await changeJob(rt, jobId, (j) => (j.state === 'active' ? terminated(j, 'AllTasksComplete', rt.clock()) : j)).catch(() => undefined);
}
