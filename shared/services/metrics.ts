import type { Sample } from '../domain/autoscale';
import { SAMPLE_RETENTION_MS, buildSample, seriesOf } from '../domain/metrics';
import type { NodeRecord, PoolRecord } from '../domain/model';
import type { Runtime } from '../runtime';
import { MetricRepository } from '../storage/metrics';

/** The metrics repository of a runtime (stateless over the `metrics` table client). */
export function metricsOf(rt: Runtime): MetricRepository {
  return new MetricRepository(rt.storage.tables.metrics);
}

/**
 * The metric-sample timer: one sample per active pool and sampling period (domain/metrics.ts).
 *
 * Reads:  pools, nodes (one scan), each pool's jobs and their task counters, the pool's latest sample.
 * Writes: one metrics row per pool and period (upsert: a replay or a second instance rewrites the
 *         same row), and deletes samples older than a day or than the pool itself (a re-created
 *         pool id never sees its predecessor's samples).
 * Returns the number of pools sampled. One pool's failure does not stop the others.
 */
export async function collectSamples(rt: Runtime, log: (msg: string) => void = () => undefined): Promise<number> {
  // 1. Snapshot what every pool needs: pools and all nodes (one query each).
  const pools = (await rt.pools.all()).map((p) => p.value).filter((p) => p.state === 'active');
  if (pools.length === 0) return 0;
  const byPool = new Map<string, NodeRecord[]>();
  for (const { value: n } of await rt.nodes.all()) byPool.set(n.poolId, [...(byPool.get(n.poolId) ?? []), n]);
  let sampled = 0;
  await Promise.all(pools.map(async (pool) => {
    try {
      await samplePool(rt, pool, byPool.get(pool.id) ?? []);
      sampled++;
    } catch (err) {
      log(`metric sample of pool ${pool.id} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }));
  return sampled;
}

async function samplePool(rt: Runtime, pool: PoolRecord, nodes: NodeRecord[]): Promise<void> {
  const repo = metricsOf(rt);
  const now = rt.clock();
  const periodMs = rt.config.metricsIntervalSeconds * 1000;
  // 2. The jobs that matter for this period and their counters.
  const previous = await repo.latest(pool.id);
  const since = previous?.time ?? now.getTime();
  const jobs = (await rt.jobs.onPool(pool.id)).map((j) => j.value)
    .filter((j) => j.state !== 'deleting' && (j.state !== 'completed' || Date.parse(j.stateTransitionTime) >= since));
  const withCounts = await Promise.all(jobs.map(async (j) => ({ id: j.id, creationTime: j.creationTime, completed: j.state === 'completed', counts: await rt.tasks.counts(j.id) })));
  // 3. Build (pure) and write.
  const sample = buildSample({
    poolId: pool.id, now, periodMs, taskSlotsPerNode: pool.taskSlotsPerNode, nodes, jobs: withCounts,
    previous, usageMaxAgeMs: Math.max(60_000, 3 * periodMs),
  });
  await repo.put(sample);
  // 4. Retention: one day, and nothing older than the pool.
  await repo.deleteBefore(pool.id, Math.max(now.getTime() - SAMPLE_RETENTION_MS, Date.parse(pool.creationTime) - periodMs));
}

/** The samples a formula sees now: the pool's last day, nothing from before the pool existed. */
export async function loadSeries(rt: Runtime, pool: PoolRecord, now: Date): Promise<Record<string, Sample[]>> {
  const periodMs = rt.config.metricsIntervalSeconds * 1000;
  const from = Math.max(now.getTime() - SAMPLE_RETENTION_MS, Date.parse(pool.creationTime) - periodMs);
  return seriesOf(await metricsOf(rt).range(pool.id, from, now.getTime()));
}

/** Removes every sample of a pool (call when the pool is deleted). */
export async function purgePoolSamples(rt: Runtime, poolId: string): Promise<number> {
  return metricsOf(rt).deletePool(poolId);
}
