import { namedNodesFirst, resizeSettled } from '../domain/pool';
import type { NodeRecord, PoolRecord } from '../domain/model';
import type { Runtime } from '../runtime';
import type { Stored } from '../storage/table';
import type { PoolCommand } from './pools';
import { requeueNodeTasks } from './recovery';
import { withEtagRetry } from './retry';
import { poolEvents } from './pools';
import { purgePoolSamples } from './metrics';
import { poolDeleteCompleteBody, poolResizeCompleteBody } from '../events/bodies';
import { nodeKey } from './signals';
import { releaseLeavingNodes, shrinkPool } from './deallocation';
import { grantNodes } from './quotas';
import { recordNodeRemoval } from './usage';
import { jobManagerNodes } from './job-manager-nodes';

/**
 * Drives a pool's allocation until it is steady (queue-triggered by pool-commands).
 *
 * Trigger: PoolCommand {kind, poolId, generation}.
 * Reads:   the pool, its nodes.
 * Writes:  node rows (create → launch → starting; delete), the pool (steady / deleted), ETag-guarded.
 * Idempotency: a command older than the pool's resizeGeneration is dropped; the handler converges
 *   on the pool's target from whatever nodes exist, so a redelivered or replayed command changes
 *   nothing once the pool is steady.
 */
export async function handlePoolCommand(rt: Runtime, cmd: PoolCommand): Promise<void> {
  // 1. Load the pool; drop stale or orphaned commands.
  const pool = await rt.pools.get(cmd.poolId);
  if (!pool) return;
  if (cmd.generation < pool.value.resizeGeneration) return;
  const nodes = await rt.nodes.listByPool(cmd.poolId);
  // 2. Deleting: remove every node, then the pool.
  if (pool.value.state === 'deleting') {
    await Promise.all(nodes.map((n) => removeNode(rt, pool.value, n)));
    await purgePoolSamples(rt, pool.value.id);
    await rt.pools.deleteWith(pool.value.id, poolEvents(rt, [['PoolDeleteCompleteEvent', poolDeleteCompleteBody(pool.value, pool.value.stateTransitionTime, rt.clock().toISOString())]]));
    return;
  }
  // 3. Relaunch nodes whose row exists but whose agent was never started (crash between steps).
  await Promise.all(nodes.filter((n) => n.value.state === 'creating' && !n.value.provider.pid).map((n) => launchNode(rt, pool.value, n)));
  // 4. Converge on the target unless asked to stop.
  let current = nodes.length;
  const resizing = pool.value.allocationState === 'resizing';
  const target = pool.value.targetDedicatedNodes + pool.value.targetLowPriorityNodes;
  await releaseLeavingNodes(rt, nodes, resizing ? current - target : 0);
  if (resizing) {
    if (current < target) {
      const granted = await grantNodes(rt, pool.value, target - current);
      const fresh = Array.from({ length: granted }, () => newNodeRecord(rt, pool.value));
      await Promise.all(fresh.map(async (n) => launchNode(rt, pool.value, { value: n, etag: await rt.nodes.insert(n) })));
      current += granted;
    } else if (current > target) {
      const keepLast = await jobManagerNodes(rt, pool.value.id);
      const pick = (ns: NodeRecord[], count: number): Set<string> => pickNodesToRemove(ns, count, keepLast);
      current = await shrinkPool(rt, pool.value, nodes, current - target, cmd, { removeNode, pickNodesToRemove: pool.value.nodesToRemove?.length ? namedNodesFirst(pool.value.nodesToRemove, pick) : pick });
      // Nodes still finishing their tasks (taskcompletion): the pool stays resizing; the command comes back.
      if (current > target) return;
    }
  }
  // 5. Record the pool as steady at the size reached.
  await withEtagRetry(async () => {
    const cur = await rt.pools.get(cmd.poolId);
    if (!cur || cur.value.resizeGeneration !== cmd.generation || cur.value.state === 'deleting') return;
    const dedicated = Math.min(current, cur.value.targetDedicatedNodes + (cur.value.allocationState === 'stopping' ? current : 0));
    const settled = resizeSettled(cur.value, dedicated, current - dedicated, rt.clock());
    const stopped = cur.value.allocationState === 'stopping' ? { code: 'ResizeStopped', message: 'The resize was stopped by a stop resize request.' } : undefined;
    const error = cur.value.resizeErrors?.[0] ?? stopped;
    const events = cur.value.allocationState === 'steady' ? [] : poolEvents(rt, [['PoolResizeCompleteEvent', poolResizeCompleteBody(settled, cur.value.allocationStateTransitionTime, settled.lastModified, error)]]);
    await rt.pools.updateWith(settled, cur.etag, events);
  });
}

