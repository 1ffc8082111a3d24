import { BatchError } from '../errors';
import type { DeallocationOption, NodeCommand, NodeRecord, PoolRecord, TaskRecord } from '../domain/model';
import { checkNodeOperation, restartState, stateAfterScheduling, waitsForTasks, type NodeOperation } from '../domain/node-state';
import type { NodeLaunchSpec } from '../nodes/provider';
import type { Runtime } from '../runtime';
import { QUEUES } from '../storage/context';
import { odataString } from '../storage/keys';
import type { Stored } from '../storage/table';
import { NODE_CACHE_SETTLE_MS, RECHECK_SECONDS } from './deallocation';
import { requeueNodeTasks, terminateNodeTasks } from './recovery';
import { withEtagRetry } from './retry';
import { nodeKey, poolWorkKey } from './signals';

/**
 * Node operations that change what a compute node does: reboot, reimage, disable/enable
 * scheduling, and commands for its agent.
 *
 * Reboot / reimage (202, asynchronous):
 *   1. request (HTTP): the node becomes rebooting/reimaging (the exchange hands it no more work);
 *      with `requeue` its running tasks go back to the queue (no retry counted), with `terminate`
 *      they complete as failed (TaskEnded) — both before the agent is stopped, so the stopped
 *      agent's reports of its killed tasks find the runs replaced and are ignored. A
 *      node-commands message {restart} follows, delayed by NODE_CACHE_SETTLE_MS.
 *   2. handler (queue): settles stragglers claimed by an exchange that read the node before step 1
 *      (same option again), or, with `taskcompletion`/`retaineddata`, comes back every
 *      RECHECK_SECONDS until no task runs on the node (a node whose agent died is not waited for);
 *      then the provider restarts the agent (reimage: empty node directory). The node stays
 *      rebooting/reimaging until the new agent's boot exchange makes it idle (or offline when its
 *      scheduling is disabled); the start task runs again at that boot.
 *   3. bootCheck (queue, after nodeBootTimeoutSeconds): an agent that never booted leaves the
 *      node unusable (NodeAgentUnresponsive), as the node monitor does for fresh nodes.
 * Idempotency: every message carries the restart id stored on the node; a message for another
 * (older or newer) restart is dropped, and a restart already done is not repeated.
 */
export const NODE_COMMANDS_QUEUE = QUEUES.nodeCommands;

export type NodeCommandMessage =
  | { kind: 'restart'; poolId: string; nodeId: string; restartId: string }
  | { kind: 'bootCheck'; poolId: string; nodeId: string; restartId: string };

/** The node, or 404 PoolNotFound / NodeNotFound. */
export async function loadNode(rt: Runtime, poolId: string, nodeId: string): Promise<Stored<NodeRecord>> {
  const n = await rt.nodes.get(poolId, nodeId);
  if (n) return n;
  if (!(await rt.pools.get(poolId))) throw new BatchError('PoolNotFound', 'The specified pool does not exist.');
  throw new BatchError('NodeNotFound', 'The specified node does not exist.');
}

/** Throws the 409 of `checkNodeOperation` when the node does not allow `op`. */
export function assertNodeAllows(node: NodeRecord, op: NodeOperation): void {
  const v = checkNodeOperation(op, node.state, node.schedulingState);
  if (!v.ok) throw new BatchError(v.code, v.message);
}

/** Writes a change of the node row (ETag-guarded, re-read on conflict) and drops cached copies. */
export async function updateNode(rt: Runtime, poolId: string, nodeId: string, change: (n: NodeRecord) => NodeRecord): Promise<NodeRecord> {
  const out = await withEtagRetry(async () => {
    const cur = await loadNode(rt, poolId, nodeId);
    const next = change(cur.value);
    await rt.nodes.update(next, cur.etag);
    return next;
  });
  rt.cache.delete(nodeKey(poolId, nodeId));
  rt.signals.notify(poolWorkKey(poolId));
  return out;
}

