import type { NodeRecord } from '../domain/model';
import type { Runtime } from '../runtime';
import { requeueNodeTasks } from './recovery';
import { withEtagRetry } from './retry';
import { nodeKey } from './signals';

const LIVE = new Set(['idle', 'running', 'offline', 'starting', 'creating', 'waitingforstarttask']);

/**
 * Node liveness sweep (timer-triggered). A node whose agent stopped talking (heartbeat timeout),
 * whose process is gone (local provider), or that never booted becomes `unusable`; the tasks it
 * was running go back to the queue, each counting a retry.
 *
 * Reads: every node row. Writes: node rows that change state (ETag-guarded), task rows via
 * requeueNodeTasks. Idempotency: an unusable node is skipped; requeue only moves tasks still
 * marked running on that node.
 */
export async function sweepNodes(rt: Runtime): Promise<number> {
  const now = rt.clock().getTime();
  let changed = 0;
  for (const { value: n } of await rt.nodes.all()) {
    if (!LIVE.has(n.state)) continue;
    const reason = deadReason(rt, n, now);
    if (!reason) continue;
    await withEtagRetry(async () => {
      const cur = await rt.nodes.get(n.poolId, n.id);
      if (!cur || !LIVE.has(cur.value.state)) return;
      const t = rt.clock().toISOString();
      await rt.nodes.update({ ...cur.value, state: 'unusable', stateTransitionTime: t, errors: [{ code: 'NodeAgentUnresponsive', message: reason }] }, cur.etag);
    });
    rt.cache.delete(nodeKey(n.poolId, n.id));
    await requeueNodeTasks(rt, n.poolId, n.id, 'lost');
    changed++;
  }
  return changed;
}

function deadReason(rt: Runtime, n: NodeRecord, now: number): string | undefined {
  if (n.provider.pid && rt.provider.isAlive(n.provider) === false) return 'The node agent process exited.';
  const seen = n.lastSeen ? Date.parse(n.lastSeen) : undefined;
  if (seen !== undefined) {
    if (now - seen > rt.config.nodeHeartbeatTimeoutSeconds * 1000) return `The node agent has not reported for more than ${rt.config.nodeHeartbeatTimeoutSeconds} seconds.`;
    return undefined;
  }
  if (now - Date.parse(n.allocationTime) > rt.config.nodeBootTimeoutSeconds * 1000) return `The node agent did not start within ${rt.config.nodeBootTimeoutSeconds} seconds.`;
  return undefined;
}
