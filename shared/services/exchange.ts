import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { BatchError } from '../errors';
import type { NodeRecord, NodeState } from '../domain/model';
import type { ExchangeRequest, ExchangeResponse, TaskAssignment } from '../nodes/protocol';
import type { Runtime } from '../runtime';
import type { Stored } from '../storage/table';
import { idKey, odataString } from '../storage/keys';
import { durationSeconds } from '../api/validate';
import { encodeClaim, type ClaimCarry } from './claims';
import { bootChange, claimWithFill, reportChange, startTaskReport, startTaskSpecOf } from './start-task';
import { applyCompletions, applyRobustly, completeJobsIfDone, type CompletionPlan } from './completions';
import { activeJobsOnPool } from './jobs';
import { withEtagRetry } from './retry';
import { cached } from './cache';
import { nodeKey, poolWorkKey } from './signals';
import { activityState } from '../domain/node-state';
import { assignmentExtras } from './task-assignment';
import { preparationOf } from './job-task-spec';
import { recordJobTaskReports } from './job-tasks';
import { requeueGivenBack } from './job-prep-requeue';

const completion = z.object({
  jobId: z.string(), taskId: z.string(), claim: z.string(), startTime: z.string(), endTime: z.string(),
  exitCode: z.number().int().optional(), result: z.enum(['success', 'failure']),
  failureInfo: z.object({ category: z.enum(['usererror', 'servererror']), code: z.string(), message: z.string(), details: z.array(z.object({ name: z.string(), value: z.string() })).optional() }).optional(),
  timedOut: z.boolean().optional(),
  requeue: z.boolean().optional(),
  stats: z.object({ userCpuMs: z.number(), kernelCpuMs: z.number(), maxRssBytes: z.number(), readBytes: z.number().optional(), writeBytes: z.number().optional(), readOps: z.number().optional(), writeOps: z.number().optional() }).optional(),
});
export const exchangeRequest = z.object({
  exchangeId: z.string().min(8).max(64), attempt: z.number().int().min(1), boot: z.boolean().optional(), agentVersion: z.string(),
  freeSlots: z.number().int().min(0), waitMs: z.number().int().min(0).max(30000),
  completions: z.array(completion).max(1000), running: z.array(z.string()).max(1000),
  usage: z.record(z.string(), z.number()).optional(),
  startTaskInfo: startTaskReport.optional(),
  jobTaskReports: z.array(z.object({ jobId: z.string(), preparation: startTaskReport.optional(), release: startTaskReport.optional() })).max(1000).optional(),
  unpreparedJobs: z.array(z.string()).max(1000).optional(),
});

const SCHEDULABLE: ReadonlySet<NodeState> = new Set(['idle', 'running']);
const LAST_SEEN_WRITE_MS = 5000;

/**
 * One agent exchange: authenticate the node, apply its completions, hand out work for its free
 * slots, and (when there is nothing to do) hold the request until work arrives or waitMs passes.
 * Node rows are written only when the node's state changes or its last-seen time is stale, so a
 * busy node costs about two table transactions per exchange, shared by every task in it.
 */
