import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../agent/log';
import { runAgent, type AgentConfig, type AgentDeps, type RunningAgent } from '../../agent/main';
import type { AgentCommand, ExchangeRequest, ExchangeResponse, TaskAssignment, TaskCompletion } from '../../shared/nodes/protocol';

/** Plays the control plane's side of protocol.ts for one node. */
class FakeHost {
  readonly requests: (ExchangeRequest & { at: number; auth?: string })[] = [];
  readonly completions = new Map<string, TaskCompletion[]>(); // by key, every distinct claim applied
  readonly queue: TaskAssignment[] = [];
  readonly commands: AgentCommand[] = [];
  private readonly claimed = new Map<string, TaskAssignment[]>();
  private readonly applied = new Set<string>();
  private readonly waiters = new Set<() => void>();
  outstanding = 0;
  maxOutstanding = 0;
  /** Hand out this many tasks per exchange regardless of freeSlots (a misbehaving host). */
  overAssign = 0;
  /** Destroy the connection of this many exchanges that claimed tasks, after claiming. */
  dropAfterClaim = 0;
  /** Answer this many requests with this status first. */
  failWith: { status: number; count: number } = { status: 503, count: 0 };
  /** Re-send tasks of earlier exchanges (same claim) in later answers. */
  replayOld = false;
  private inFlight = 0;
  maxInFlight = 0;
  private server = http.createServer((req, res) => void this.handle(req, res));
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
  close(): Promise<void> {
    for (const w of this.waiters) w();
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
  add(tasks: TaskAssignment[]): void {
    this.queue.push(...tasks);
    for (const w of this.waiters) w();
  }
  command(c: AgentCommand): void {
    this.commands.push(c);
    for (const w of this.waiters) w();
  }
  completedKeys(): string[] {
    return [...this.completions.keys()];
  }
  async until(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out waiting for condition');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString()) as ExchangeRequest;
    this.requests.push({ ...body, at: Date.now(), auth: req.headers.authorization });
    if (req.url !== '/agent/v1/pools/pool1/nodes/node1/exchange' || req.headers.authorization !== 'BatchNode tok') {
      res.writeHead(401).end('{}');
      return;
    }
    if (this.failWith.count > 0) {
      this.failWith.count--;
      res.writeHead(this.failWith.status).end('{}');
      return;
    }
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      const acknowledged: string[] = [];
      for (const c of body.completions) {
        const key = `${c.jobId}/${c.taskId}`;
        if (!this.applied.has(`${key}#${c.claim}`)) {
          this.applied.add(`${key}#${c.claim}`);
          this.completions.set(key, [...(this.completions.get(key) ?? []), c]);
          this.outstanding--;
        }
        acknowledged.push(key);
      }
      let tasks = this.claimed.get(body.exchangeId);
      const deadline = Date.now() + body.waitMs;
      while (!tasks) {
        const n = this.overAssign || body.freeSlots;
        if ((n > 0 && this.queue.length > 0) || this.commands.length > 0 || Date.now() >= deadline) {
          tasks = this.queue.splice(0, n);
          this.claimed.set(body.exchangeId, tasks);
          this.outstanding += tasks.length;
          this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
          break;
        }
        await new Promise<void>((r) => {
          const t = setTimeout(r, deadline - Date.now());
          this.waiters.add(() => (clearTimeout(t), r()));
        });
      }
      if (tasks.length > 0 && this.dropAfterClaim > 0) {
        this.dropAfterClaim--;
        req.socket.destroy();
        return;
      }
      const replay = this.replayOld ? [...this.claimed.values()].flat().slice(0, 5) : [];
      const answer: ExchangeResponse = { tasks: [...tasks, ...replay], commands: this.commands.splice(0), acknowledged };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    } finally {
      this.inFlight--;
    }
  }
}