/** POST …/reboot and …/reimage: step 1 above. */
export async function requestRestart(rt: Runtime, poolId: string, nodeId: string, kind: 'reboot' | 'reimage', option: DeallocationOption): Promise<void> {
  const id = rt.ids.uuid();
  let before: Pick<NodeRecord, 'state' | 'stateTransitionTime'> | undefined;
  await updateNode(rt, poolId, nodeId, (n) => {
    assertNodeAllows(n, kind);
    before = { state: n.state, stateTransitionTime: n.stateTransitionTime };
    const now = rt.clock().toISOString();
    return { ...n, state: restartState(kind), stateTransitionTime: now, restart: { id, kind, option, requestedAt: now } };
  });
  try {
    await rt.storage.send(NODE_COMMANDS_QUEUE, { kind: 'restart', poolId, nodeId, restartId: id } satisfies NodeCommandMessage, Math.ceil(NODE_CACHE_SETTLE_MS / 1000));
  } catch (err) {
    // Without its message the restart would never run: put the node back as it was (nothing
    // half-done), and let the request fail.
    await updateNode(rt, poolId, nodeId, (n) => (n.restart?.id === id && before ? { ...n, ...before, restart: undefined } : n)).catch(() => undefined);
    throw err;
  }
  // The handler settles again whatever an exchange claimed meanwhile (and this, if it fails here).
  await settleTasks(rt, poolId, nodeId, option);
}

/** requeue / terminate the node's running tasks now; taskcompletion / retaineddata leave them running. */
async function settleTasks(rt: Runtime, poolId: string, nodeId: string, option: DeallocationOption): Promise<void> {
  if (option === 'requeue') await requeueNodeTasks(rt, poolId, nodeId, 'requeue');
  else if (option === 'terminate') await terminateNodeTasks(rt, poolId, nodeId);
}

/** The node-commands queue handler. */
export async function handleNodeCommand(rt: Runtime, msg: NodeCommandMessage): Promise<void> {
  const node = await rt.nodes.get(msg.poolId, msg.nodeId);
  const restart = node?.value.restart;
  if (!node || !restart || restart.id !== msg.restartId) return;
  const restarting = node.value.state === 'rebooting' || node.value.state === 'reimaging';
  if (msg.kind === 'bootCheck') {
    if (!restarting || !restart.restartedAt) return;
    await withEtagRetry(async () => {
      const cur = await rt.nodes.get(msg.poolId, msg.nodeId);
      if (!cur || cur.value.restart?.id !== msg.restartId || (cur.value.state !== 'rebooting' && cur.value.state !== 'reimaging')) return;
      const message = `The node agent did not start within ${rt.config.nodeBootTimeoutSeconds} seconds after the ${restart.kind}.`;
      await rt.nodes.update({ ...cur.value, state: 'unusable', stateTransitionTime: rt.clock().toISOString(), errors: [{ code: 'NodeAgentUnresponsive', message }] }, cur.etag);
    });
    rt.cache.delete(nodeKey(msg.poolId, msg.nodeId));
    return;
  }
  if (!restarting || restart.restartedAt) return;
  // Let exchanges that read the node before it was marked finish their claims.
  const age = rt.clock().getTime() - Date.parse(restart.requestedAt);
  if (age < NODE_CACHE_SETTLE_MS) return void (await rt.storage.send(NODE_COMMANDS_QUEUE, msg, Math.ceil((NODE_CACHE_SETTLE_MS - age) / 1000)));
  const agentGone = !!node.value.provider.pid && rt.provider.isAlive(node.value.provider) === false;
  if (waitsForTasks(restart.option) && !agentGone) {
    if ((await runningTasksOn(rt, msg.poolId, msg.nodeId)).length > 0) return void (await rt.storage.send(NODE_COMMANDS_QUEUE, msg, RECHECK_SECONDS));
  } else {
    await settleTasks(rt, msg.poolId, msg.nodeId, restart.option === 'terminate' ? 'terminate' : 'requeue');
  }
  const pool = await rt.pools.get(msg.poolId);
  if (!pool || pool.value.state !== 'active') return;
  const data = await rt.provider.restart(launchSpec(rt, pool.value, msg.nodeId), node.value.provider, { wipe: restart.kind === 'reimage' });
  await withEtagRetry(async () => {
    const cur = await rt.nodes.get(msg.poolId, msg.nodeId);
    if (!cur || cur.value.restart?.id !== msg.restartId) return;
    const done = { ...restart, restartedAt: rt.clock().toISOString() };
    // The old agent's pending commands died with it; a reimaged node has no users any more.
    const { errors: _e, ...rest } = cur.value;
    await rt.nodes.update({ ...rest, provider: data, restart: done, commands: [], runningTasksCount: 0, runningTaskSlotsCount: 0, ...(restart.kind === 'reimage' ? { users: [] } : {}) }, cur.etag);
  });
  rt.cache.delete(nodeKey(msg.poolId, msg.nodeId));
  await rt.storage.send(NODE_COMMANDS_QUEUE, { ...msg, kind: 'bootCheck' } satisfies NodeCommandMessage, rt.config.nodeBootTimeoutSeconds);
}

