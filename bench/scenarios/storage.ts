/**
 * Scenario 4: storage requests per task over scenario 2, counted by the control plane's own
 * storage clients (`rt.storage.counter`: a pipeline policy for tables, the send wrapper for
 * queues and blobs), reset before the first add and read after the last completion. Everything
 * the control plane did meanwhile counts: adds, assignments, completions, taskcounts polls,
 * timers.
 */
import type { BenchContext, Metric, Scenario } from '../support';
import { round } from '../support';

export const storage: Scenario = {
  name: 'storage',
  title: '4. Storage requests per task (over scenario 2)',
  needs: ['throughput'],
  async run(ctx: BenchContext): Promise<Metric[]> {
    const tp = ctx.shared.throughput;
    if (!tp) throw new Error('scenario 2 (throughput) did not complete');
    const { table, queue, blob } = tp.storage;
    const per = (v: number): number => round(v / tp.tasks, 3);
    return [
      { name: 'table requests / task', value: per(table), unit: '', note: `${table} in all` },
      { name: 'queue requests / task', value: per(queue), unit: '', note: `${queue} in all` },
      { name: 'blob requests / task', value: per(blob), unit: '', note: `${blob} in all` },
      { name: `all requests / task (${tp.tasks} tasks)`, value: per(table + queue + blob), unit: '', target: { op: '<=', value: 1.0 } },
    ];
  },
};
