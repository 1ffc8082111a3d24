/**
 * Scenario 6: a job of 100,000 tasks on a pool with 0 nodes (nothing runs): time to add them
 * (addtaskcollection, 100 per call, 8 in flight), the first page of `state eq 'active'`
 * (maxResults 100), taskcounts latency (median of 20), with the storage requests of each read;
 * host RSS, i.e. process.memoryUsage().rss of THIS process, where the local Functions host runs
 * (the adding client runs in bench/add-worker.ts, so its memory is not counted; the reads that
 * follow come from this process; in a full run this is a bench process of its own with a fresh
 * stack, so nothing earlier scenarios left is counted); Azurite's RSS for reference; and the agents'
 * peak VmRSS sampled while they were busy in scenario 2. Baseline: Azurite's raw insert rate over
 * the same first tenth of rows (bench/storage-baseline.ts).
 */
import path from 'node:path';
import type { AddJob, AddResult } from '../add-worker';
import type { BenchContext, Metric, Scenario, ThroughputShared } from '../support';
import { rawInsertRate } from '../storage-baseline';
import { ensurePool, listProcesses, median, now, round, rssKb, runWorker } from '../support';

const POOL = 'bench-scale-pool';
const JOB = 'bench-scale-job';
const MB = 1024 * 1024;
const WORKER = path.resolve(__dirname, '../add-worker.ts');

export const scale: Scenario = {
  name: 'scale',
  title: '6. Scale: one job of 100,000 tasks, no nodes',
  ownProcess: true,
  async run(ctx: BenchContext): Promise<Metric[]> {
    const n = ctx.quick ? 10_000 : 100_000;
    await ensurePool(ctx, POOL, 0, 1);
    await ctx.client.job.add({ id: JOB, poolInfo: { poolId: POOL } });
    const raw = await rawInsertRate(ctx.stack.storageConnectionString, n / 10);
    ctx.progress(`  scale: storage baseline ${round(raw)} raw inserts/s over ${n / 10} rows of one partition`);
    const counter = ctx.stack.rt.storage.counter;
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 500);
    let added: AddResult;
    try {
      // The client adds from a process of its own: this process is then the host (and a few reads).
      const job: AddJob = { url: ctx.stack.url, accountName: ctx.stack.accountName, accountKey: ctx.stack.accountKey, jobId: JOB, count: n, prefix: 'x' };
      added = await runWorker<AddResult>(WORKER, job, (text) => ctx.progress(text.trimEnd()));
    } finally {
      clearInterval(sampler);
    }
    const { elapsedMs: addMs, tenths } = added;
    ctx.progress(`  scale: ${n} tasks added in ${(addMs / 1000).toFixed(1)} s`);

    const timed = async (f: () => Promise<unknown>): Promise<{ ms: number; requests: number }> => {
      const before = counter.snapshot();
      const a = now();
      await f();
      const ms = now() - a;
      const after = counter.snapshot();
      return { ms, requests: after.table - before.table + after.queue - before.queue + after.blob - before.blob };
    };
    const firstPage = (): Promise<unknown> =>
      ctx.client.task.list(JOB, { taskListOptions: { filter: "state eq 'active'", maxResults: 100 } }).then((p) => {
        if (p.length !== 100) throw new Error(`first page of active tasks has ${p.length} tasks, expected 100`);
      });
    const page1 = await timed(firstPage);
    const pages: { ms: number; requests: number }[] = [];
    for (let i = 0; i < 5; i++) pages.push(await timed(firstPage));
    const counts: { ms: number; requests: number }[] = [];
    let active = 0;
    for (let i = 0; i < 20; i++) {
      counts.push(
        await timed(async () => {
          active = (await ctx.client.job.getTaskCounts(JOB)).taskCounts.active;
        }),
      );
    }
    if (active !== n) throw new Error(`taskcounts says ${active} active, expected ${n}`);
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    // The live heap (after a full collection): the host's state plus what earlier scenarios left
    // in the bench. RSS stays at V8's high-water mark of committed heap for a while after it.
    const heapBefore = process.memoryUsage().heapUsed;
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const afterGc = process.memoryUsage();
    const azurite = listProcesses().find((p) => p.ppid === process.pid && p.args.includes('azurite'));
    const azuriteKb = azurite ? rssKb(azurite.pid) : undefined;
    // From scenario 2 in this process, or handed over by the parent bench process (ownProcess).
    const agents = ctx.shared.throughput?.agentRss ?? (JSON.parse(process.env.BENCH_AGENT_RSS ?? 'null') as ThroughputShared['agentRss'] | null) ?? undefined;

    const ms = (v: number): number => round(v, 1);
    return [
      { name: `add ${n} tasks`, value: round((n * 1000) / addMs), unit: 'tasks/s', target: { op: '>=', value: 1000 }, note: `${round(addMs / 1000, 1)} s; per tenth: ${tenths.join(', ')} tasks/s` },
      { name: `storage baseline: raw inserts, first ${n / 10} rows of a partition`, value: round(raw), unit: 'rows/s', note: 'Azurite alone, 100 per transaction, 8 in flight' },
      { name: 'first tenth of the adds vs that baseline', value: tenths[0] === undefined ? null : round((100 * tenths[0]) / raw), unit: '%' },
      { name: "first page of state eq 'active' (cold)", value: ms(page1.ms), unit: 'ms', target: { op: '<=', value: 200 }, note: `${page1.requests} storage requests` },
      { name: "first page of state eq 'active' (median of 5)", value: ms(median(pages.map((p) => p.ms))), unit: 'ms', target: { op: '<=', value: 200 }, note: `${median(pages.map((p) => p.requests))} storage requests` },
      { name: 'taskcounts (median of 20)', value: ms(median(counts.map((c) => c.ms))), unit: 'ms', target: { op: '<=', value: 20 }, note: `${median(counts.map((c) => c.requests))} storage requests` },
      {
        name: 'host RSS after the adds',
        value: round(rss / MB),
        unit: 'MB',
        target: { op: '<=', value: 300 },
        note: `in-process host (the adding client runs apart, ${added.clientRssMb} MB); peak ${round(peakRss / MB)} MB; JS heap used ${round(heapBefore / MB)} MB, ${gc ? `live after a full GC ${round(afterGc.heapUsed / MB)} MB (RSS then ${round(afterGc.rss / MB)} MB)` : 'run with --expose-gc for the live heap'}`,
      },
      { name: 'Azurite RSS (reference)', value: azuriteKb === undefined ? null : round(azuriteKb / 1024), unit: 'MB', note: 'in-memory storage, separate process' },
      agents
        ? { name: 'agent RSS (peak while busy, scenario 2)', value: round(agents.peakKb / 1024), unit: 'MB', target: { op: '<=', value: 100 }, note: `per agent: ${Object.values(agents.perAgentPeakKb).map((k) => round(k / 1024)).join(' / ')} MB` }
        : { name: 'agent RSS (peak while busy, scenario 2)', value: null, unit: 'MB', target: { op: '<=', value: 100 }, note: 'scenario 2 did not run' },
    ];
  },
};
