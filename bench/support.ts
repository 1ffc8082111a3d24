/**
 * What every scenario shares: the context (stack, official client, sizes), metrics with targets,
 * timing and percentile helpers, bounded concurrency, pool set-up and /proc readers.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { BatchServiceClient, BatchServiceModels } from '@azure/batch';
import type { Stack } from '../infra/local/stack';
import type { ProbeStats, StorageProbe } from './probe';

export const IMAGE = {
  imageReference: { publisher: 'canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts', version: 'latest' },
  nodeAgentSKUId: 'batch.node.ubuntu 22.04',
};

/** A target from issue 7: `value op bound`, shown with ✓/✗ and never asserted. */
export interface Target {
  op: '>=' | '<=';
  value: number;
}

export interface Metric {
  name: string;
  /** null when the figure could not be measured (see note). */
  value: number | null;
  unit: string;
  target?: Target;
  note?: string;
}

export interface ThroughputShared {
  poolId: string;
  jobId: string;
  /** How many tasks; their ids are `t000000`, `t000001`, … */
  tasks: number;
  storage: { table: number; queue: number; blob: number };
  agentRss: { peakKb: number; perAgentPeakKb: Record<string, number> } | undefined;
  elapsedMs: number;
  /** Table call latencies during the run (bench/probe.ts). */
  calls: Record<string, ProbeStats>;
}

export interface BenchContext {
  stack: Stack;
  client: BatchServiceClient;
  /** A new official client (own HTTP pipeline), as a separate caller would have. */
  newClient(): BatchServiceClient;
  dataDir: string;
  quick: boolean;
  probe: StorageProbe;
  /** Progress lines (stderr, so stdout carries only the table). */
  progress(message: string): void;
  /** Figures one scenario leaves for later ones. */
  shared: { baselinePerSec?: number; throughput?: ThroughputShared; pools: Map<string, { nodes: number; slots: number }> };
}

