import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, IMAGE, startTestStack, waitFor, type TestStack } from './support/stack';

let s: TestStack;
beforeAll(async () => {
  s = await startTestStack();
});
afterAll(async () => {
  await s?.stop();
});

async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

const onlyNode = async (poolId: string) => {
  const nodes = await s.client.computeNode.list(poolId);
  return nodes.length === 1 ? nodes[0] : undefined;
};

describe('pool start task', () => {
  it('runs in the startup directory before any task with waitForSuccess: starting → waitingforstarttask → idle', async () => {
    // The start task checks its environment (fails otherwise), then leaves a file for the tasks.
    const check = [
      'sleep 2',
      'test "$GREETING" = hi',
      'test "$AZ_BATCH_TASK_WORKING_DIR" = "$AZ_BATCH_NODE_STARTUP_DIR/wd"',
      'test "$(pwd)" = "$AZ_BATCH_NODE_STARTUP_DIR/wd"',
      'test -z "$AZ_BATCH_TASK_ID"',
      'test "$AZ_BATCH_TASK_USER_IDENTITY" = PoolAdmin',
      'echo ready > "$AZ_BATCH_NODE_SHARED_DIR/st.txt"',
    ].join(' && ');
    await s.client.pool.add({
      id: 'st-ok', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1,
      startTask: { commandLine: `/bin/sh -c '${check}'`, environmentSettings: [{ name: 'GREETING', value: 'hi' }], userIdentity: { autoUser: { elevationLevel: 'admin' } }, waitForSuccess: true },
    });
    const pool = await s.client.pool.get('st-ok');
    expect(pool.startTask).toMatchObject({ waitForSuccess: true, maxTaskRetryCount: 0, userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'admin' } } });
    const waiting = await waitFor('waitingforstarttask', async () => {
      const n = await onlyNode('st-ok');
      return n?.state === 'waitingforstarttask' ? n : undefined;
    });
    expect(waiting.startTaskInfo?.state ?? 'running').toBe('running');
    // A task added now waits for the start task.
    await s.client.job.add({ id: 'st-ok-job', poolInfo: { poolId: 'st-ok' } });
    await s.client.task.add('st-ok-job', { id: 'reads', commandLine: '/bin/sh -c \'test "$(cat "$AZ_BATCH_NODE_SHARED_DIR/st.txt")" = ready\'' });
    const idle = await waitFor('start task done', async () => {
      const n = await onlyNode('st-ok');
      return n?.startTaskInfo?.state === 'completed' ? n : undefined;
    }, 30_000);
    expect(idle.startTaskInfo).toMatchObject({ state: 'completed', result: 'success', exitCode: 0, retryCount: 0 });
    expect(idle.startTaskInfo?.endTime).toBeDefined();
    const t = await waitFor('task done', async () => {
      const x = await s.client.task.get('st-ok-job', 'reads');
      return x.state === 'completed' ? x : undefined;
    }, 30_000);
    expect(t.executionInfo).toMatchObject({ exitCode: 0, result: 'success' });
    expect(new Date(t.executionInfo!.startTime!).getTime()).toBeGreaterThanOrEqual(new Date(idle.startTaskInfo!.endTime!).getTime() - 1000);
    const filtered = await s.client.computeNode.list('st-ok', { computeNodeListOptions: { filter: "startTaskInfo/result eq 'success'" } });
    expect(filtered).toHaveLength(1);
    await s.client.pool.deleteMethod('st-ok');
  });

  it('a changed start task reaches a node at its next reboot; the node shows the start task it booted with', async () => {
    const marker = (v: string): string => `/bin/sh -c 'echo ${v} >> "$AZ_BATCH_NODE_SHARED_DIR/boots.txt"'`;
    await s.client.pool.add({ id: 'st-patch', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1, startTask: { commandLine: marker('v1'), waitForSuccess: true } });
    const first = await waitFor('v1 done', async () => {
      const n = await onlyNode('st-patch');
      return n?.state === 'idle' && n.startTaskInfo?.result === 'success' ? n : undefined;
    }, 30_000);
    expect(first.startTask?.commandLine).toBe(marker('v1'));
    // The pool's start task changes; the running node keeps the one it booted with (the seed: it
    // applies when nodes reboot, are reimaged or join).
    await s.client.pool.patch('st-patch', { startTask: { commandLine: marker('v2'), waitForSuccess: true } });
    expect((await s.client.pool.get('st-patch')).startTask?.commandLine).toBe(marker('v2'));
    expect((await onlyNode('st-patch'))?.startTask?.commandLine).toBe(marker('v1'));
    await s.client.computeNode.reboot('st-patch', first.id!);
    const rebooted = await waitFor('v2 done after reboot', async () => {
      const n = await onlyNode('st-patch');
      return n?.state === 'idle' && n.startTask?.commandLine === marker('v2') && n.startTaskInfo?.result === 'success' ? n : undefined;
    }, 45_000);
    expect(new Date(rebooted.lastBootTime!).getTime()).toBeGreaterThan(new Date(first.lastBootTime!).getTime());
    // Reboot keeps the node's files: both runs left their line.
    const boots = await s.client.file.getFromComputeNode('st-patch', first.id!, 'shared/boots.txt');
    expect((await streamText(boots.readableStreamBody!)).trim().split('\n')).toEqual(['v1', 'v2']);
    await s.client.pool.deleteMethod('st-patch');
  });

  it('a failing start task with waitForSuccess is retried, then the node is starttaskfailed and gets no task', async () => {
    await s.client.pool.add({
      id: 'st-fail', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1,
      startTask: { commandLine: '/bin/sh -c "exit 3"', maxTaskRetryCount: 1, waitForSuccess: true },
    });
    await s.client.job.add({ id: 'st-fail-job', poolInfo: { poolId: 'st-fail' } });
    await s.client.task.add('st-fail-job', { id: 'never', commandLine: '/bin/true' });
    const failed = await waitFor('starttaskfailed', async () => {
      const n = await onlyNode('st-fail');
      return n?.state === 'starttaskfailed' ? n : undefined;
    }, 30_000);
    expect(failed.startTaskInfo).toMatchObject({ state: 'completed', result: 'failure', exitCode: 3, retryCount: 1, failureInfo: { category: 'usererror', code: 'FailureExitCode' } });
    expect(failed.startTaskInfo?.lastRetryTime).toBeDefined();
    await new Promise((r) => setTimeout(r, 2500));
    expect((await s.client.task.get('st-fail-job', 'never')).state).toBe('active');
    expect((await onlyNode('st-fail'))?.state).toBe('starttaskfailed');
    await s.client.job.deleteMethod('st-fail-job');
    await s.client.pool.deleteMethod('st-fail');
  });

  it('without waitForSuccess tasks run while the start task still runs', async () => {
    await s.client.pool.add({
      id: 'st-nowait', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1,
      startTask: { commandLine: '/bin/sleep 8', waitForSuccess: false },
    });
    await s.client.job.add({ id: 'st-nowait-job', poolInfo: { poolId: 'st-nowait' } });
    await s.client.task.add('st-nowait-job', { id: 'quick', commandLine: '/bin/true' });
    await waitFor('quick done', async () => ((await s.client.task.get('st-nowait-job', 'quick')).state === 'completed' ? true : undefined), 30_000);
    const n = await onlyNode('st-nowait');
    expect(n?.state).toMatch(/idle|running/);
    expect(n?.startTaskInfo?.state ?? 'running').toBe('running');
    const done = await waitFor('start task completed', async () => {
      const x = await onlyNode('st-nowait');
      return x?.startTaskInfo?.state === 'completed' ? x : undefined;
    }, 30_000);
    expect(done.startTaskInfo?.result).toBe('success');
    await s.client.job.deleteMethod('st-nowait-job');
    await s.client.pool.deleteMethod('st-nowait');
  });

  it.each([
    ['named user', { commandLine: '/bin/true', userIdentity: { userName: 'bob' } }, 'startTask.userIdentity.username'],
    ['containers', { commandLine: '/bin/true', containerSettings: { imageName: 'ubuntu' } }, 'startTask.containerSettings'],
  ])('refuses a start task with a %s (400 UnsupportedProperty, no pool)', async (_name, startTask, property) => {
    const err = await errorOf(s.client.pool.add({ id: 'st-bad', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0, startTask }));
    expect(err).toMatchObject({ statusCode: 400, code: 'UnsupportedProperty' });
    const e = await s.client.pool.add({ id: 'st-bad', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0, startTask }).catch((x: { body?: { values?: { key: string; value: string }[] } }) => x);
    expect((e as { body?: { values?: { key: string; value: string }[] } }).body?.values).toContainEqual({ key: 'PropertyName', value: property });
    expect((await s.client.pool.exists('st-bad')).body).toBe(false);
  });
});
