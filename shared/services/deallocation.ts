import type { NodeRecord, PoolRecord } from '../domain/model';
import type { Runtime } from '../runtime';
import { QUEUES } from '../storage/context';
import { odataString } from '../storage/keys';
import type { Stored } from '../storage/table';
import type { PoolCommand } from './pools';
import { requeueNodeTasks, terminateNodeTasks } from './recovery';
import { withEtagRetry } from './retry';
import { nodeKey, poolWorkKey } from './signals';

/**
 * Shrinking a pool with its $NodeDeallocationOption (seed §3.5), called by the lifecycle handler:
 *
 * - requeue: the chosen nodes go at once; their running tasks go back to the queue (requeueCount
 *   + 1, no retry counted).
 * - terminate: the chosen nodes go at once; their running tasks complete as failed (TaskEnded).
 * - taskcompletion / retaineddata (task data is not retained past the node here, so both wait for
 *   the running tasks): a chosen node first becomes `leavingpool` — the exchange hands work only to
 *   idle/running nodes — and is removed once no task runs on it. A node is not removed in the pass
 *   that marked it, nor before NODE_CACHE_SETTLE_MS have passed, so an exchange that read the node
 *   before the mark (nodes are cached ≤ 2 s per process) has finished any claim it made. While
 *   nodes are still busy the pool stays `resizing` and the same PoolCommand comes back after
 *   RECHECK_SECONDS (queue visibility delay).
 * - A leaving node whose agent is gone (process dead or silent past the heartbeat timeout) is
 *   removed and its tasks requeued: nothing is left to wait for.
 */
export const RECHECK_SECONDS = 2;
export const NODE_CACHE_SETTLE_MS = 3000;

const markedAt = (n: NodeRecord): number => Date.parse(n.stateTransitionTime);
/** Nodes that may have tasks running (others — creating, starting, unusable… — go at once). */
const MAY_RUN_TASKS: ReadonlySet<string> = new Set(['idle', 'running', 'offline', 'leavingpool']);

/**
 * Leaving nodes the pool no longer needs to lose (its target went up, or the resize was stopped)
 * become schedulable again: all but the first `keep`.
 */
export async function releaseLeavingNodes(rt: Runtime, nodes: Stored<NodeRecord>[], keep: number): Promise<void> {
  const leaving = nodes.filter((n) => n.value.state === 'leavingpool');
  await Promise.all(leaving.slice(Math.max(0, keep)).map((n) => setLeaving(rt, n.value, false)));
}

/** What the lifecycle lends the shrink: its node removal and its shrink order. */
export interface ShrinkDeps {
  removeNode: (rt: Runtime, pool: PoolRecord, node: Stored<NodeRecord>) => Promise<void>;
  pickNodesToRemove: (nodes: NodeRecord[], count: number) => Set<string>;
}

/**
 * Removes up to `excess` nodes according to the pool's deallocation option. Returns how many nodes
 * the pool still has; when that is more than its target, the command was re-enqueued and the
 * caller must leave the pool resizing.
 */
export async function shrinkPool(
  rt: Runtime,
  pool: PoolRecord,
  nodes: Stored<NodeRecord>[],
  excess: number,
  cmd: PoolCommand,
  deps: ShrinkDeps,
): Promise<number> {
  const { removeNode, pickNodesToRemove } = deps;
  const option = pool.nodeDeallocationOption ?? 'requeue';
  // 1. Choose: nodes already leaving first, then the least useful others.
  const leaving = nodes.filter((n) => n.value.state === 'leavingpool').slice(0, excess);
  const others = nodes.filter((n) => n.value.state !== 'leavingpool');
  const more = pickNodesToRemove(others.map((n) => n.value), excess - leaving.length);
  const victims = [...leaving, ...others.filter((n) => more.has(n.value.id))];
  // 2. Stop at once: no new work for the node, requeue or terminate its running tasks, remove it.
  //    The tasks are settled BEFORE the agent is stopped: a stopping agent reports its killed tasks
  //    as ended, and that report must find their run already replaced (it is then ignored).
  if (option === 'requeue' || option === 'terminate') {
    await Promise.all(victims.map(async (n) => {
      if (MAY_RUN_TASKS.has(n.value.state)) {
        await setLeaving(rt, n.value, true);
        if (option === 'terminate') await terminateNodeTasks(rt, pool.id, n.value.id);
        else await requeueNodeTasks(rt, pool.id, n.value.id, 'requeue');
      }
      await removeNode(rt, pool, n);
    }));
    return nodes.length - victims.length;
  }
  // 3. Wait for running tasks: mark, then remove the nodes that are done.
  const now = rt.clock().getTime();
  let removed = 0;
  for (const n of victims) {
    if (!MAY_RUN_TASKS.has(n.value.state) || isGone(rt, n.value, now)) {
      await removeNode(rt, pool, n);
      removed++;
    } else if (n.value.state !== 'leavingpool') {
      await setLeaving(rt, n.value, true);
    } else if (now - markedAt(n.value) >= NODE_CACHE_SETTLE_MS && !(await runsTasks(rt, pool.id, n.value.id))) {
      await removeNode(rt, pool, n);
      removed++;
    }
  }
  if (removed < victims.length) await rt.storage.send(QUEUES.poolCommands, cmd, RECHECK_SECONDS);
  return nodes.length - removed;
}

function isGone(rt: Runtime, n: NodeRecord, now: number): boolean {
  if (n.provider.pid && rt.provider.isAlive(n.provider) === false) return true;
  return n.state === 'leavingpool' && !!n.lastSeen && now - Date.parse(n.lastSeen) > rt.config.nodeHeartbeatTimeoutSeconds * 1000;
}

/** Whether any task is still recorded as running on the node (one partition query per job of the pool). */
async function runsTasks(rt: Runtime, poolId: string, nodeId: string): Promise<boolean> {
  for (const job of await rt.jobs.onPool(poolId)) {
    if ((await rt.tasks.find(job.value.id, `nodeId eq ${odataString(nodeId)} and state eq 'running'`)).length > 0) return true;
  }
  return false;
}

/** leavingpool on (the exchange stops handing work to it) or off (back to idle; the exchange sets running). */
async function setLeaving(rt: Runtime, n: NodeRecord, on: boolean): Promise<void> {
  await withEtagRetry(async () => {
    const cur = await rt.nodes.get(n.poolId, n.id);
    if (!cur || (cur.value.state === 'leavingpool') === on) return;
    if (on && !MAY_RUN_TASKS.has(cur.value.state)) return;
    await rt.nodes.update({ ...cur.value, state: on ? 'leavingpool' : 'idle', stateTransitionTime: rt.clock().toISOString() }, cur.etag);
  });
  rt.cache.delete(nodeKey(n.poolId, n.id));
  rt.signals.notify(poolWorkKey(n.poolId));
}
