import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventHubsSink } from '../../shared/events/eventhubs-sink';
import { buildRecords, type SinkRecord } from '../../shared/events/records';
import { startLocalEventHubs, type LocalEventHubs } from '../../infra/local/eventhubs';
import { sampleEvent } from '../support/service-logs';

const ROOT = resolve(__dirname, '../..');
const RID = '/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.BATCH/BATCHACCOUNTS/CLI';
const dir = mkdtempSync(join(tmpdir(), 'bp-cli-'));
let eh: LocalEventHubs;
let cs: string;
let sink: EventHubsSink;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the npm bin as a user would (`node <bin>`), asynchronously: the endpoint lives in this process. */
function run(bin: string, args: string[], opts: { env?: NodeJS.ProcessEnv; onOutput?: (out: string, interrupt: () => void) => void } = {}): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, BATCHPLANE_EVENTHUBS_CONNECTION_STRING: '', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onOutput?.(stdout, () => child.kill('SIGINT'));
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

function records(job: string, at: number): SinkRecord[] {
  const t = (s: number): string => new Date(at + s * 1000).toISOString();
  const rows = [
    { rowKey: `~o~${at}a`, events: [sampleEvent('PoolCreateEvent', t(0), { pool: 'cli-pool' }), sampleEvent('PoolResizeStartEvent', t(0), { pool: 'cli-pool' })] },
    { rowKey: `~o~${at}b`, events: [sampleEvent('PoolResizeCompleteEvent', t(2), { pool: 'cli-pool' })] },
  ];
  const tasks = [{ rowKey: `!o!${at}c`, events: [sampleEvent('TaskStartEvent', t(1), { job, task: 't1', pool: 'cli-pool' }), sampleEvent('TaskFailEvent', t(3), { job, task: 't1', pool: 'cli-pool' })] }];
  return [...buildRecords({ table: 'pools', partitionKey: 'pool' }, rows, RID), ...buildRecords({ table: 'tasks', partitionKey: job }, tasks, RID)];
}

beforeAll(async () => {
  eh = await startLocalEventHubs({ port: 0, hubs: [{ name: 'batchplane-servicelogs', partitionCount: 4 }] });
  cs = eh.connectionString('batchplane-servicelogs');
  sink = new EventHubsSink(cs);
  await sink.write(records('cli-job', Date.parse('2026-11-23T15:00:00.000Z')));
});
afterAll(async () => {
  await sink?.close();
  await eh?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('batchplane events (npm bin) against the local endpoint', () => {
  const bin = join(ROOT, 'bin', 'batchplane.js');

  it('prints one line per event in time order and exits once caught up', async () => {
    const r = await run(bin, ['events', '--connection-string', cs]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      '2026-11-23T15:00:00.000Z PoolCreateEvent pool=cli-pool vmSize=Standard_F1s dedicated=2 lowPriority=2 slots=1 autoScale=false',
      '2026-11-23T15:00:00.000Z PoolResizeStartEvent pool=cli-pool dedicated=0/2 lowPriority=0/2 deallocation=invalid',
      '2026-11-23T15:00:01.000Z TaskStartEvent job=cli-job task=t1 pool=cli-pool node=tvm-257509324_1-20160908t162728z retry=0',
      '2026-11-23T15:00:02.000Z PoolResizeCompleteEvent pool=cli-pool dedicated=2/2 lowPriority=2/2 result=Success took=55.2s',
      '2026-11-23T15:00:03.000Z TaskFailEvent job=cli-job task=t1 pool=cli-pool node=tvm-257509324_1-20160908t162728z exitCode=1 retry=2 failure=FailureExitCode took=96.9s',
    ]);
  });

  it('filters by job, prints raw records with --json, reads the connection string from the environment', async () => {
    const r = await run(bin, ['events', '--job', 'cli-job', '--json'], { env: { BATCHPLANE_EVENTHUBS_CONNECTION_STRING: cs } });
    expect(r.code).toBe(0);
    const got = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { operationName: string; category: string; resourceId: string });
    expect(got.map((g) => g.operationName)).toEqual(['TaskStartEvent', 'TaskFailEvent']);
    expect(got[0]).toMatchObject({ category: 'ServiceLog', resourceId: RID });
    const since = await run(bin, ['events', '--connection-string', cs, '--since', '2026-11-23T15:00:01.500Z', '--pool', 'cli-pool']);
    expect(since.stdout.trim().split('\n').map((l) => l.split(' ')[1])).toEqual(['PoolResizeCompleteEvent', 'TaskFailEvent']);
  });

  it('--follow prints the backlog, then new events as they arrive, until interrupted', async () => {
    let sent = false;
    const r = await run(bin, ['events', '--connection-string', cs, '--follow'], {
      onOutput: (out, interrupt) => {
        if (!sent && out.includes('TaskFailEvent job=cli-job')) {
          sent = true; // caught up: publish one more event while it follows
          void sink.write(records('live-job', Date.parse('2026-11-23T16:00:00.000Z')).filter((x) => x.partitionKey === 'live-job'));
        }
        if (out.includes('TaskFailEvent job=live-job')) interrupt();
      },
    });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines.slice(5).map((l) => l.split(' ').slice(1, 3).join(' '))).toEqual(['TaskStartEvent job=live-job', 'TaskFailEvent job=live-job']);
  });

  it('runs when installed under node_modules (as npm installs a bin)', async () => {
    const pkg = join(dir, 'node_modules', 'batchplane');
    mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
    for (const d of ['bin', 'cli', 'shared', 'package.json']) cpSync(join(ROOT, d), join(pkg, d), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    symlinkSync('../batchplane/bin/batchplane.js', join(dir, 'node_modules', '.bin', 'batchplane'));
    const r = await run(join(dir, 'node_modules', '.bin', 'batchplane'), ['events', '--connection-string', cs, '--job', 'cli-job']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    const down = await run(join(dir, 'node_modules', '.bin', 'batchplane'), ['events'], { env: { BATCHPLANE_EVENTHUBS_PORT: '1' } });
    expect([down.code, down.stderr]).toEqual([1, expect.stringContaining('cannot reach Event Hubs at 127.0.0.1:1')]);
  });
});