/** What the provider needs to start the node's agent (as the pool lifecycle launches it). */
function launchSpec(rt: Runtime, pool: PoolRecord, nodeId: string): NodeLaunchSpec {
  return {
    poolId: pool.id, nodeId, vmSize: pool.vmSize, taskSlotsPerNode: pool.taskSlotsPerNode, token: rt.nodeToken(pool.id, nodeId),
    controlUrl: rt.config.publicUrl, accountName: rt.config.accountName, accountUrl: rt.config.publicUrl,
  };
}

/** Tasks recorded as running on the node (one partition query per job of the pool). */
export async function runningTasksOn(rt: Runtime, poolId: string, nodeId: string): Promise<TaskRecord[]> {
  const out: TaskRecord[] = [];
  for (const job of await rt.jobs.onPool(poolId)) {
    for (const t of await rt.tasks.find(job.value.id, `nodeId eq ${odataString(nodeId)} and state eq 'running'`)) out.push(t.value);
  }
  return out;
}

/**
 * POST …/disablescheduling and …/enablescheduling. Disabling stops new work at once (the exchange
 * claims only for nodes whose scheduling is enabled; an idle node shows `offline`). Running tasks:
 * requeue — back to the queue, and the agent is told to kill them; terminate — completed as
 * failed (TaskEnded), killed likewise; taskcompletion — left to finish.
 */
export async function setScheduling(rt: Runtime, poolId: string, nodeId: string, target: 'enabled' | 'disabled', option: 'requeue' | 'terminate' | 'taskcompletion' = 'requeue'): Promise<void> {
  await updateNode(rt, poolId, nodeId, (n) => {
    assertNodeAllows(n, target === 'enabled' ? 'enableScheduling' : 'disableScheduling');
    const state = stateAfterScheduling(n.state, target);
    return { ...n, schedulingState: target, state, stateTransitionTime: state !== n.state ? rt.clock().toISOString() : n.stateTransitionTime };
  });
  if (target === 'enabled' || option === 'taskcompletion') return;
  const running = await runningTasksOn(rt, poolId, nodeId);
  if (running.length === 0) return;
  await settleTasks(rt, poolId, nodeId, option);
  await sendNodeCommands(rt, poolId, nodeId, running.map((t) => ({ kind: 'terminateTask', jobId: t.jobId, taskId: t.id })));
}

/** Queues commands for the node's agent (delivered with its next exchange; a waiting long poll wakes up). */
export async function sendNodeCommands(rt: Runtime, poolId: string, nodeId: string, cmds: NodeCommand[]): Promise<void> {
  await updateNode(rt, poolId, nodeId, (n) => ({ ...n, commands: [...(n.commands ?? []), ...cmds] }));
}
