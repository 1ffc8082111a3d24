import type { Runtime } from '../runtime';
import { activeJobsOnPool } from './jobs';

/**
 * The nodes of a pool running a job manager task now: a shrink removes them last (the seed: the
 * job manager's node is the last one removed when the pool is downsized). One point read per
 * active job of the pool that has a job manager.
 */
export async function jobManagerNodes(rt: Runtime, poolId: string): Promise<Set<string>> {
  const out = new Set<string>();
  const jobs = (await activeJobsOnPool(rt, poolId)).filter((j) => j.jobManagerTask);
  const rows = await Promise.all(jobs.map((j) => rt.tasks.get(j.id, j.jobManagerTask!.id)));
  for (const r of rows) if (r?.value.state === 'running' && r.value.nodeInfo) out.add(r.value.nodeInfo.nodeId);
  return out;
}
