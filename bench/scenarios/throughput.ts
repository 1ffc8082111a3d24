/**
 * Scenario 2: 10,000 `/bin/true` tasks (addtaskcollection, 100 per call, 8 calls in flight) on a
 * pool of 4 local nodes × 4 slots; tasks/s from the first add to the last completion (seen by
 * polling taskcounts every 200 ms; the polls count as part of the work), and the ratio to the
 * baseline. The baseline is measured again right after the run (the stack idle) and the ratio
 * uses the mean of the two, so a machine that got faster or slower during the run (a shared VM)
 * moves both sides of the ratio alike; both figures are shown. While it runs, the agents' VmRSS
 * is sampled (scenario 6 reports it) and the storage requests are counted (scenario 4 reports
 * them).
 */
import type { BenchContext, Metric, Scenario } from '../support';
import { spawnRate } from './baseline';
import { addTrueTasks, agentPids, azuritePid, ensurePool, listAllTasks, now, percentile, procCpuMs, round, rssKb, waitAllCompleted } from '../support';

export const TP_POOL = 'bench-tp';
export const TP_JOB = 'bench-tp-job';

export const throughput: Scenario = {
  name: 'throughput',
  title: '2. Throughput: 4 nodes × 4 slots, /bin/true',
  needs: ['baseline'],
  async run(ctx: BenchContext): Promise<Metric[]> {
    const n = ctx.quick ? 1000 : 10_000;
    await ensurePool(ctx, TP_POOL, 4, 4);
    await ctx.client.job.add({ id: TP_JOB, poolInfo: { poolId: TP_POOL } });

    const pids = await agentPids(ctx, TP_POOL);
    const perAgentPeakKb: Record<string, number> = {};
    const sampleRss = (): void => {
      for (const [nodeId, pid] of pids) {
        const kb = rssKb(pid);
        if (kb !== undefined) perAgentPeakKb[nodeId] = Math.max(perAgentPeakKb[nodeId] ?? 0, kb);
      }
    };
    const sampler = setInterval(sampleRss, 1000);

    // CPU time by process over the run: this process (host + polling client), Azurite, the
    // agents, and the agents' reaped children (the task processes).
    const az = azuritePid();
    const cpu = (): { host: number; azurite: number; agents: number; tasks: number } => {
      const u = process.cpuUsage();
      const a = az ? procCpuMs(az) : undefined;
      let agents = 0;
      let tasks = 0;
      for (const pid of pids.values()) {
        const c = procCpuMs(pid);
        agents += c?.self ?? 0;
        tasks += c?.children ?? 0;
      }
      return { host: (u.user + u.system) / 1000, azurite: a?.self ?? NaN, agents, tasks };
    };
    const counter = ctx.stack.rt.storage.counter;
    let addMs = 0;
    let counts;
    let elapsedMs;
    let storage;
    let calls;
    let cpu0;
    let cpu1;
    try {
      counter.reset();
      ctx.probe.reset();
      cpu0 = cpu();
      const t0 = now();
      const adding = addTrueTasks(ctx.client, TP_JOB, n, 't').then((ids) => {
        addMs = now() - t0;
        return ids;
      });
      // Poll while adding too, as a client watching the job would.
      const done = waitAllCompleted(ctx.client, TP_JOB, n, Math.max(300_000, n * 150), 200);
      await adding;
      counts = await done;
      elapsedMs = now() - t0;
      storage = counter.snapshot();
      calls = ctx.probe.snapshot();
      cpu1 = cpu();
      sampleRss();
    } finally {
      clearInterval(sampler);
    }

    const perSec = (n * 1000) / elapsedMs;
    const peaks = Object.values(perAgentPeakKb);
    ctx.shared.throughput = {
      poolId: TP_POOL,
      jobId: TP_JOB,
      tasks: n,
      storage,
      agentRss: peaks.length > 0 ? { peakKb: Math.max(...peaks), perAgentPeakKb } : undefined,
      elapsedMs,
      calls,
    };
    ctx.progress(`  throughput: ${n} tasks in ${(elapsedMs / 1000).toFixed(1)} s = ${round(perSec)} tasks/s (adds took ${(addMs / 1000).toFixed(1)} s)`);
    const before = ctx.shared.baselinePerSec;
    const after = before ? await spawnRate(ctx, 'after-throughput') : undefined;
    const base = before && after ? (before + after) / 2 : undefined;
    if (after) ctx.progress(`  baseline again after the run: ${round(after)} processes/s (before: ${round(before!)})`);
    const metrics: Metric[] = [
      { name: `tasks/s (${n} tasks, first add → last completion)`, value: round(perSec), unit: '/s', target: { op: '>=', value: 300 } },
      base
        ? { name: 'ratio to baseline', value: round((100 * perSec) / base), unit: '%', target: { op: '>=', value: 60 }, note: `baseline ${round(base)} /s: mean of ${round(before!)} (scenario 1) and ${round(after!)} (again right after this run)` }
        : { name: 'ratio to baseline', value: null, unit: '%', target: { op: '>=', value: 60 }, note: 'baseline not measured' },
      { name: 'elapsed', value: round(elapsedMs / 1000, 2), unit: 's' },
      { name: 'addtaskcollection rate (while running)', value: round((n * 1000) / addMs), unit: 'tasks/s' },
    ];
    if (counts.failed > 0) metrics.push({ name: 'failed tasks', value: counts.failed, unit: '', note: 'expected 0' });
    const per = (k: keyof typeof cpu0): number => round((cpu1[k] - cpu0[k]) / n, 2);
    metrics.push({
      name: 'CPU per task: host / Azurite / agents / task processes', value: per('host'), unit: 'ms',
      note: `${per('host')} / ${per('azurite')} / ${per('agents')} / ${per('tasks')} ms; ${round((cpu1.host - cpu0.host + cpu1.azurite - cpu0.azurite + cpu1.agents - cpu0.agents + cpu1.tasks - cpu0.tasks) / elapsedMs * 100)}% of one CPU in all`,
    });
    const tx = calls['*.transact'];
    if (tx) metrics.push({ name: 'table transaction p50 / p95', value: tx.p50Ms, unit: 'ms', note: `p95 ${tx.p95Ms} ms; ${tx.calls} transactions, ${tx.meanActions} actions each on average` });
    metrics.push(...(await diagnostics(ctx, n, elapsedMs)));
    return metrics;
  },
};

