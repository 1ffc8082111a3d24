import { coresOf } from '../domain/quotas';
import { hourlyUsage, hourStart, poolStatsJson, type NodeLifetime, type PoolUsageMetric } from '../domain/stats';
import type { NodeRecord, PoolRecord } from '../domain/model';
import type { Runtime } from '../runtime';
import { UsageRepository } from '../storage/usage';

/**
 * Node lifetimes: the source of pool usage statistics and of GET /poolusagemetrics.
 *
 * Writes: one usage row when a node is removed (lifecycle.removeNode), before its node row goes.
 * Reads:  closed lifetimes from the usage table (time-range filters), open ones from the live
 *         node rows (allocationTime → now).
 */
export function usageOf(rt: Runtime): UsageRepository {
  return new UsageRepository(rt.storage.tables.usage);
}

export function lifetimeOf(n: NodeRecord, endMs: number): NodeLifetime {
  return {
    poolId: n.poolId,
    nodeId: n.id,
    vmSize: n.vmSize,
    cores: coresOf(n.vmSize),
    dedicated: n.isDedicated,
    start: Date.parse(n.allocationTime),
    end: Math.max(endMs, Date.parse(n.allocationTime)),
    ...(n.usage ? { usage: n.usage } : {}),
  };
}

/** Records the lifetime of a node that is being removed (call before its row is deleted; reads the row for its latest usage). */
export async function recordNodeRemoval(rt: Runtime, node: NodeRecord): Promise<void> {
  const latest = (await rt.nodes.get(node.poolId, node.id))?.value ?? node;
  await usageOf(rt).record(lifetimeOf(latest, rt.clock().getTime()));
}

/** Closed and open lifetimes together; a node found in both (removal interrupted) counts once. */
function merge(closed: readonly NodeLifetime[], open: readonly NodeLifetime[]): NodeLifetime[] {
  const byNode = new Map<string, NodeLifetime>();
  for (const l of [...closed, ...open]) {
    const key = `${l.poolId}/${l.nodeId}`;
    const seen = byNode.get(key);
    if (!seen || l.end > seen.end) byNode.set(key, l);
  }
  return [...byNode.values()];
}

/** PoolStatistics of a pool since its creation (`$expand=stats`): 2 table queries. */
export async function poolStats(rt: Runtime, pool: PoolRecord, url: string): Promise<Record<string, unknown>> {
  const now = rt.clock().getTime();
  const since = Date.parse(pool.creationTime);
  const [closed, live] = await Promise.all([usageOf(rt).ofPool(pool.id, since), rt.nodes.listByPool(pool.id)]);
  const lifetimes = merge(closed, live.map((n) => lifetimeOf(n.value, now))).filter((l) => l.end > since);
  return poolStatsJson({ url, since, now, lifetimes });
}

/** Hourly core usage per pool over [fromMs, toMs): usage rows in range plus every live node. */
export async function poolUsageMetrics(rt: Runtime, fromMs: number, toMs: number): Promise<PoolUsageMetric[]> {
  const now = rt.clock().getTime();
  // Whole hours: a lifetime that ended early in the first hour still counts in that hour's entry.
  const [closed, live] = await Promise.all([usageOf(rt).overlapping(hourStart(fromMs), hourStart(toMs - 1) + 3_600_000), rt.nodes.all()]);
  return hourlyUsage(merge(closed, live.map((n) => lifetimeOf(n.value, now))), fromMs, toMs);
}
