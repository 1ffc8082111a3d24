import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeEnvironment } from '../../agent/environment';
import { WALL_CLOCK_EXIT_CODE } from '../../agent/failures';
import { nodeLayout } from '../../agent/layout';
import { silentLogger } from '../../agent/log';
import { runTask, type RunnerContext } from '../../agent/runner';
import type { TaskAssignment } from '../../shared/nodes/protocol';

const root = mkdtempSync(path.join(tmpdir(), 'agent-runner-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ctx: RunnerContext = {
  identity: { accountName: 'acct', accountUrl: 'http://127.0.0.1:1', poolId: 'pool1', nodeId: 'node1', isDedicated: true },
  node: nodeLayout(root),
  baseEnv: nodeEnvironment({ PATH: process.env.PATH, BATCHPLANE_NODE_TOKEN: 'secret' }),
  killGraceMs: 300,
  log: silentLogger,
};

let n = 0;
function assignment(commandLine: string, extra: Partial<TaskAssignment> = {}): TaskAssignment {
  n++;
  return { jobId: 'job1', taskId: `t${n}`, claim: `c${n}`, retryCount: 0, commandLine, resourceFiles: [], environment: {}, requiredSlots: 1, ...extra };
}
const taskDir = (a: TaskAssignment): string => path.join(root, 'workitems', a.jobId, 'job-1', a.taskId);
const read = (a: TaskAssignment, f: string): string => readFileSync(path.join(taskDir(a), f), 'utf8');

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('runner against real processes', () => {
  it('writes stdout.txt/stderr.txt beside wd and reports a nonzero exit code as failure', async () => {
    const a = assignment(`/bin/bash -c 'echo hi; echo err >&2; exit 3'`);
    const c = await runTask(a, ctx).done;
    expect(c).toMatchObject({ jobId: 'job1', taskId: a.taskId, claim: a.claim, exitCode: 3, result: 'failure' });
    expect(c.failureInfo).toMatchObject({ category: 'usererror', code: 'FailureExitCode' });
    expect(c.timedOut).toBeUndefined();
    expect(read(a, 'stdout.txt')).toBe('hi\n');
    expect(read(a, 'stderr.txt')).toBe('err\n');
    expect(Date.parse(c.endTime)).toBeGreaterThanOrEqual(Date.parse(c.startTime));
  });

  it('runs without a shell, in wd, with the task environment only', async () => {
    const a = assignment(`env`, { environment: { MY_SETTING: 'a b $c' } });
    const c = await runTask(a, ctx).done;
    expect(c).toMatchObject({ result: 'success', exitCode: 0 });
    expect(c.failureInfo).toBeUndefined();
    const env = Object.fromEntries(read(a, 'stdout.txt').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env).toMatchObject({
      MY_SETTING: 'a b $c',
      HOME: taskDir(a),
      AZ_BATCH_TASK_WORKING_DIR: path.join(taskDir(a), 'wd'),
      AZ_BATCH_NODE_SHARED_DIR: path.join(root, 'shared'),
      AZ_BATCH_JOB_ID: 'job1',
      AZ_BATCH_TASK_ID: a.taskId,
      AZ_BATCH_NODE_ID: 'node1',
      AZ_BATCH_POOL_ID: 'pool1',
    });
    expect(env.BATCHPLANE_NODE_TOKEN).toBeUndefined();

    const b = assignment(`/bin/bash -c "pwd; echo $AZ_BATCH_TASK_ID > out.txt; echo $HOME"`);
    await runTask(b, ctx).done;
    expect(read(b, 'stdout.txt')).toBe(`${path.join(taskDir(b), 'wd')}\n${taskDir(b)}\n`);
    expect(read(b, 'wd/out.txt')).toBe(`${b.taskId}\n`);
  });

  it('reuses the task directory on retry and overwrites stdout/stderr', async () => {
    const a = assignment(`/bin/bash -c 'cat kept.txt 2>/dev/null; echo first > kept.txt; echo one-long-line; echo e1 >&2'`);
    await runTask(a, ctx).done;
    const retry = { ...a, claim: 'c-retry', retryCount: 1, commandLine: `/bin/bash -c 'cat kept.txt; echo two'` };
    const c = await runTask(retry, ctx).done;
    expect(c.result).toBe('success');
    expect(read(a, 'stdout.txt')).toBe('first\ntwo\n');
    expect(read(a, 'stderr.txt')).toBe('');
  });

  it('reports a missing program as CommandProgramNotFound without exit code', async () => {
    for (const cmd of ['/no/such/program arg', 'no-such-program-xyz']) {
      const c = await runTask(assignment(cmd), ctx).done;
      expect(c.result).toBe('failure');
      expect(c.exitCode).toBeUndefined();
      expect(c.failureInfo).toMatchObject({ category: 'usererror', code: 'CommandProgramNotFound' });
    }
  });

  it('reports other spawn failures and bad command lines', async () => {
    writeFileSync(path.join(root, 'not-exec.sh'), '#!/bin/sh\necho x\n', { mode: 0o644 });
    const c = await runTask(assignment(path.join(root, 'not-exec.sh')), ctx).done;
    expect(c).toMatchObject({ result: 'failure', failureInfo: { code: 'CommandProgramStartFailed' } });
    expect(c.exitCode).toBeUndefined();
    const bad = await runTask(assignment(`echo "unterminated`), ctx).done;
    expect(bad).toMatchObject({ result: 'failure', failureInfo: { category: 'usererror', code: 'InvalidCommandLine' } });
    const badId = await runTask(assignment('/bin/true', { taskId: '../../etc' }), ctx).done;
    expect(badId).toMatchObject({ result: 'failure', failureInfo: { code: 'InvalidTaskId' } });
  });

  it('kills the whole process tree at maxWallClockTime, escalating to SIGKILL', async () => {
    const a = assignment(`/bin/bash -c 'sleep 30 & echo $! > bg.pid; trap "" TERM; sleep 30; wait'`, { maxWallClockSeconds: 1 });
    const started = Date.now();
    const c = await runTask(a, ctx).done;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(c).toMatchObject({ result: 'failure', timedOut: true, exitCode: WALL_CLOCK_EXIT_CODE });
    expect(c.failureInfo).toMatchObject({ category: 'servererror', code: 'TaskEnded' });
    const bg = Number(read(a, 'wd/bg.pid'));
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(bg)).toBe(false);
  });

  it('terminates on request and reports the observed exit code', async () => {
    const run = runTask(assignment('sleep 30'), ctx);
    await new Promise((r) => setTimeout(r, 150));
    run.terminate();
    run.terminate();
    const c = await run.done;
    expect(c).toMatchObject({ result: 'failure', exitCode: 143, failureInfo: { category: 'usererror', code: 'TaskEnded' } });
    expect(c.timedOut).toBeUndefined();
  });

  it('samples process statistics while the task runs', async () => {
    const run = runTask(assignment(`/bin/bash -c 'head -c 3000000 /dev/zero | md5sum >/dev/null; sleep 0.4'`), ctx);
    await new Promise((r) => setTimeout(r, 250));
    run.sample();
    const c = await run.done;
    expect(c.result).toBe('success');
    expect(c.stats?.maxRssBytes).toBeGreaterThan(0);
    expect(c.stats?.userCpuMs).toBeGreaterThanOrEqual(0);
  });

  it('ends a task whose resource download outlives maxWallClockTime, without exit code', async () => {
    const server = http.createServer(() => undefined); // never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow.bin`;
      const a = assignment('/bin/true', { maxWallClockSeconds: 1, resourceFiles: [{ httpUrl: url, filePath: 'slow.bin' }] });
      const started = Date.now();
      const c = await runTask(a, ctx).done;
      expect(Date.now() - started).toBeLessThan(2500);
      expect(c).toMatchObject({ result: 'failure', timedOut: true, failureInfo: { code: 'TaskEnded' } });
      expect(c.exitCode).toBeUndefined();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