export async function exchange(rt: Runtime, poolId: string, nodeId: string, authorization: string | undefined, req: ExchangeRequest, abort?: AbortSignal): Promise<ExchangeResponse> {
  // 1. Authenticate and find the node; a removed node is told to shut down.
  checkToken(rt, poolId, nodeId, authorization);
  let node = await cachedNode(rt, poolId, nodeId);
  if (!node) return { tasks: [], commands: [{ kind: 'shutdown' }], acknowledged: req.completions.map((c) => `${c.jobId}/${c.taskId}`) };
  // 2. Plan completions; a job bucket's completions ride along in a claim transaction of that bucket (step 4).
  const plans = new Map<string, CompletionPlan>();
  // Job preparation/release runs, and tasks given back because a preparation failed (services/job-tasks).
  if (req.jobTaskReports?.length) await recordJobTaskReports(rt, poolId, nodeId, req.jobTaskReports);
  const givenBack = req.completions.some((c) => c.requeue) ? await requeueGivenBack(rt, poolId, nodeId, req.completions.filter((c) => c.requeue)) : [];
  const applied = await applyCompletions(rt, poolId, nodeId, req.completions.filter((c) => !c.requeue), plans);
  applied.acknowledged.push(...givenBack);
  const carry = new Map<string, ClaimCarry>([...plans].map(([part, p]) => [part, { actions: p.actions, events: p.events, delta: p.delta, commitAlone: () => applyRobustly(rt, poolId, nodeId, p.jobId, p.group) }]));
  const settle = async (): Promise<void> => {
    await Promise.all(
      [...carry].map(async ([part, c]) => {
        carry.delete(part);
        await c.commitAlone();
      }),
    );
  };
  // 3. Boot: the node joins (starting → idle, or waitingforstarttask while its start task runs
  //    with waitForSuccess); otherwise record what the agent reports of its start task.
  const pool = await cached(rt, `pool:${idKey(poolId)}`, 2000, async () => (await rt.pools.get(poolId))?.value);
  const reported = !req.boot && req.startTaskInfo ? reportChange(node.value, req.startTaskInfo) : undefined;
  if (req.boot && (!SCHEDULABLE.has(node.value.state) || pool?.startTask)) node = await writeNode(rt, node, bootChange(pool, req.agentVersion, rt.clock()));
  else if (reported) node = await writeNode(rt, node, reported);
  // 4. Work: replay what an earlier attempt of this exchange claimed, then claim more.
  const tasks: TaskAssignment[] = req.attempt > 1 ? await replayClaims(rt, poolId, nodeId, req.exchangeId) : [];
  const schedulable = (): boolean => !!node && SCHEDULABLE.has(node.value.state) && node.value.schedulingState === 'enabled' && pool?.state === 'active';
  const slotsLeft = (): number => req.freeSlots - tasks.reduce((n, t) => n + t.requiredSlots, 0);
  if (schedulable() && slotsLeft() > 0) tasks.push(...(await claimWithFill(rt, pool, { poolId, nodeId, freeSlots: slotsLeft(), claimId: req.exchangeId, skipJobs: req.unpreparedJobs }, req.running.length + tasks.length, carry)));
  await settle();
  await completeJobsIfDone(rt, poolId, req.completions.map((c) => c.jobId), req.completions);
  // 5. Nothing to do: long-poll until work is signalled or the wait is over.
  const deadline = rt.clock().getTime() + Math.min(req.waitMs, 20000);
  while (tasks.length === 0 && req.completions.length === 0 && !req.boot && !node.value.commands?.length && schedulable() && slotsLeft() > 0 && !abort?.aborted) {
    const left = deadline - rt.clock().getTime();
    if (left <= 0) break;
    await rt.signals.wait(poolWorkKey(poolId), Math.min(left, 2000), abort);
    node = await cachedNode(rt, poolId, nodeId);
    if (!node) return { tasks: [], commands: [{ kind: 'shutdown' }], acknowledged: applied.acknowledged };
    // While held, the node's running list is as old as the request (its tasks may have finished
    // and been reported on the other channel): spread counts only what this exchange took, else
    // every held poll of a busy pool could wait for "idle" nodes that are themselves held.
    if (schedulable()) tasks.push(...(await claimWithFill(rt, pool, { poolId, nodeId, freeSlots: slotsLeft(), claimId: req.exchangeId, skipJobs: req.unpreparedJobs }, tasks.length)));
  }
  // 6. Record the node's state and liveness (only when changed or stale).
  const busy = req.running.length + tasks.length > 0;
  const state: NodeState = activityState(node.value.state, node.value.schedulingState, busy);
  const stale = rt.clock().getTime() - Date.parse(node.value.lastSeen ?? '1970-01-01') > LAST_SEEN_WRITE_MS;
  if (state !== node.value.state || stale) {
    node = await writeNode(rt, node, {
      state,
      runningTasksCount: req.running.length + tasks.length,
      runningTaskSlotsCount: req.running.length + tasks.reduce((n, t) => n + t.requiredSlots, 0),
      totalTasksRun: node.value.totalTasksRun + applied.finished,
      totalTasksSucceeded: node.value.totalTasksSucceeded + applied.succeeded,
      ...(req.usage ? { usage: req.usage } : {}),
    });
  } else if (applied.finished > 0) {
    pendingStats(rt, poolId, nodeId, applied.finished, applied.succeeded);
  }
  // 7. Deliver pending commands (taken off the node row once handed out).
  const commands = node.value.commands ?? [];
  if (commands.length) node = await writeNode(rt, node, { commands: [] }, true);
  return { tasks, commands, acknowledged: applied.acknowledged, ...(req.boot && pool?.startTask ? { startTask: startTaskSpecOf(pool.startTask) } : {}) };
}

