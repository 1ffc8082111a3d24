import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import { startAzurite, type RunningAzurite } from '../../infra/local/azurite';
import { DEV_ACCOUNT_KEY } from '../../shared/config';
import { IMAGE, waitFor } from './support/stack';
import { AGENT_NODE_DEFAULTS } from '../../shared/nodes/local-provider';

let azurite: RunningAzurite;
let dataDir: string;
let port: number;

beforeAll(async () => {
  azurite = await startAzurite();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'bp-crash-'));
  port = await freePort();
});
afterAll(async () => {
  await azurite?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** `npm start` as its own process (node + tsx loader, no wrapper process in between). */
function startHost(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), path.resolve(__dirname, '../../infra/local/start.ts')], {
    env: { ...process.env, BATCHPLANE_PORT: String(port), BATCHPLANE_EVENTHUBS_PORT: '0', BATCHPLANE_DATA_DIR: dataDir, BATCHPLANE_STORAGE_CONNECTION_STRING: azurite.connectionString },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`host did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('batchplane is running')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => reject(new Error(`host exited with ${code}:\n${out}`)));
  });
}

function agentPids(): number[] {
  const dir = path.join(dataDir, 'nodes');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((p) => readdirSync(path.join(dir, p)).filter((f) => f.endsWith('.pid')).map((f) => Number(readFileSync(path.join(dir, p, f), 'utf8'))));
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('state lives in storage, not in the host process', () => {
  it('completes every task exactly once after the host is SIGKILLed mid-run and restarted; Ctrl-C leaves no agents', async () => {
    let host = await startHost();
    const client = new BatchServiceClient(new BatchSharedKeyCredentials('batchplane', DEV_ACCOUNT_KEY), `http://127.0.0.1:${port}`, { noRetryPolicy: true });
    const runlog = path.join(dataDir, 'runs.log');
    await client.pool.add({ id: 'crash-pool', vmSize: 'standard_d2s_v3', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 2, taskSlotsPerNode: 2 });
    await client.job.add({ id: 'crash-job', poolInfo: { poolId: 'crash-pool' }, commonEnvironmentSettings: [{ name: 'RUNLOG', value: runlog }] });
    const tasks = Array.from({ length: 24 }, (_, i) => ({ id: `t${i}`, commandLine: '/bin/bash -c "echo $AZ_BATCH_TASK_ID >> $RUNLOG; sleep 0.4"' }));
    await client.task.addCollection('crash-job', tasks);
    await waitFor('some tasks done', async () => ((await client.job.getTaskCounts('crash-job')).taskCounts.completed >= 4 ? true : undefined), 60_000, 100);

    host.kill('SIGKILL');
    await new Promise((r) => host.once('exit', r));
    expect(agentPids().every(alive)).toBe(true); // the nodes outlive the control plane, as VMs do
    for (const pid of agentPids()) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining([...AGENT_NODE_DEFAULTS]));

    host = await startHost();
    const counts = await waitFor('all done', async () => {
      const c = await client.job.getTaskCounts('crash-job');
      return c.taskCounts.completed === 24 ? c : undefined;
    }, 90_000, 200);
    expect(counts.taskCounts).toMatchObject({ active: 0, running: 0, succeeded: 24, failed: 0 });
    const runs = readFileSync(runlog, 'utf8').trim().split('\n').sort();
    expect(runs).toEqual(tasks.map((t) => t.id).sort());
    const listed = await client.task.list('crash-job');
    expect(listed.every((t) => t.executionInfo?.retryCount === 0 && t.executionInfo?.exitCode === 0)).toBe(true);

    const pids = agentPids();
    expect(pids).toHaveLength(2);
    host.kill('SIGINT');
    await new Promise((r) => host.once('exit', r));
    expect(pids.filter(alive)).toEqual([]);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
}
