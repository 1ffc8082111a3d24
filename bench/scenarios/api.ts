/**
 * Scenario 5: 32 concurrent clients (each its own official client) cycling through get-task,
 * list-tasks (filter `state eq 'completed'`, maxResults 100, first page) and taskcounts for 30 s
 * against the job of scenario 2 → requests/s and p99 per operation. The clients run in a process
 * of their own (bench/api-worker.ts); the CPU the host process and Azurite spend per request is
 * measured over the same window, a figure that holds better than req/s on a shared machine.
 */
import path from 'node:path';
import type { ApiJob, ApiResult } from '../api-worker';
import { OPS } from '../api-worker';
import type { BenchContext, Metric, Scenario } from '../support';
import { azuritePid, percentile, procCpuMs, round, runWorker } from '../support';

const CLIENTS = 32;
const WORKER = path.resolve(__dirname, '../api-worker.ts');

const apiWorker = (job: ApiJob): Promise<ApiResult> => runWorker(WORKER, job);

export const api: Scenario = {
  name: 'api',
  title: '5. API: 32 concurrent clients',
  needs: ['throughput'],
  async run(ctx: BenchContext): Promise<Metric[]> {
    const tp = ctx.shared.throughput;
    if (!tp) throw new Error('scenario 2 (throughput) did not complete');
    const seconds = ctx.quick ? 5 : 30;
    const az = azuritePid();
    const u0 = process.cpuUsage();
    const a0 = az ? procCpuMs(az)?.self : undefined;
    const r = await apiWorker({ url: ctx.stack.url, accountName: ctx.stack.accountName, accountKey: ctx.stack.accountKey, jobId: tp.jobId, prefix: 't', tasks: tp.tasks, clients: CLIENTS, seconds });
    const u1 = process.cpuUsage(u0);
    const a1 = az ? procCpuMs(az)?.self : undefined;
    // The window includes the worker's start-up and warm-up; CPU per request is over all of it.
    const elapsed = r.elapsedMs / 1000;
    const total = OPS.reduce((s, op) => s + r.latencies[op].length, 0);
    const hostMs = (u1.user + u1.system) / 1000;
    ctx.progress(`  api: ${round(total / elapsed)} requests/s over ${round(elapsed)} s`);
    const metrics: Metric[] = [
      { name: `all operations (${CLIENTS} clients, ${seconds} s)`, value: round(total / elapsed), unit: 'req/s', note: 'clients in a separate process' },
      {
        name: 'host CPU per request', value: round(hostMs / total, 2), unit: 'ms',
        note: a0 !== undefined && a1 !== undefined ? `Azurite ${round((a1 - a0) / total, 2)} ms per request (incl. worker warm-up)` : undefined,
      },
    ];
    for (const op of OPS) {
      metrics.push({ name: op, value: round(r.latencies[op].length / elapsed), unit: 'req/s', note: `p50 ${round(percentile(r.latencies[op], 50), 0)} ms` });
      metrics.push({ name: `${op} p99`, value: round(percentile(r.latencies[op], 99), 0), unit: 'ms' });
    }
    const errs = OPS.reduce((s, op) => s + r.errors[op], 0);
    if (errs > 0) metrics.push({ name: 'errors', value: errs, unit: '', note: r.firstError });
    return metrics;
  },
};