const root = mkdtempSync(path.join(tmpdir(), 'agent-client-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let host: FakeHost | undefined;
let agent: RunningAgent | undefined;
afterEach(async () => {
  await agent?.stop();
  await host?.close();
  agent = host = undefined;
});

let nodeRoot = '';
async function start(slots: number, deps: AgentDeps = {}): Promise<FakeHost> {
  host = await new FakeHost().start();
  nodeRoot = mkdtempSync(path.join(root, 'node-'));
  const config: AgentConfig = { controlUrl: host.url, token: 'tok', poolId: 'pool1', nodeId: 'node1', slots, rootDir: nodeRoot, accountName: 'acct', accountUrl: host.url };
  agent = await runAgent(config, { log: silentLogger, idleWaitMs: 300, killGraceMs: 200, stopFlushMs: 500, slowRetryMs: 100, ...deps });
  return host;
}
function tasks(n: number, commandLine: string, prefix = 't'): TaskAssignment[] {
  return Array.from({ length: n }, (_, i) => ({
    jobId: 'job1', taskId: `${prefix}${i}`, claim: `claim-${prefix}${i}`, retryCount: 0, commandLine, resourceFiles: [], environment: {}, requiredSlots: 1,
  }));
}
const RECORD_RUN = `/bin/bash -c 'echo $AZ_BATCH_TASK_ID >> $AZ_BATCH_NODE_SHARED_DIR/runs.log'`;
const runsLog = (): string[] => readFileSync(path.join(nodeRoot, 'shared', 'runs.log'), 'utf8').trim().split('\n');

describe('exchange loop against a fake control plane', () => {
  it('boots, runs every task once and gets every completion acknowledged', async () => {
    const h = await start(4);
    h.add(tasks(60, RECORD_RUN));
    await h.until(() => h.completions.size === 60);
    expect(h.requests[0]).toMatchObject({ boot: true, attempt: 1, waitMs: 0, auth: 'BatchNode tok', agentVersion: expect.any(String) });
    expect(h.requests.slice(1).every((r) => r.boot === undefined)).toBe(true);
    expect([...h.completions.values()].every((cs) => cs.length === 1 && cs[0]?.result === 'success' && cs[0].exitCode === 0)).toBe(true);
    expect(runsLog().sort()).toEqual(tasks(60, '').map((t) => t.taskId).sort());
    expect(h.maxOutstanding).toBeLessThanOrEqual(4);
    expect(h.requests.every((r) => r.freeSlots <= 4 && r.waitMs <= 30_000)).toBe(true);
    await h.until(() => agent!.stats.completionsAcknowledged === 60);
  });

  it('retries the same exchangeId after a dropped connection and never runs a task twice', async () => {
    const h = await start(3, { coalesceMs: 1 });
    h.dropAfterClaim = 4;
    h.replayOld = true;
    h.add(tasks(30, RECORD_RUN));
    await h.until(() => h.completions.size === 30);
    const retried = h.requests.filter((r) => r.attempt > 1);
    expect(retried.length).toBeGreaterThanOrEqual(4);
    for (const r of retried) {
      const first = h.requests.find((q) => q.exchangeId === r.exchangeId && q.attempt === 1);
      expect(first).toBeDefined();
      expect(r.completions).toEqual(first!.completions);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(runsLog().length).toBe(30);
    expect(new Set(runsLog()).size).toBe(30);
    expect([...h.completions.values()].every((cs) => cs.length === 1)).toBe(true);
  });

  it('retries through 5xx and 401 answers', async () => {
    const h = await start(2);
    h.failWith = { status: 503, count: 5 };
    h.add(tasks(4, '/bin/true'));
    await h.until(() => h.completions.size === 4);
    h.failWith = { status: 401, count: 2 };
    h.add(tasks(2, '/bin/true', 'u'));
    await h.until(() => h.completions.size === 6);
    expect(h.requests[0]?.exchangeId).toBe(h.requests[5]?.exchangeId);
    expect(h.requests[5]?.attempt).toBe(6);
  });

  it('keeps within the node slots even when the host over-assigns', async () => {
    let running = 0;
    let maxRunning = 0;
    const h = await start(2, { onTaskEvent: (e) => { running += e.kind === 'start' ? 1 : -1; maxRunning = Math.max(maxRunning, running); } });
    h.overAssign = 5;
    h.add(tasks(10, `sleep 0.1`));
    await h.until(() => h.completions.size === 10);
    expect(maxRunning).toBe(2);
    const spans = [...h.completions.values()].map(([c]) => [Date.parse(c!.startTime), Date.parse(c!.endTime)] as const);
    const overlapAt = (t: number): number => spans.filter(([s, e]) => s <= t && t < e).length;
    expect(Math.max(...spans.map(([s]) => overlapAt(s)))).toBeLessThanOrEqual(2);
    expect(h.requests.every((r) => r.running.length <= 10)).toBe(true);
  });

  it('reports a completion while a long poll is held, without over-offering slots', async () => {
    const h = await start(3, { idleWaitMs: 5000 });
    h.add(tasks(1, 'sleep 0.3'));
    await h.until(() => h.completions.size === 1);
    const report = h.requests.find((r) => r.completions.length === 1)!;
    expect(report.waitMs).toBe(0);
    expect(h.maxInFlight).toBe(2); // the held long poll and the report
    const concurrent = h.requests.filter((r) => r.at <= report.at && r.waitMs > 0).at(-1)!;
    expect(concurrent.freeSlots + report.freeSlots).toBeLessThanOrEqual(3);
    expect(Date.parse(report.completions[0]!.endTime)).toBeGreaterThan(0);
    expect(report.at - Date.parse(report.completions[0]!.endTime)).toBeLessThan(1500); // not held behind the 5 s long poll
  });

  it('terminates a task on command and shuts down on command', async () => {
    const h = await start(2);
    h.add(tasks(1, 'sleep 30', 'long'));
    await h.until(() => h.requests.some((r) => r.running.includes('job1/long0')));
    await new Promise((r) => setTimeout(r, 300)); // let the process start (a task ended while preparing has no exit code)
    h.command({ kind: 'terminateTask', jobId: 'job1', taskId: 'long0' });
    await h.until(() => h.completions.size === 1);
    expect(h.completions.get('job1/long0')?.[0]).toMatchObject({ result: 'failure', exitCode: 143, failureInfo: { code: 'TaskEnded' } });
    h.add(tasks(1, 'sleep 30', 'other'));
    await h.until(() => h.requests.some((r) => r.running.includes('job1/other0')));
    h.command({ kind: 'shutdown' });
    await agent!.done;
    expect(h.completions.get('job1/other0')?.[0]).toMatchObject({ result: 'failure', failureInfo: { code: 'TaskEnded' } });
  });

  it('heartbeats while idle and sends usage', async () => {
    const h = await start(1, { idleWaitMs: 100, usageIntervalMs: 150 });
    await new Promise((r) => setTimeout(r, 800));
    const polls = h.requests.filter((r) => r.waitMs === 100);
    expect(polls.length).toBeGreaterThanOrEqual(3);
    const usage = h.requests.find((r) => r.usage)?.usage;
    expect(usage).toMatchObject({ cpuPercent: expect.any(Number), memoryBytes: expect.any(Number) });
    expect(usage!.memoryBytes).toBeGreaterThan(0);
  });

  it('measures /bin/true throughput through the loop', async () => {
    const n = 400;
    const slots = Number(process.env.AGENT_BENCH_SLOTS ?? 8);
    const h = await start(slots, { idleWaitMs: 8000 });
    const t0 = Date.now();
    h.add(tasks(n, '/bin/true'));
    await h.until(() => h.completions.size === n, 60_000);
    const seconds = (Date.now() - t0) / 1000;
    const exchanges = h.requests.length;
    console.log(`agent throughput: ${n} x /bin/true, ${slots} slots: ${(n / seconds).toFixed(0)} tasks/s, ${exchanges} exchanges, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB (test process)`);
    expect([...h.completions.values()].every(([c]) => c?.result === 'success')).toBe(true);
    expect(h.maxOutstanding).toBeLessThanOrEqual(slots);
  });

  it('runs as a process configured by AGENT_ENV and stops on SIGTERM', async () => {
    host = await new FakeHost().start();
    const env = {
      PATH: process.env.PATH, BATCHPLANE_CONTROL_URL: host.url, BATCHPLANE_NODE_TOKEN: 'tok', BATCHPLANE_TASK_SLOTS: '2',
      AZ_BATCH_ACCOUNT_NAME: 'acct', AZ_BATCH_ACCOUNT_URL: host.url, AZ_BATCH_POOL_ID: 'pool1', AZ_BATCH_NODE_ID: 'node1',
      AZ_BATCH_NODE_ROOT_DIR: mkdtempSync(path.join(root, 'proc-')),
    };
    const run = (e: Record<string, string | undefined>) => {
      const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'agent/main.ts'], { cwd: path.resolve(__dirname, '../..'), env: e, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      return { child, exited, stderr: () => stderr };
    };
    expect(await run({ ...env, BATCHPLANE_NODE_TOKEN: undefined }).exited).toBe(2);
    const p = run(env);
    host.add(tasks(3, '/bin/true', 'p'));
    await host.until(() => host!.completions.size === 3);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toContain('"msg":"agent started"');
    expect(p.stderr()).toContain('"msg":"agent stopped"');
  });
});
