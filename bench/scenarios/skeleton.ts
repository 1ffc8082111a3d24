/**
 * The walking-skeleton figure (issue 2): 1,000 `/bin/true` tasks on 2 local nodes × 4 slots,
 * from the first addtaskcollection to all completed, and storage requests per task. The pool is
 * deleted afterwards (and waited for) so that its agents do not compete with later scenarios and
 * its 8 cores do not count against the account's core quota when scenario 2 creates its pool.
 */
import type { BenchContext, Metric, Scenario } from '../support';
import { addTrueTasks, ensurePool, now, round, sleep, waitAllCompleted } from '../support';

const POOL = 'bench-skel';
const JOB = 'bench-skel-job';

export const skeleton: Scenario = {
  name: 'skeleton',
  title: '2b. Walking skeleton: 2 nodes × 4 slots',
  needs: ['baseline'],
  async run(ctx: BenchContext): Promise<Metric[]> {
    const n = ctx.quick ? 100 : 1000;
    await ensurePool(ctx, POOL, 2, 4);
    await ctx.client.job.add({ id: JOB, poolInfo: { poolId: POOL } });
    const counter = ctx.stack.rt.storage.counter;
    counter.reset();
    const t0 = now();
    const adding = addTrueTasks(ctx.client, JOB, n, 's');
    const done = waitAllCompleted(ctx.client, JOB, n, 300_000, 200);
    await adding;
    const counts = await done;
    const ms = now() - t0;
    const s = counter.snapshot();
    const total = s.table + s.queue + s.blob;
    await deletePool(ctx, POOL);
    const perSec = (n * 1000) / ms;
    const base = ctx.shared.baselinePerSec;
    ctx.progress(`  skeleton: ${n} tasks in ${(ms / 1000).toFixed(2)} s, ${round(total / n, 3)} storage requests/task`);
    const metrics: Metric[] = [
      { name: `time for ${n} tasks (first add → all completed)`, value: round(ms / 1000, 2), unit: 's' },
      { name: 'tasks/s', value: round(perSec), unit: '/s', note: base ? `${round((100 * perSec) / base)}% of baseline (8 slots vs 16)` : undefined },
      { name: 'storage requests / task', value: round(total / n, 3), unit: '', target: { op: '<=', value: 1.0 }, note: `table ${s.table}, queue ${s.queue}, blob ${s.blob}` },
    ];
    if (counts.failed > 0) metrics.push({ name: 'failed tasks', value: counts.failed, unit: '', note: 'expected 0' });
    return metrics;
  },
};

/** Deletes a pool and waits until it is gone (its nodes' cores count against the quota until then). */
async function deletePool(ctx: BenchContext, poolId: string): Promise<void> {
  try {
    await ctx.client.pool.deleteMethod(poolId);
    const deadline = Date.now() + 60_000;
    while ((await ctx.client.pool.exists(poolId)).body) {
      if (Date.now() > deadline) throw new Error('still there after 60 s');
      await sleep(250);
    }
    ctx.shared.pools.delete(poolId);
  } catch (err) {
    ctx.progress(`  skeleton: deleting ${poolId} failed (${(err as Error).message}); its agents stay until the end`);
  }
}