export interface Scenario {
  name: string;
  title: string;
  /** Scenarios whose figures this one needs (run first, even with --only). */
  needs?: string[];
  /**
   * Runs in a bench process of its own, with its own fresh stack, when other scenarios run too
   * (bench/run.ts): its memory figures are then the host's for this scenario alone.
   */
  ownProcess?: boolean;
  run(ctx: BenchContext): Promise<Metric[]>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const now = (): number => performance.now();

/** Nearest-rank percentile of unsorted values (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

/** Runs `work(i)` for i in 0..count-1 with at most `limit` in flight; rejects on the first failure. */
export async function inParallel(count: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const lane = async (): Promise<void> => {
    while (failed === undefined && next < count) {
      const i = next++;
      try {
        await work(i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  if (failed !== undefined) throw failed;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const taskId = (prefix: string, i: number): string => `${prefix}${String(i).padStart(6, '0')}`;

/**
 * Adds `count` `/bin/true` tasks with addtaskcollection, `perCall` per call, `inFlight` calls at
 * a time. Throws if any task is not added. Returns the ids.
 */
export async function addTrueTasks(client: BatchServiceClient, jobId: string, count: number, prefix = 't', onCall?: (done: number) => void, perCall = 100, inFlight = 8): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => taskId(prefix, i));
  const calls = Math.ceil(count / perCall);
  let done = 0;
  await inParallel(calls, inFlight, async (c) => {
    const value = ids.slice(c * perCall, (c + 1) * perCall).map((id) => ({ id, commandLine: '/bin/true' }));
    const res = await client.task.addCollection(jobId, value);
    const bad = (res.value ?? []).filter((r) => r.status !== 'success');
    if (bad.length > 0) throw new Error(`addtaskcollection: ${bad.length} of ${value.length} not added (${bad[0]!.taskId}: ${bad[0]!.error?.code ?? bad[0]!.status})`);
    onCall?.(++done);
  });
  return ids;
}

/**
 * A pool of `nodes` local nodes with `slots` task slots each (vmSize Standard_D4s_v3), reused when
 * an earlier scenario created it; resolves once every node is idle.
 */
export async function ensurePool(ctx: BenchContext, poolId: string, nodes: number, slots: number): Promise<void> {
  const known = ctx.shared.pools.get(poolId);
  if (known && (known.nodes !== nodes || known.slots !== slots)) throw new Error(`pool ${poolId} exists with another shape`);
  if (!known) {
    await ctx.client.pool.add({ id: poolId, vmSize: 'Standard_D4s_v3', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: nodes, taskSlotsPerNode: slots });
    ctx.shared.pools.set(poolId, { nodes, slots });
  }
  if (nodes === 0) return;
  const t0 = now();
  let seen = 'no nodes listed';
  try {
    await waitFor(
      `${nodes} idle nodes in ${poolId}`,
      async () => {
        const list = await ctx.client.computeNode.list(poolId);
        seen = list.map((n) => `${n.id}: ${n.state}`).join(', ') || 'no nodes listed';
        const bad = list.find((n) => n.state === 'unusable' || n.state === 'starttaskfailed');
        if (bad) throw new Error(`node ${bad.id} of ${poolId} is ${bad.state}`);
        if (list.length < nodes && list.every((n) => n.state === 'idle')) {
          const pool = await ctx.client.pool.get(poolId);
          const e = pool.resizeErrors?.[0];
          if (pool.allocationState === 'steady' && e) throw new Error(`pool ${poolId} is steady with ${list.length} of ${nodes} nodes: ${e.code}: ${e.message}`);
        }
        return list.length === nodes && list.every((n) => n.state === 'idle');
      },
      120_000,
      250,
    );
  } catch (err) {
    const pool = await ctx.client.pool.get(poolId).catch(() => undefined);
    throw new Error(`${(err as Error).message} (pool ${pool?.state}/${pool?.allocationState}, ${pool?.currentDedicatedNodes} nodes; ${seen})`);
  }
  if (!known) ctx.progress(`  pool ${poolId}: ${nodes} nodes idle after ${((now() - t0) / 1000).toFixed(1)} s`);
}

/** Waits until every task of the job is completed; returns the last counts. */
export async function waitAllCompleted(client: BatchServiceClient, jobId: string, total: number, timeoutMs: number, everyMs = 200): Promise<{ completed: number; succeeded: number; failed: number }> {
  return waitFor(
    `${total} completed tasks in ${jobId}`,
    async () => {
      const c = (await client.job.getTaskCounts(jobId)).taskCounts;
      return c.completed >= total ? c : undefined;
    },
    timeoutMs,
    everyMs,
  );
}

/** VmRSS of a process in kB, undefined when it is gone. */
export function rssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The local agents' pids of a pool (from the node rows). */
export async function agentPids(ctx: BenchContext, poolId: string): Promise<Map<string, number>> {
  const rows = await ctx.stack.rt.nodes.listByPool(poolId);
  const out = new Map<string, number>();
  for (const r of rows) {
    const pid = Number(r.value.provider.pid ?? 0);
    if (pid > 0) out.set(r.value.id, pid);
  }
  return out;
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  cwd: string;
  args: string;
}

/** Every process of this machine that can be read (the final leftover check). */
export function listProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        /* not ours to read */
      }
      out.push({ pid, ppid, cwd, args });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

export const round = (v: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/** Every task of a job (following odata.nextLink), 1,000 per page. */
export async function listAllTasks(client: BatchServiceClient, jobId: string, select?: string): Promise<BatchServiceModels.CloudTask[]> {
  const out: BatchServiceModels.CloudTask[] = [];
  let page = await client.task.list(jobId, { taskListOptions: { maxResults: 1000, ...(select ? { select } : {}) } });
  for (;;) {
    out.push(...page);
    if (!page.odatanextLink) return out;
    page = await client.task.listNext(page.odatanextLink);
  }
}

/** CPU time of a process from /proc (ms): its own, and that of its reaped children. */
export function procCpuMs(pid: number): { self: number; children: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    // Fields 14–17 of stat (utime, stime, cutime, cstime) are at 11–14 after the command; 100 ticks/s.
    return { self: (f[11]! + f[12]!) * 10, children: (f[13]! + f[14]!) * 10 };
  } catch {
    return undefined;
  }
}

/** The Azurite process this run started (a child of this process). */
export function azuritePid(): number | undefined {
  return listProcesses().find((p) => p.ppid === process.pid && p.args.includes('azurite'))?.pid;
}

/**
 * The worker side of {@link runWorker}: when `mod` is the entry module, runs `run` on the JSON
 * argument and prints its result as one JSON line (exit 1 with the error on stderr on failure).
 */
export function workerMain<J, R>(mod: NodeJS.Module, run: (job: J) => Promise<R>): void {
  if (require.main !== mod) return;
  run(JSON.parse(process.argv[2] ?? '{}') as J).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}

/**
 * Runs a TypeScript worker (`file`, through tsx) in a fresh Node process with `job` as its JSON
 * argument; resolves with the JSON of its last stdout line.
 */
export function runWorker<T>(file: string, job: unknown, onStderr?: (text: string) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), file, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      onStderr?.(c.toString());
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${path.basename(file)} exited with ${code}: ${err.trim().slice(0, 300)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}
