/**
 * `npm run bench [-- --quick] [--only a,b] [--json path]`: starts a fresh local stack (temp data
 * dir, free ports, in-memory Azurite), runs the scenarios, prints one table on stdout (progress on
 * stderr) and writes the figures to bench/results/. See bench/scenarios/*.ts for what each measures.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import { startStack, type Stack } from '../infra/local/stack';
import { startSilentAzurite, type BenchAzurite } from './azurite';
import { StorageProbe } from './probe';
import { profiled } from './profile';
import { renderTable, writeReport, type BenchReport, type ScenarioResult } from './report';
import { api } from './scenarios/api';
import { autoscale } from './scenarios/autoscale';
import { baseline } from './scenarios/baseline';
import { latency } from './scenarios/latency';
import { scale } from './scenarios/scale';
import { skeleton } from './scenarios/skeleton';
import { storage } from './scenarios/storage';
import { throughput } from './scenarios/throughput';
import { listProcesses, now, type BenchContext, type Scenario } from './support';

/** Run order: dependencies first; latency and api reuse scenario 2's pool/job, scale comes last. */
const SCENARIOS: Scenario[] = [baseline, autoscale, skeleton, throughput, storage, latency, api, scale];

interface Options {
  only?: string;
  quick?: boolean;
  json?: string;
  stackAzurite?: boolean;
  profile?: string;
  child?: string;
}

function select(only: string | undefined): Scenario[] {
  if (!only) return SCENARIOS;
  const wanted = new Set(only.split(',').map((s) => s.trim()).filter(Boolean));
  const unknown = [...wanted].filter((w) => !SCENARIOS.some((s) => s.name === w));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const withNeeds = (name: string): void => {
    wanted.add(name);
    for (const d of SCENARIOS.find((s) => s.name === name)!.needs ?? []) if (!wanted.has(d)) withNeeds(d);
  };
  for (const name of [...wanted]) withNeeds(name);
  return SCENARIOS.filter((s) => wanted.has(s.name));
}

function machine(loadAtStart: number[]): BenchReport['machine'] {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (dirty) commit += '+changes';
  } catch {
    /* not a git checkout */
  }
  const cpus = os.cpus();
  return { cpus: cpus.length, cpuModel: cpus[0]?.model.trim() ?? 'unknown', memoryMB: Math.round(os.totalmem() / 2 ** 20), node: process.versions.node, platform: `${os.platform()} ${os.release()}`, commit, loadAverage: { start: loadAtStart, end: os.loadavg().map((l) => Math.round(l * 100) / 100) } };
}

/** Processes this run left behind: anything under its data dir (agents, tasks) or a child of ours. */
function psCheck(dataDir: string): BenchReport['psCheck'] {
  const all = listProcesses();
  // Children of ours other than tsx's own esbuild service count too (Azurite, spawn workers).
  const ours = (p: (typeof all)[number]): boolean => p.cwd.startsWith(dataDir) || (p.ppid === process.pid && !p.args.includes('esbuild'));
  const left = all.filter((p) => p.pid !== process.pid && ours(p));
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const agents = left.filter((p) => p.args.includes('agent/main.ts')).length;
  const line = left.length === 0
    ? `ps check: clean — no agent, task or Azurite process left (${all.length} processes scanned, none under ${dataDir} or child of pid ${process.pid})`
    : `ps check: ${left.length} process(es) LEFT BEHIND (${agents} agents), killed: ${left.map((p) => `${p.pid} ${p.args.slice(0, 80)}`).join('; ')}`;
  return { clean: left.length === 0, line, leftovers: left.map((p) => ({ pid: p.pid, args: p.args })) };
}