/**
 * Where the time went, from the tasks' own timestamps (read after the measurement): how long a
 * task ran on its node (agent-side start→end: mkdir, files, spawn, exit), how many of the 16
 * slots were busy on average, and how long a finished task waited before the control plane
 * recorded its completion (stateTransitionTime − executionInfo.endTime).
 */
async function diagnostics(ctx: BenchContext, n: number, elapsedMs: number): Promise<Metric[]> {
  const tasks = await listAllTasks(ctx.client, TP_JOB, 'id,creationTime,stateTransitionTime,executionInfo');
  const run: number[] = [];
  const report: number[] = [];
  let first = Infinity;
  let last = -Infinity;
  for (const t of tasks) {
    const s = t.executionInfo?.startTime?.getTime();
    const e = t.executionInfo?.endTime?.getTime();
    const done = t.stateTransitionTime?.getTime();
    if (s === undefined || e === undefined) continue;
    run.push(e - s);
    if (done !== undefined) report.push(done - e);
    first = Math.min(first, s);
    last = Math.max(last, e);
  }
  if (run.length < n) return [{ name: 'diagnostics', value: null, unit: '', note: `only ${run.length} of ${n} tasks had start/end times` }];
  const busy = run.reduce((a, b) => a + b, 0);
  return [
    { name: 'task run time on the node p50 / p95', value: round(percentile(run, 50), 0), unit: 'ms', note: `p95 ${round(percentile(run, 95), 0)} ms (agent-side start→end)` },
    { name: 'mean busy slots (of 16)', value: round(busy / elapsedMs, 1), unit: '', note: `first start→last end ${round((last - first) / 1000, 1)} s` },
    { name: 'end → completion recorded p50 / p95', value: round(percentile(report, 50), 0), unit: 'ms', note: `p95 ${round(percentile(report, 95), 0)} ms` },
  ];
}