function newNodeRecord(rt: Runtime, pool: PoolRecord): NodeRecord {
  const now = rt.clock().toISOString();
  const id = `tvmps_${rt.ids.hex(20)}_d`;
  return {
    id,
    poolId: pool.id,
    state: 'creating',
    schedulingState: 'enabled',
    stateTransitionTime: now,
    allocationTime: now,
    ipAddress: '127.0.0.1',
    affinityId: `TVM:${id}`,
    vmSize: pool.vmSize,
    isDedicated: true,
    totalTasksRun: 0,
    totalTasksSucceeded: 0,
    runningTasksCount: 0,
    runningTaskSlotsCount: 0,
    provider: {},
  };
}

async function launchNode(rt: Runtime, pool: PoolRecord, node: Stored<NodeRecord>): Promise<void> {
  const data = await rt.provider.launch({
    poolId: pool.id,
    nodeId: node.value.id,
    vmSize: pool.vmSize,
    taskSlotsPerNode: pool.taskSlotsPerNode,
    token: rt.nodeToken(pool.id, node.value.id),
    controlUrl: rt.config.publicUrl,
    accountName: rt.config.accountName,
    accountUrl: rt.config.publicUrl,
  });
  await withEtagRetry(async () => {
    const cur = await rt.nodes.get(pool.id, node.value.id);
    if (!cur) return;
    const state = cur.value.state === 'creating' ? 'starting' : cur.value.state;
    await rt.nodes.update({ ...cur.value, provider: data, state, stateTransitionTime: state !== cur.value.state ? rt.clock().toISOString() : cur.value.stateTransitionTime }, cur.etag);
  });
}

/** Stops a node's agent, requeues its running tasks, and deletes its row. */
export async function removeNode(rt: Runtime, pool: PoolRecord, node: Stored<NodeRecord>): Promise<void> {
  // Take the tasks back BEFORE stopping the agent: a stopping agent reports its killed tasks as
  // ended, and those late reports must find the tasks already requeued (their claim is gone).
  await requeueNodeTasks(rt, pool.id, node.value.id);
  await rt.provider.remove(pool.id, node.value.id, node.value.provider);
  await recordNodeRemoval(rt, node.value);
  await rt.nodes.delete(pool.id, node.value.id);
  rt.signals.notify(nodeKey(pool.id, node.value.id));
}

/** Shrink order: nodes doing nothing useful first, busy nodes later, nodes in `keepLast` (running a job manager) last. */
export function pickNodesToRemove(nodes: NodeRecord[], count: number, keepLast: ReadonlySet<string> = new Set()): Set<string> {
  const rank: Record<string, number> = { unusable: 0, starttaskfailed: 0, offline: 0, creating: 1, starting: 1, waitingforstarttask: 1, idle: 2, unknown: 2 };
  const last = (n: NodeRecord): number => (keepLast.has(n.id) ? 1 : 0);
  const sorted = [...nodes].sort((a, b) => last(a) - last(b) || (rank[a.state] ?? 3) - (rank[b.state] ?? 3) || a.runningTaskSlotsCount - b.runningTaskSlotsCount);
  return new Set(sorted.slice(0, count).map((n) => n.id));
}

/**
 * After a restart of the local stack: nodes whose agent process is gone (the provider can tell)
 * are booted again with the same id and root directory; the tasks they were running go back to
 * the queue without counting a retry (the node rebooted, the tasks did not fail).
 */
export async function reviveNodes(rt: Runtime): Promise<number> {
  let revived = 0;
  for (const { value: pool } of await rt.pools.all()) {
    if (pool.state !== 'active') continue;
    for (const node of await rt.nodes.listByPool(pool.id)) {
      if (!node.value.provider.pid || rt.provider.isAlive(node.value.provider) !== false) continue;
      await requeueNodeTasks(rt, pool.id, node.value.id, 'requeue');
      await withEtagRetry(async () => {
        const cur = await rt.nodes.get(pool.id, node.value.id);
        if (cur) await rt.nodes.update({ ...cur.value, state: 'creating', stateTransitionTime: rt.clock().toISOString(), provider: {} }, cur.etag);
      });
      const fresh = await rt.nodes.get(pool.id, node.value.id);
      if (fresh) await launchNode(rt, pool, fresh);
      revived++;
    }
  }
  return revived;
}
