import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import { runQuickstart } from '../../examples/quickstart';
import { errorOf, IMAGE, startTestStack, waitFor, type TestStack } from './support/stack';
import { rawRequest } from './support/raw';
import { BUCKETS, bucketOf } from '../../shared/storage/keys';

const API = 'api-version=2022-10-01.16.0';
let s: TestStack;

beforeAll(async () => {
  s = await startTestStack();
});
afterAll(async () => {
  await s?.stop();
});

describe('the quickstart (tutorial workflow) with the official @azure/batch client', () => {
  it('runs every task on real local nodes and reads their output', async () => {
    const { outputs, exitCodes } = await runQuickstart({ batchUrl: s.url, accountName: s.accountName, accountKey: s.accountKey, storage: s.storageConnectionString }, () => undefined);
    expect(Object.keys(outputs).sort()).toEqual(['topNtask0', 'topNtask1', 'topNtask2']);
    expect(outputs.topNtask0).toMatch(/3 the\n\s+2 fox/);
    expect(outputs.topNtask2).toMatch(/3 to\n\s+2 be/);
    expect(outputs.topNtask1).toContain('task=topNtask1');
    expect(Object.values(exitCodes)).toEqual([0, 0, 0]);
  });
});

describe('pools, nodes, jobs and tasks', () => {
  const poolId = 'e2e-pool';
  const jobId = 'e2e-job';

  beforeAll(async () => {
    await s.client.pool.add({ id: poolId, vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1, taskSlotsPerNode: 2 });
    await s.client.job.add({ id: jobId, poolInfo: { poolId }, commonEnvironmentSettings: [{ name: 'GREETING', value: 'hello' }] });
  });

  it('allocates the pool: steady, nodes idle, node counts', async () => {
    const pool = await waitFor('steady pool', async () => {
      const p = await s.client.pool.get(poolId);
      return p.allocationState === 'steady' ? p : undefined;
    });
    expect(pool.currentDedicatedNodes).toBe(1);
    expect(pool.vmSize).toBe('standard_a1_v2');
    expect((await s.client.pool.exists(poolId)).body).toBe(true);
    expect((await s.client.pool.exists('no-such-pool')).body).toBe(false);
    const nodes = await waitFor('idle node', async () => {
      const n = await s.client.computeNode.list(poolId);
      return n.length === 1 && n[0]!.state === 'idle' ? n : undefined;
    });
    expect(nodes[0]!.id).toMatch(/^tvmps_/);
    const counts = await s.client.account.listPoolNodeCounts({ accountListPoolNodeCountsOptions: { filter: `poolId eq '${poolId}'` } });
    expect(counts[0]?.dedicated?.idle).toBe(1);
  });

  it('runs a task with environment, exit code, stdout/stderr, ranges and file listing', async () => {
    await s.client.task.add(jobId, { id: 't-env', commandLine: '/bin/bash -c "echo $GREETING $AZ_BATCH_JOB_ID $AZ_BATCH_TASK_ID; echo oops >&2; exit 3"' });
    const t = await waitFor('task completed', async () => {
      const x = await s.client.task.get(jobId, 't-env');
      return x.state === 'completed' ? x : undefined;
    });
    expect(t.executionInfo?.exitCode).toBe(3);
    expect(t.executionInfo?.result).toBe('failure');
    expect(t.nodeInfo?.poolId).toBe(poolId);
    const files = await s.client.file.listFromTask(jobId, 't-env');
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(['stdout.txt', 'stderr.txt', 'wd']));
    const props = await s.client.file.getPropertiesFromTask(jobId, 't-env', 'stdout.txt');
    expect(props.contentLength).toBe('hello e2e-job t-env\n'.length);
    const part = await s.client.file.getFromTask(jobId, 't-env', 'stdout.txt', { fileGetFromTaskOptions: { ocpRange: 'bytes=0-4' } });
    expect(await readAll(part.readableStreamBody!)).toBe('hello');
    const err = await s.client.file.getFromTask(jobId, 't-env', 'stderr.txt');
    expect(await readAll(err.readableStreamBody!)).toBe('oops\n');
    expect((await errorOf(s.client.file.getFromTask(jobId, 't-env', '../../../../etc/passwd'))).statusCode).toBe(404);
  });

  it('adds a task collection, counts tasks, lists with filter and select, pages with nextLink', async () => {
    const value = Array.from({ length: 30 }, (_, i) => ({ id: `c${String(i).padStart(2, '0')}`, commandLine: '/bin/true' }));
    const res = await s.client.task.addCollection(jobId, value);
    expect(res.value?.every((r) => r.status === 'success')).toBe(true);
    const dup = await s.client.task.addCollection(jobId, [{ id: 'c00', commandLine: '/bin/true' }, { id: 'fresh', commandLine: '/bin/true' }]);
    expect(dup.value?.map((r) => [r.taskId, r.status, r.error?.code])).toEqual([['c00', 'clientError', 'TaskExists'], ['fresh', 'success', undefined]]);
    await waitFor('all completed', async () => {
      const c = await s.client.job.getTaskCounts(jobId);
      return c.taskCounts.completed === 32 ? c : undefined;
    });
    const counts = await s.client.job.getTaskCounts(jobId);
    expect(counts.taskCounts).toMatchObject({ active: 0, running: 0, completed: 32, succeeded: 31, failed: 1 });
    const failed = await s.client.task.list(jobId, { taskListOptions: { filter: "executionInfo/exitCode ne 0 and state eq 'completed'", select: 'id,state' } });
    expect(failed.map((t) => t.id)).toEqual(['t-env']);
    expect(failed[0]!.commandLine).toBeUndefined();
    const first = await s.client.task.list(jobId, { taskListOptions: { maxResults: 10 } });
    expect(first).toHaveLength(10);
    const seen = first.map((t) => t.id);
    let link = first.odatanextLink;
    while (link) {
      const next = await s.client.task.listNext(link);
      seen.push(...next.map((t) => t.id));
      link = next.odatanextLink;
    }
    expect(new Set(seen).size).toBe(32);
  });

  it('terminates and deletes running and completed tasks', async () => {
    await s.client.task.add(jobId, { id: 'sleeper', commandLine: '/bin/sleep 60' });
    await waitFor('sleeper running', async () => ((await s.client.task.get(jobId, 'sleeper')).state === 'running' ? true : undefined));
    await s.client.task.terminate(jobId, 'sleeper');
    const t = await waitFor('sleeper ended', async () => {
      const x = await s.client.task.get(jobId, 'sleeper');
      return x.state === 'completed' ? x : undefined;
    });
    expect(t.executionInfo?.failureInfo?.code).toBe('TaskEnded');
    expect(t.executionInfo?.result).toBe('failure');
    expect((await errorOf(s.client.task.terminate(jobId, 'sleeper'))).code).toBe('TaskCompleted');
    await s.client.task.deleteMethod(jobId, 'sleeper');
    expect((await errorOf(s.client.task.get(jobId, 'sleeper'))).code).toBe('TaskNotFound');
  });

  it('answers errors with the Batch codes a client expects', async () => {
    const bad = new BatchServiceClient(new BatchSharedKeyCredentials(s.accountName, Buffer.from('wrong key').toString('base64')), s.url, { noRetryPolicy: true });
    expect(await errorOf(bad.pool.list())).toEqual({ statusCode: 403, code: 'AuthenticationFailed' });
    expect(await errorOf(s.client.pool.add({ id: poolId, vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0 }))).toEqual({ statusCode: 409, code: 'PoolExists' });
    expect(await errorOf(s.client.job.get('no-such-job'))).toEqual({ statusCode: 404, code: 'JobNotFound' });
    expect(await errorOf(s.client.task.add('no-such-job', { id: 'x', commandLine: '/bin/true' }))).toEqual({ statusCode: 404, code: 'JobNotFound' });
    expect(await errorOf(s.client.task.get(jobId, 'no-such-task'))).toEqual({ statusCode: 404, code: 'TaskNotFound' });
    expect(await errorOf(s.client.pool.get('no-such-pool'))).toEqual({ statusCode: 404, code: 'PoolNotFound' });
    const many = Array.from({ length: 101 }, (_, i) => ({ id: `m${i}`, commandLine: '/bin/true' }));
    await expect(s.client.task.addCollection(jobId, many)).rejects.toThrow(/MaxItems/);
    const tooMany = await rawRequest(s.url, s.accountName, s.accountKey, 'POST', `/jobs/${jobId}/addtaskcollection?${API}`, JSON.stringify({ value: many }));
    expect([tooMany.status, tooMany.json?.code]).toEqual([413, 'RequestBodyTooLarge']);
    // The client validates types and required properties itself; the service must too.
    const wrongType = await rawRequest(s.url, s.accountName, s.accountKey, 'POST', `/pools?${API}`, JSON.stringify({ id: 'p-bad', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 'two' }));
    expect([wrongType.status, wrongType.json?.code]).toEqual([400, 'InvalidPropertyValue']);
    expect(wrongType.json?.values).toEqual(expect.arrayContaining([{ key: 'PropertyName', value: 'targetDedicatedNodes' }]));
    expect(await errorOf(s.client.pool.add({ id: 'p-size', vmSize: 'Standard_Nope', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1 }))).toEqual({ statusCode: 400, code: 'InvalidPropertyValue' });
    expect(await errorOf(s.client.pool.add({ id: 'p-slots', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1, taskSlotsPerNode: 5 }))).toEqual({ statusCode: 400, code: 'InvalidPropertyValue' });
    const missing = await rawRequest(s.url, s.accountName, s.accountKey, 'POST', `/jobs?${API}`, JSON.stringify({ id: 'j-missing' }));
    expect([missing.status, missing.json?.code]).toEqual([400, 'MissingRequiredProperty']);
    expect((await errorOf(s.client.job.get('j-missing'))).code).toBe('JobNotFound');
    expect(await errorOf(s.client.task.list(jobId, { taskListOptions: { filter: "State eq 'active'" } }))).toEqual({ statusCode: 400, code: 'InvalidQueryParameterValue' });
    const malformed = await rawRequest(s.url, s.accountName, s.accountKey, 'POST', `/pools?${API}`, '{"id": "x",');
    expect([malformed.status, malformed.json?.code]).toEqual([400, 'InvalidRequestBody']);
    expect((malformed.json?.message as { lang: string }).lang).toBe('en-US');
    const noVersion = await rawRequest(s.url, s.accountName, s.accountKey, 'GET', '/pools');
    expect([noVersion.status, noVersion.json?.code]).toEqual([400, 'MissingRequiredQueryParameter']);
    const badMax = await rawRequest(s.url, s.accountName, s.accountKey, 'GET', `/pools?${API}&maxresults=1001`);
    expect([badMax.status, badMax.json?.code]).toEqual([400, 'InvalidQueryParameterValue']);
    const verb = await rawRequest(s.url, s.accountName, s.accountKey, 'PUT', `/pools?${API}`, '{}');
    expect([verb.status, verb.json?.code]).toEqual([405, 'UnsupportedHttpVerb']);
    const notYet = await rawRequest(s.url, s.accountName, s.accountKey, 'GET', `/jobschedules?${API}`);
    expect(notYet.status).toBe(400);
    const stale = new Date(Date.now() - 20 * 60_000).toUTCString();
    const old = await rawRequest(s.url, s.accountName, s.accountKey, 'GET', `/pools?${API}`, undefined, { 'ocp-date': stale });
    expect([old.status, old.json?.code]).toEqual([403, 'AuthenticationFailed']);
    const malformedAuth = await fetch(`${s.url}/pools?${API}`, { headers: { authorization: 'SharedKey nonsense', 'ocp-date': new Date().toUTCString() } });
    expect(malformedAuth.status).toBe(400);
  });

  it('honours conditional headers with ETags: 304 on reads, 412 on writes', async () => {
    const got = await rawRequest(s.url, s.accountName, s.accountKey, 'GET', `/pools/${poolId}?${API}`, undefined, { 'client-request-id': 'abc', 'return-client-request-id': 'true' });
    const etag = got.headers.get('etag')!;
    expect(etag).toMatch(/^0x[0-9A-F]+$/);
    expect(got.headers.get('client-request-id')).toBe('abc');
    expect(got.headers.get('request-id')).toBeTruthy();
    const notModified = await rawRequest(s.url, s.accountName, s.accountKey, 'GET', `/pools/${poolId}?${API}`, undefined, { 'if-none-match': etag });
    expect(notModified.status).toBe(304);
    const staleWrite = await rawRequest(s.url, s.accountName, s.accountKey, 'POST', `/pools/${poolId}/resize?${API}`, '{"targetDedicatedNodes":2}', { 'if-match': '0x1234' });
    expect([staleWrite.status, staleWrite.json?.code]).toEqual([412, 'ConditionNotMet']);
  });

  it('terminates and deletes queued tasks on a pool without nodes, keeping task counts exact', async () => {
    await s.client.pool.add({ id: 'empty-pool', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0 });
    await s.client.job.add({ id: 'queued-job', poolInfo: { poolId: 'empty-pool' } });
    await s.client.task.addCollection('queued-job', ['q1', 'q2', 'q3'].map((id) => ({ id, commandLine: '/bin/true' })));
    await s.client.task.terminate('queued-job', 'q1');
    await s.client.task.deleteMethod('queued-job', 'q2');
    const q1 = await s.client.task.get('queued-job', 'q1');
    expect([q1.state, q1.executionInfo?.failureInfo?.code]).toEqual(['completed', 'TaskEnded']);
    expect((await s.client.job.getTaskCounts('queued-job')).taskCounts).toMatchObject({ active: 1, running: 0, completed: 1, failed: 1 });
    expect((await s.client.task.list('queued-job', { taskListOptions: { filter: "state eq 'active'" } })).map((t) => t.id)).toEqual(['q3']);
    // Active tasks are listed from the job's queue: pages follow queue order and nextLink.
    for (let b = 0; b < 3; b++) await s.client.task.addCollection('queued-job', Array.from({ length: 100 }, (_, i) => ({ id: `b${b}-${String(i).padStart(3, '0')}`, commandLine: '/bin/true' })));
    const ids: string[] = [];
    let page = await s.client.task.list('queued-job', { taskListOptions: { filter: "state eq 'active'", maxResults: 120, select: 'id,state,creationTime' } });
    expect(page).toHaveLength(120);
    ids.push(...page.map((t) => t.id!));
    while (page.odatanextLink) {
      page = await s.client.task.listNext(page.odatanextLink);
      ids.push(...page.map((t) => t.id!));
    }
    expect(ids).toHaveLength(301);
    expect(new Set(ids).size).toBe(301);
    // Within each bucket of the job (storage/keys.ts) the listing is queue order: q3 first, then the batches as added.
    const added = ['q3', ...[0, 1, 2].flatMap((b) => Array.from({ length: 100 }, (_, i) => `b${b}-${String(i).padStart(3, '0')}`))];
    for (const bucket of BUCKETS) expect(ids.filter((id) => bucketOf(id) === bucket)).toEqual(added.filter((id) => bucketOf(id) === bucket));
    await s.client.job.deleteMethod('queued-job');
    await s.client.pool.deleteMethod('empty-pool');
  });

  it('terminates and deletes the job, then deletes the pool', async () => {
    await s.client.job.terminate(jobId, { jobTerminateOptions: {} });
    expect((await s.client.job.get(jobId)).state).toBe('completed');
    await s.client.job.deleteMethod(jobId);
    expect((await errorOf(s.client.job.get(jobId))).code).toBe('JobNotFound');
    await s.client.pool.deleteMethod(poolId);
    await waitFor('pool gone', async () => ((await s.client.pool.exists(poolId)).body ? undefined : true));
  });
});

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString();
}
