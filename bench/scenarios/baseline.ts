/**
 * Scenario 1: the machine's own process-spawning rate, the denominator of the throughput ratio.
 *
 * The figure is taken in a fresh Node process started like a local agent (bench/spawn-worker.ts),
 * spawning `/bin/true` exactly as agent/runner.ts does (mkdir, stdout/stderr files as fds 1/2,
 * detached spawn), 16 at once: the throughput pool's 4 nodes × 4 slots. For reference: the
 * agents' real shape (4 processes × 4 at once), a bare spawn, and the same loop inside the
 * benchmark process, whose RSS (it hosts the control plane) makes every fork slower.
 */
import path from 'node:path';
import type { BenchContext, Metric, Scenario } from '../support';
import { round, runWorker } from '../support';
import { spawnMany, type SpawnJob } from '../spawn-worker';

const WORKER = path.resolve(__dirname, '../spawn-worker.ts');

const worker = (job: SpawnJob): Promise<{ startMs: number; endMs: number; rssKb: number }> => runWorker(WORKER, job);

/** Processes/s over `processes` workers sharing `count` spawns, `perProcess` at once in each. */
async function measure(root: string, count: number, processes: number, perProcess: number, mode: SpawnJob['mode']): Promise<number> {
  const share = Math.ceil(count / processes);
  const runs = await Promise.all(Array.from({ length: processes }, (_, p) => worker({ count: share, concurrency: perProcess, root: path.join(root, `p${p}`), mode })));
  const ms = Math.max(...runs.map((r) => r.endMs)) - Math.min(...runs.map((r) => r.startMs));
  return (share * processes * 1000) / ms;
}

const spawnCount = (ctx: BenchContext): number => (ctx.quick ? 200 : 2000);

/** The baseline figure: spawnCount spawns, 16 at once, in one fresh agent-like process (also re-measured after scenario 2). */
export function spawnRate(ctx: BenchContext, dir: string): Promise<number> {
  return measure(path.join(ctx.dataDir, 'baseline', dir), spawnCount(ctx), 1, 16, 'agent');
}

export const baseline: Scenario = {
  name: 'baseline',
  title: '1. Baseline: /bin/true, agent’s process API',
  async run(ctx: BenchContext): Promise<Metric[]> {
    const count = spawnCount(ctx);
    const root = path.join(ctx.dataDir, 'baseline');
    const main = await spawnRate(ctx, 'main');
    const shaped = await measure(path.join(root, 'shaped'), count, 4, 4, 'agent');
    const plain = await measure(path.join(root, 'bare'), count, 1, 16, 'bare');
    const inCount = Math.ceil(count / 4);
    const rss = process.memoryUsage().rss / 2 ** 20;
    const r = await spawnMany({ count: inCount, concurrency: 16, root: path.join(root, 'inproc'), mode: 'agent' });
    const inProc = (inCount * 1000) / (r.endMs - r.startMs);
    ctx.shared.baselinePerSec = main;
    ctx.progress(`  baseline: ${round(main)} processes/s (4×4 processes: ${round(shaped)}, bare: ${round(plain)}, in the bench process: ${round(inProc)})`);
    return [
      { name: `processes/s (${count}, 16 at once, fresh agent-like process)`, value: round(main), unit: '/s', note: 'mkdir + 2 opens + detached spawn, as agent/runner.ts' },
      { name: 'processes/s, 4 processes × 4 at once', value: round(shaped), unit: '/s', note: 'the agents’ shape (reference)' },
      { name: 'processes/s, bare spawn (stdio ignored)', value: round(plain), unit: '/s', note: 'reference' },
      { name: `processes/s inside the bench process (${inCount})`, value: round(inProc), unit: '/s', note: `reference: parent RSS ${round(rss, 0)} MB makes fork slower` },
    ];
  },
};
