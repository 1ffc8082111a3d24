/**
 * Scenario 3: with idle capacity (the 4 × 4 pool of scenario 2, all slots free), 200 single
 * tasks added one at a time (task.add, ~20 ms apart, never two adds overlapping) → submit-to-start
 * and submit-to-complete percentiles from each task's own timestamps: creationTime,
 * executionInfo.startTime and executionInfo.endTime, read with task.list at the end.
 */
import type { BenchContext, Metric, Scenario } from '../support';
import { ensurePool, now, percentile, round, sleep, taskId, waitAllCompleted } from '../support';
import { TP_POOL } from './throughput';

const JOB = 'bench-lat-job';
const SPACING_MS = 20;

export const latency: Scenario = {
  name: 'latency',
  title: '3. Latency: single tasks on idle capacity',
  async run(ctx: BenchContext): Promise<Metric[]> {
    const n = ctx.quick ? 20 : 200;
    await ensurePool(ctx, TP_POOL, 4, 4);
    await ctx.client.job.add({ id: JOB, poolInfo: { poolId: TP_POOL } });
    const addMs: number[] = [];
    const t0 = now();
    for (let i = 0; i < n; i++) {
      const wait = t0 + i * SPACING_MS - now();
      if (wait > 0) await sleep(wait);
      const a = now();
      await ctx.client.task.add(JOB, { id: taskId('l', i), commandLine: '/bin/true' });
      addMs.push(now() - a);
    }
    await waitAllCompleted(ctx.client, JOB, n, 120_000, 100);

    // taskcounts said all completed; the rows should agree. If some row still lacks its
    // timestamps, re-read for up to 10 s and report the lag (it is a consistency finding).
    const countsDoneAt = now();
    let toStart: number[] = [];
    let toEnd: number[] = [];
    let lagging: string | undefined;
    for (;;) {
      toStart = [];
      toEnd = [];
      lagging = undefined;
      let page = await ctx.client.task.list(JOB, { taskListOptions: { maxResults: 1000 } });
      for (;;) {
        for (const t of page) {
          const created = t.creationTime?.getTime();
          const started = t.executionInfo?.startTime?.getTime();
          const ended = t.executionInfo?.endTime?.getTime();
          if (created === undefined || started === undefined || ended === undefined) {
            lagging ??= `task ${t.id} is ${t.state} without creationTime/startTime/endTime: ${JSON.stringify({ creationTime: t.creationTime, executionInfo: t.executionInfo })}`;
            continue;
          }
          toStart.push(started - created);
          toEnd.push(ended - created);
        }
        if (!page.odatanextLink) break;
        page = await ctx.client.task.listNext(page.odatanextLink);
      }
      if (!lagging) break;
      if (now() - countsDoneAt > 10_000) throw new Error(`taskcounts reported ${n} completed, but 10 s later ${lagging}`);
      await sleep(200);
    }
    const rowLagMs = now() - countsDoneAt;
    if (toStart.length !== n) throw new Error(`listed ${toStart.length} tasks, expected ${n}`);
    const ms = (v: number): number => round(v, 0);
    ctx.progress(`  latency: submit→start p50 ${ms(percentile(toStart, 50))} ms, p99 ${ms(percentile(toStart, 99))} ms`);
    return [
      { name: `submit→start p50 (${n} tasks)`, value: ms(percentile(toStart, 50)), unit: 'ms', target: { op: '<=', value: 100 } },
      { name: 'submit→start p95', value: ms(percentile(toStart, 95)), unit: 'ms' },
      { name: 'submit→start p99', value: ms(percentile(toStart, 99)), unit: 'ms', target: { op: '<=', value: 500 } },
      { name: 'submit→complete p50', value: ms(percentile(toEnd, 50)), unit: 'ms' },
      { name: 'submit→complete p95', value: ms(percentile(toEnd, 95)), unit: 'ms' },
      { name: 'submit→complete p99', value: ms(percentile(toEnd, 99)), unit: 'ms' },
      { name: 'task.add round trip p50 / p99 (client)', value: ms(percentile(addMs, 50)), unit: 'ms', note: `p99 ${ms(percentile(addMs, 99))} ms` },
      ...(rowLagMs > 1000 ? [{ name: 'task rows behind taskcounts', value: ms(rowLagMs), unit: 'ms', note: 'a completed count before the rows showed it' }] : []),
    ];
  },
};
