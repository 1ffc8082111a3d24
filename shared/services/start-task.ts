import { z } from 'zod';
import type { NodeRecord, PoolRecord, PoolStartTask } from '../domain/model';
import { bootState, startTaskReported } from '../domain/starttask';
import { slotsToClaim } from '../domain/fill';
import type { StartTaskReport, StartTaskSpec, TaskAssignment } from '../nodes/protocol';
import type { Runtime } from '../runtime';
import { idKey } from '../storage/keys';
import { cached } from './cache';
import { claimTasks, type ClaimCarry, type ClaimRequest } from './claims';

/**
 * The exchange's pool-level parts (used by services/exchange.ts): the start task a booting node
 * runs, the node state its reports lead to, and the nodeFillType policy applied to a claim.
 */
export const startTaskReport = z.object({
  state: z.enum(['running', 'completed']),
  startTime: z.string(),
  endTime: z.string().optional(),
  exitCode: z.number().int().optional(),
  result: z.enum(['success', 'failure']).optional(),
  failureInfo: z.object({ category: z.enum(['usererror', 'servererror']), code: z.string(), message: z.string(), details: z.array(z.object({ name: z.string(), value: z.string() })).optional() }).optional(),
  retryCount: z.number().int().min(0),
  lastRetryTime: z.string().optional(),
});

/** A node's agent booted (joined, or came back after a reboot/reimage): the start task runs again. */
export function bootChange(pool: PoolRecord | undefined, agentVersion: string, now: Date): Partial<NodeRecord> {
  return { state: bootState(pool?.startTask), startTask: pool?.startTask, startTaskInfo: undefined, lastBootTime: now.toISOString(), nodeAgentVersion: agentVersion };
}

/** The change a start-task report makes to the node row (undefined: nothing to write). */
export function reportChange(node: NodeRecord, report: StartTaskReport): Partial<NodeRecord> | undefined {
  return startTaskReported(node, report);
}

/** What the agent of a booting node runs. */
export function startTaskSpecOf(s: PoolStartTask): StartTaskSpec {
  const environment: Record<string, string> = {};
  for (const { name, value } of s.environmentSettings ?? []) environment[name] = value;
  return {
    commandLine: s.commandLine,
    resourceFiles: s.resourceFiles ?? [],
    environment,
    maxTaskRetryCount: s.maxTaskRetryCount,
    waitForSuccess: s.waitForSuccess,
    elevationLevel: s.userIdentity.autoUser.elevationLevel,
    scope: s.userIdentity.autoUser.scope,
  };
}

/**
 * Claims work for a node under its pool's nodeFillType (domain/fill.ts). Spread needs the count
 * of the pool's other idle nodes: read from a per-process list refreshed at most once a second.
 */
export async function claimWithFill(rt: Runtime, pool: PoolRecord | undefined, req: ClaimRequest, running: number, carry?: Map<string, ClaimCarry>): Promise<TaskAssignment[]> {
  const fillType = pool?.taskSchedulingPolicy.nodeFillType ?? 'spread';
  const otherIdleNodes = fillType === 'pack' || (req.freeSlots <= 1 && running === 0) ? 0 : await idleNodesBesides(rt, req.poolId, req.nodeId);
  const d = slotsToClaim({ fillType, freeSlots: req.freeSlots, otherIdleNodes, running });
  if (d.slots === 0) return [];
  const seen = { blocked: false };
  const got = await claimTasks(rt, { ...req, freeSlots: d.slots }, carry, seen);
  // Spread's share found nothing because the next task needs more slots: take the full free slots.
  if (got.length > 0 || d.fallbackSlots === 0 || !seen.blocked) return got;
  return claimTasks(rt, { ...req, freeSlots: d.fallbackSlots }, carry);
}

/** Idle nodes whose agent was heard from recently (a dead agent's node must not hold work back). */
const IDLE_SEEN_WITHIN_MS = 20_000;

async function idleNodesBesides(rt: Runtime, poolId: string, nodeId: string): Promise<number> {
  const nodes = await cached(rt, `fill:${idKey(poolId)}`, 1000, async () => (await rt.nodes.listByPool(poolId)).map((n) => ({
    id: n.value.id,
    idle: n.value.state === 'idle' && n.value.schedulingState === 'enabled',
    seen: Date.parse(n.value.lastSeen ?? n.value.stateTransitionTime),
  })));
  const now = rt.clock().getTime();
  return nodes.filter((n) => n.idle && n.id !== nodeId && now - n.seen < IDLE_SEEN_WITHIN_MS).length;
}