function checkToken(rt: Runtime, poolId: string, nodeId: string, authorization: string | undefined): void {
  const given = Buffer.from((authorization ?? '').replace(/^BatchNode\s+/, ''));
  const expected = Buffer.from(rt.nodeToken(poolId, nodeId));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new BatchError('AuthenticationFailed', 'The node token is not valid.');
}

/** The node row, cached for 2 s per process (a signal on the node key drops it). */
async function cachedNode(rt: Runtime, poolId: string, nodeId: string): Promise<Stored<NodeRecord> | undefined> {
  const key = nodeKey(poolId, nodeId);
  const hit = rt.cache.get(key);
  if (hit && hit.until > rt.clock().getTime()) return hit.value as Stored<NodeRecord>;
  const n = await rt.nodes.get(poolId, nodeId);
  if (n) rt.cache.set(key, { until: rt.clock().getTime() + 2000, value: n });
  return n;
}

async function writeNode(rt: Runtime, node: Stored<NodeRecord>, change: Partial<NodeRecord>, fresh = false): Promise<Stored<NodeRecord>> {
  const key = nodeKey(node.value.poolId, node.value.id);
  const extra = rt.cache.get(`${key}:stats`)?.value as { run: number; ok: number } | undefined;
  rt.cache.delete(`${key}:stats`);
  return withEtagRetry(async () => {
    const cur = rt.cache.has(key) && !fresh ? node : ((await rt.nodes.get(node.value.poolId, node.value.id)) ?? node);
    const now = rt.clock().toISOString();
    const next: NodeRecord = {
      ...cur.value, ...change, lastSeen: now,
      totalTasksRun: (change.totalTasksRun ?? cur.value.totalTasksRun) + (extra?.run ?? 0),
      totalTasksSucceeded: (change.totalTasksSucceeded ?? cur.value.totalTasksSucceeded) + (extra?.ok ?? 0),
      stateTransitionTime: change.state && change.state !== cur.value.state ? now : cur.value.stateTransitionTime,
    };
    try {
      const etag = await rt.nodes.update(next, cur.etag);
      const stored = { value: next, etag };
      rt.cache.set(key, { until: rt.clock().getTime() + 2000, value: stored });
      return stored;
    } catch (err) {
      rt.cache.delete(key);
      throw err;
    }
  });
}

function pendingStats(rt: Runtime, poolId: string, nodeId: string, run: number, ok: number): void {
  const key = `${nodeKey(poolId, nodeId)}:stats`;
  const cur = (rt.cache.get(key)?.value as { run: number; ok: number } | undefined) ?? { run: 0, ok: 0 };
  rt.cache.set(key, { until: Number.MAX_SAFE_INTEGER, value: { run: cur.run + run, ok: cur.ok + ok } });
}

/** A retried exchange gets back the tasks its first attempt claimed (rare path: one scan per job). */
async function replayClaims(rt: Runtime, poolId: string, nodeId: string, exchangeId: string): Promise<TaskAssignment[]> {
  const out: TaskAssignment[] = [];
  for (const job of await activeJobsOnPool(rt, poolId)) {
    const found = await rt.tasks.find(job.id, `claim eq ${odataString(exchangeId)} and nodeId eq ${odataString(nodeId)} and state eq 'running'`);
    for (const { value: t, etag } of found) {
      const env: Record<string, string> = {};
      for (const { name, value } of [...job.commonEnvironmentSettings, ...t.environmentSettings]) env[name] = value;
      const wall = t.constraints.maxWallClockTime ? durationSeconds(t.constraints.maxWallClockTime) : undefined;
      out.push({
        jobId: job.id, taskId: t.id, retryCount: t.executionInfo.retryCount, commandLine: t.commandLine, resourceFiles: t.resourceFiles, environment: env, requiredSlots: t.requiredSlots,
        claim: encodeClaim({ c: exchangeId, r: t.executionInfo.retryCount, m: t.constraints.maxTaskRetryCount, e: etag, s: t.requiredSlots, t: t.stateTransitionTime }),
        ...(wall !== undefined ? { maxWallClockSeconds: wall } : {}),
        ...assignmentExtras(t),
        ...preparationOf(job),
      });
    }
  }
  return out;
}