async function main(): Promise<number> {
  const program = new Command()
    .name('bench')
    .description('batchplane benchmarks against the machine’s own baseline')
    .option('--only <names>', `comma-separated scenarios (${SCENARIOS.map((s) => s.name).join(', ')}); dependencies are added`)
    .option('--quick', 'smaller sizes (1/10) for a smoke run')
    .option('--json <path>', 'also write the JSON report to this path')
    .option('--profile <names>', 'CPU-profile the bench process (host + client) while these scenarios run → bench/results/profiles/')
    .option('--stack-azurite', 'let startStack launch Azurite (access log on, read by the host) instead of the bench’s silent one')
    .option('--child <path>', 'internal: run as the own process of a scenario and write the report JSON only there')
    .parse(process.argv);
  const opts = program.opts<Options>();
  const chosen = select(opts.only);
  /** Scenarios run in a bench process of their own (only when others run too, and never from one). */
  const apart = (sc: Scenario): boolean => !!sc.ownProcess && chosen.length > 1 && !opts.child;
  const quick = Boolean(opts.quick);
  const profileSet = new Set((opts.profile ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  const startedAt = new Date();
  const loadAtStart = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const progress = (m: string): void => void process.stderr.write(`${m}\n`);

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bp-bench-'));
  const hostLog = { warnings: 0, errors: 0, first: [] as string[] };
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A fresh stack: nothing from the caller's environment may point it at other storage or endpoints.
  for (const k of ['BATCHPLANE_STORAGE_CONNECTION_STRING', 'BATCHPLANE_PUBLIC_URL', 'BATCHPLANE_EVENTHUBS_CONNECTION_STRING', 'APPLICATIONINSIGHTS_CONNECTION_STRING']) delete env[k];
  progress(`bench: starting a local stack in ${dataDir} (${chosen.map((s) => s.name).join(', ')}${quick ? ', --quick' : ''})`);
  const results: ScenarioResult[] = [];
  let stack: Stack | undefined;
  let azurite: BenchAzurite | undefined;
  let details: BenchContext['shared'] | undefined;
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await stack?.close().catch((err: unknown) => progress(`bench: closing the stack failed: ${String(err)}`));
    await azurite?.stop();
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      progress(`bench: ${sig}, stopping the stack`);
      void stop().then(() => {
        progress(psCheck(dataDir).line);
        process.exit(130);
      });
    });
  }
  try {
    if (!opts.stackAzurite) azurite = await startSilentAzurite();
    stack = await startStack({
      port: 0,
      dataDir,
      azurite: { blobPort: 0, queuePort: 0, tablePort: 0, inMemory: true },
      storageConnectionString: azurite?.connectionString,
      env,
      log: (level, message) => {
        if (level === 'info') return;
        if (level === 'warn') hostLog.warnings++;
        else hostLog.errors++;
        if (hostLog.first.length < 10) hostLog.first.push(`${level}: ${message.slice(0, 300)}`);
      },
    });
    const s = stack;
    const newClient = (): BatchServiceClient => new BatchServiceClient(new BatchSharedKeyCredentials(s.accountName, s.accountKey), s.url, { noRetryPolicy: true });
    const ctx: BenchContext = { stack: s, client: newClient(), newClient, dataDir, quick, progress, probe: new StorageProbe(s.rt.storage), shared: { pools: new Map() } };
    details = ctx.shared;
    for (const sc of chosen) {
      progress(`bench: ${sc.title}`);
      const t0 = now();
      try {
        if (apart(sc)) {
          results.push({ ...(await inOwnProcess(sc, ctx, opts)), durationMs: Math.round(now() - t0) });
          continue;
        }
        const metrics = profileSet.has(sc.name) ? await profiled(sc.name, path.resolve(__dirname, 'results/profiles'), () => sc.run(ctx), progress) : await sc.run(ctx);
        results.push({ name: sc.name, title: sc.title, status: 'ok', durationMs: Math.round(now() - t0), metrics });
      } catch (err) {
        progress(`bench: ${sc.name} FAILED: ${errorText(err)}\n${(err as Error).stack ?? ''}`);
        results.push({ name: sc.name, title: sc.title, status: 'failed', durationMs: Math.round(now() - t0), metrics: [], error: errorText(err) });
      }
    }
  } catch (err) {
    progress(`bench: the stack did not start: ${(err as Error).stack ?? String(err)}`);
    results.push({ name: 'stack', title: 'Local stack', status: 'failed', durationMs: 0, metrics: [], error: (err as Error).message });
  } finally {
    progress('bench: stopping the stack');
    await stop();
  }
  const ps = psCheck(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
  const report: BenchReport = {
    date: startedAt.toISOString().slice(0, 10),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options: { quick, only: opts.only ? chosen.map((s) => s.name) : null },
    machine: machine(loadAtStart),
    stack: { azurite: `Azurite 3.35.0, in-memory, separate process, ${opts.stackAzurite ? 'launched by startStack (access log read by the host)' : 'launched by bench/azurite.ts (--silent)'}`, host: `local Functions host in the bench process (free port), local node provider${chosen.some(apart) ? `; ${chosen.filter(apart).map((c) => c.name).join(', ')} in a bench process of its own with a fresh stack` : ''}` },
    scenarios: results,
    details: {
      throughputTableCalls: details?.throughput?.calls,
      throughputStorageRequests: details?.throughput?.storage,
      agentRssPeakKb: details?.throughput?.agentRss?.perAgentPeakKb,
    },
    hostLog,
    psCheck: ps,
  };
  if (opts.child) {
    writeFileSync(opts.child, JSON.stringify(report));
    return results.some((r) => r.status === 'failed') ? 1 : 0;
  }
  for (const l of hostLog.first.slice(0, 3)) progress(`host log: ${l}`);
  const written = writeReport(report, path.resolve(__dirname, 'results'), opts.json);
  console.log(renderTable(report));
  progress(`bench: wrote ${written.map((p) => path.relative(process.cwd(), p)).join(', ')}`);
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);

/**
 * Runs one scenario in a bench process of its own (`--only <name> --child <json>`, with a fresh
 * stack): its host has served nothing else, so its memory figures are that scenario's. Figures of
 * earlier scenarios it reports (the agents' RSS of scenario 2) are handed over in the environment.
 */
async function inOwnProcess(sc: Scenario, ctx: BenchContext, opts: Options): Promise<ScenarioResult> {
  const out = path.join(ctx.dataDir, `${sc.name}-report.json`);
  const args = ['--expose-gc', '--require', require.resolve('tsx/cjs'), __filename, '--only', sc.name, '--child', out, ...(opts.quick ? ['--quick'] : [])];
  const env = { ...process.env, BENCH_AGENT_RSS: JSON.stringify(ctx.shared.throughput?.agentRss ?? null) };
  ctx.progress(`  ${sc.name}: in a bench process of its own, with a fresh stack`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  let report: BenchReport;
  try {
    report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
  } catch {
    throw new Error(`the ${sc.name} process exited with ${code} and wrote no report`);
  }
  const r = report.scenarios.find((x) => x.name === sc.name);
  if (!r) throw new Error(`the ${sc.name} process did not run it: ${report.scenarios.map((x) => `${x.name} ${x.error ?? x.status}`).join('; ')}`);
  if (!report.psCheck.clean) ctx.progress(`  ${sc.name}: ${report.psCheck.line}`);
  return r;
}

/** A failure as one line of text (REST errors of the official client carry their body in `body` and an object in `message`). */
function errorText(err: unknown): string {
  const e = err as { message?: unknown; body?: unknown; statusCode?: number };
  if (typeof e?.message === 'string' && e.message !== '[object Object]') return e.message;
  const body = e?.body ?? e?.message;
  return `${e?.statusCode ?? ''} ${typeof body === 'string' ? body : JSON.stringify(body)}`.trim() || String(err);
}
