import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobServiceClient, ContainerSASPermissions, type ContainerClient } from '@azure/storage-blob';
import type { BatchServiceModels } from '@azure/batch';
import { errorOf, IMAGE, startTestStack, waitFor, type TestStack } from './support/stack';
import { rawRequest } from './support/raw';

let s: TestStack;
let blobs: BlobServiceClient;
let container: ContainerClient;
let sasUrl: string;
const expiresOn = new Date(Date.now() + 3600_000);
const JSON_TYPE = { 'content-type': 'application/json; odata=minimalmetadata' };

beforeAll(async () => {
  s = await startTestStack();
  blobs = BlobServiceClient.fromConnectionString(s.storageConnectionString);
  container = blobs.getContainerClient('task-outputs');
  await container.createIfNotExists();
  sasUrl = await container.generateSasUrl({ permissions: ContainerSASPermissions.parse('racwl'), expiresOn });
  await s.client.pool.add({ id: 'ops', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1, taskSlotsPerNode: 4 });
  await s.client.pool.add({ id: 'one', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1, taskSlotsPerNode: 1 });
  await s.client.job.add({ id: 'ops-job', poolInfo: { poolId: 'ops' } });
  await s.client.job.add({ id: 'one-job', poolInfo: { poolId: 'one' } });
}, 120_000);
afterAll(async () => {
  await s?.stop();
});

const completed = (jobId: string, taskId: string) => async (): Promise<BatchServiceModels.CloudTask | undefined> => {
  const t = await s.client.task.get(jobId, taskId);
  return t.state === 'completed' ? t : undefined;
};

const out = (filePattern: string, uploadCondition: BatchServiceModels.OutputFileUploadCondition, blobPath?: string, url = sasUrl, uploadHeaders?: BatchServiceModels.HttpHeader[]): BatchServiceModels.OutputFile => ({
  filePattern,
  destination: { container: { containerUrl: url, ...(blobPath ? { path: blobPath } : {}), ...(uploadHeaders ? { uploadHeaders } : {}) } },
  uploadOptions: { uploadCondition },
});

async function blobNames(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const b of container.listBlobsFlat({ prefix })) names.push(b.name);
  return names.sort();
}

async function blobText(name: string): Promise<string> {
  return (await container.getBlobClient(name).downloadToBuffer()).toString('utf8');
}

describe('task outputFiles', () => {
  it('uploads by condition: exact files to a blob name, wildcards under a virtual directory, with upload headers', async () => {
    await s.client.task.add('ops-job', {
      id: 'producer',
      commandLine: '/bin/bash -c "mkdir -p out/sub && echo a > out/a.txt && echo b > out/sub/b.txt && echo x > out/skip.bin && echo hello"',
      outputFiles: [
        out('../stdout.txt', 'taskcompletion', 'p1/logs/stdout.txt', sasUrl, [{ name: 'x-ms-blob-content-type', value: 'text/plain' }, { name: 'x-ms-blob-content-language', value: 'en-US' }]),
        out('out/**/*.txt', 'tasksuccess', 'p1/results'),
        out('$AZ_BATCH_TASK_DIR/stderr.txt', 'taskfailure', 'p1/logs/stderr.txt'),
      ],
    });
    const t = await waitFor('producer done', completed('ops-job', 'producer'));
    expect(t.executionInfo?.result).toBe('success');
    expect(t.outputFiles?.map((f) => f.uploadOptions.uploadCondition)).toEqual(['TaskCompletion', 'TaskSuccess', 'TaskFailure']);
    expect(await blobNames('p1/')).toEqual(['p1/logs/stdout.txt', 'p1/results/a.txt', 'p1/results/sub/b.txt']);
    expect(await blobText('p1/logs/stdout.txt')).toBe('hello\n');
    expect(await blobText('p1/results/sub/b.txt')).toBe('b\n');
    const props = await container.getBlobClient('p1/logs/stdout.txt').getProperties();
    expect([props.contentType, props.contentLanguage]).toEqual(['text/plain', 'en-US']);
  });

  it('uploads taskFailure files of a failed task (default name: the file name at the container root under path)', async () => {
    await s.client.task.add('ops-job', {
      id: 'broken',
      commandLine: '/bin/bash -c "echo oops >&2; exit 3"',
      outputFiles: [out('../std*.txt', 'taskfailure', 'p2'), out('../stdout.txt', 'tasksuccess', 'p2/never.txt')],
    });
    const t = await waitFor('broken done', completed('ops-job', 'broken'));
    expect([t.executionInfo?.result, t.executionInfo?.exitCode, t.executionInfo?.failureInfo?.code]).toEqual(['failure', 3, 'FailureExitCode']);
    expect(await blobNames('p2/')).toEqual(['p2/stderr.txt', 'p2/stdout.txt']);
    expect(await blobText('p2/stderr.txt')).toBe('oops\n');
  });

  it('a failed upload fails the task with FileUploadMiscError (the exit code stays 0)', async () => {
    const missing = await blobs.getContainerClient('no-such-container').generateSasUrl({ permissions: ContainerSASPermissions.parse('racwl'), expiresOn });
    await s.client.task.add('ops-job', { id: 'upload-fails', commandLine: '/bin/echo hi', outputFiles: [out('../stdout.txt', 'taskcompletion', 'x.txt', missing)] });
    const t = await waitFor('upload-fails done', completed('ops-job', 'upload-fails'));
    expect(t.executionInfo?.result).toBe('failure');
    expect(t.executionInfo?.exitCode).toBe(0);
    expect(t.executionInfo?.failureInfo).toMatchObject({ category: 'usererror', code: 'FileUploadMiscError' });
    const errLog = await s.client.file.getFromTask('ops-job', 'upload-fails', 'fileuploaderr.txt');
    expect(errLog._response.status).toBe(200);
  });

  it('refuses destinations and task features that cannot run here with 400 UnsupportedProperty', async () => {
    const identity = await errorOf(s.client.task.add('ops-job', {
      id: 'ident', commandLine: '/bin/true',
      outputFiles: [{ filePattern: '*', destination: { container: { containerUrl: sasUrl, identityReference: { resourceId: '/subscriptions/x' } } }, uploadOptions: { uploadCondition: 'taskcompletion' } }],
    }));
    expect(identity).toEqual({ statusCode: 400, code: 'UnsupportedProperty' });
    const container = await errorOf(s.client.task.add('ops-job', { id: 'ctr', commandLine: '/bin/true', containerSettings: { imageName: 'ubuntu' } }));
    expect(container).toEqual({ statusCode: 400, code: 'UnsupportedProperty' });
    const token = await errorOf(s.client.task.add('ops-job', { id: 'tok', commandLine: '/bin/true', authenticationTokenSettings: { access: ['job'] } }));
    expect(token).toEqual({ statusCode: 400, code: 'UnsupportedProperty' });
    // The client itself refuses a body without filePattern: sent raw.
    const body = JSON.stringify({ id: 'nopat', commandLine: '/bin/true', outputFiles: [{ destination: { container: { containerUrl: sasUrl } }, uploadOptions: { uploadCondition: 'taskcompletion' } }] });
    const missing = await rawRequest(s.url, s.accountName, s.accountKey, 'POST', '/jobs/ops-job/tasks?api-version=2022-10-01.16.0', body, JSON_TYPE);
    expect([missing.status, missing.json?.code, missing.json?.values]).toEqual([400, 'MissingRequiredProperty', [{ key: 'PropertyName', value: 'outputFiles.0.filePattern' }]]);
    const cond = await rawRequest(s.url, s.accountName, s.accountKey, 'POST', '/jobs/ops-job/tasks?api-version=2022-10-01.16.0', body.replace('"destination"', '"filePattern":"*","destination"').replace('taskcompletion', 'sometimes'), JSON_TYPE);
    expect([cond.status, cond.json?.code]).toEqual([400, 'InvalidPropertyValue']);
    await expect(s.client.task.get('ops-job', 'ctr')).rejects.toMatchObject({ code: 'TaskNotFound' });
  });
});

describe('task update, reactivate, unlimited retries and retention', () => {
  it('updates the constraints of a queued task (row and queue entry) with If-Match, and its next runs use them', async () => {
    await s.client.task.add('one-job', { id: 'blocker', commandLine: '/bin/sleep 6' });
    await waitFor('blocker running', async () => ((await s.client.task.get('one-job', 'blocker')).state === 'running' ? true : undefined));
    await s.client.task.add('one-job', { id: 'later', commandLine: '/bin/bash -c "exit 1"' });
    const before = await s.client.task.get('one-job', 'later');
    expect([before.state, before.constraints?.maxTaskRetryCount]).toEqual(['active', 0]);
    const stale = await errorOf(s.client.task.update('one-job', 'later', { constraints: { maxTaskRetryCount: 9 }, taskUpdateOptions: { ifMatch: '0x8D000000000000' } }));
    expect(stale).toEqual({ statusCode: 412, code: 'ConditionNotMet' });
    const r = await s.client.task.update('one-job', 'later', { constraints: { maxTaskRetryCount: 2, maxWallClockTime: 'PT1H', retentionTime: 'PT10M' }, taskUpdateOptions: { ifMatch: before.eTag } });
    expect(r._response.status).toBe(200);
    expect(r.eTag).toBeTruthy();
    expect(r.eTag).not.toBe(before.eTag);
    const after = await s.client.task.get('one-job', 'later');
    expect(after.eTag).toBe(r.eTag);
    expect(after.constraints).toEqual({ maxTaskRetryCount: 2, maxWallClockTime: 'PT1H', retentionTime: 'PT10M' });
    const listed = await s.client.task.list('one-job', { taskListOptions: { filter: "state eq 'active'" } });
    expect(listed.find((t) => t.id === 'later')?.constraints?.maxTaskRetryCount).toBe(2);
    const done = await waitFor('later done', completed('one-job', 'later'), 60_000);
    expect([done.executionInfo?.retryCount, done.executionInfo?.result]).toEqual([2, 'failure']);
    // A completed task can still be updated (e.g. its retention); omitted constraints take their defaults.
    await s.client.task.update('one-job', 'later', { constraints: { retentionTime: 'PT1H' } });
    expect((await s.client.task.get('one-job', 'later')).constraints).toEqual({ maxTaskRetryCount: 0, maxWallClockTime: 'P10675199DT2H48M5.4775807S', retentionTime: 'PT1H' });
    const gone = await errorOf(s.client.task.update('one-job', 'nope', { constraints: {} }));
    expect(gone).toEqual({ statusCode: 404, code: 'TaskNotFound' });
    const bad = await errorOf(s.client.task.update('one-job', 'later', { constraints: { maxTaskRetryCount: -5 } }));
    expect(bad).toEqual({ statusCode: 400, code: 'InvalidPropertyValue' });
  });

  it('reactivates a failed task: back to active with a clean execution info, counted, and run again', async () => {
    await s.client.job.add({ id: 'react-job', poolInfo: { poolId: 'ops' } });
    await s.client.task.add('react-job', { id: 'flip', commandLine: '/bin/bash -c "test -f ../marker && exit 0; touch ../marker; exit 1"' });
    await s.client.task.add('react-job', { id: 'ok', commandLine: '/bin/true' });
    const first = await waitFor('flip failed', completed('react-job', 'flip'));
    expect(first.executionInfo?.result).toBe('failure');
    await waitFor('ok done', completed('react-job', 'ok'));
    expect((await s.client.job.getTaskCounts('react-job')).taskCounts).toMatchObject({ active: 0, running: 0, completed: 2, succeeded: 1, failed: 1 });

    const succeeded = await errorOf(s.client.task.reactivate('react-job', 'ok'));
    expect(succeeded).toEqual({ statusCode: 409, code: 'TaskSucceeded' });
    const stale = await errorOf(s.client.task.reactivate('react-job', 'flip', { taskReactivateOptions: { ifMatch: '0x8D000000000001' } }));
    expect(stale).toEqual({ statusCode: 412, code: 'ConditionNotMet' });
    const r = await s.client.task.reactivate('react-job', 'flip', { taskReactivateOptions: { ifMatch: first.eTag } });
    expect(r._response.status).toBe(204);
    const again = await waitFor('flip ran again', completed('react-job', 'flip'));
    expect(again.executionInfo).toMatchObject({ result: 'success', exitCode: 0, retryCount: 0 });
    expect(again.executionInfo?.failureInfo).toBeUndefined();
    expect(again.previousState).toBe('running');
    expect((await s.client.job.getTaskCounts('react-job')).taskCounts).toMatchObject({ active: 0, running: 0, completed: 2, succeeded: 2, failed: 0 });

    expect(await errorOf(s.client.task.reactivate('react-job', 'nope'))).toEqual({ statusCode: 404, code: 'TaskNotFound' });
    await s.client.task.add('react-job', { id: 'sleeper', commandLine: '/bin/sleep 30' });
    const notDone = await errorOf(s.client.task.reactivate('react-job', 'sleeper'));
    expect(notDone).toEqual({ statusCode: 409, code: 'TaskNotCompleted' });
    await s.client.task.terminate('react-job', 'sleeper');
    await waitFor('sleeper ended', completed('react-job', 'sleeper'));
    await s.client.job.terminate('react-job');
    const jobDone = await errorOf(s.client.task.reactivate('react-job', 'sleeper'));
    expect(jobDone.statusCode).toBe(409);
    expect(['JobCompleted', 'JobBeingTerminated']).toContain(jobDone.code);
  });

  it('a reactivated task waits in the queue as active, with its execution and node info reset', async () => {
    // 'later' (previous test) completed with failure after 2 retries; the 1-slot pool is kept busy.
    await s.client.task.add('one-job', { id: 'blocker2', commandLine: '/bin/sleep 5' });
    await waitFor('blocker2 running', async () => ((await s.client.task.get('one-job', 'blocker2')).state === 'running' ? true : undefined));
    await s.client.task.reactivate('one-job', 'later');
    const t = await s.client.task.get('one-job', 'later');
    expect([t.state, t.previousState]).toEqual(['active', 'completed']);
    expect(t.executionInfo).toEqual({ retryCount: 0, requeueCount: 0 });
    expect(t.nodeInfo).toBeUndefined();
    const listed = await s.client.task.list('one-job', { taskListOptions: { filter: "state eq 'active'" } });
    expect(listed.map((x) => x.id)).toEqual(['later']);
    expect((await s.client.job.getTaskCounts('one-job')).taskCounts).toMatchObject({ active: 1, running: 1 });
    const done = await waitFor('later failed again', completed('one-job', 'later'), 60_000);
    expect([done.executionInfo?.result, done.executionInfo?.retryCount]).toEqual(['failure', 0]);
  });

  it('maxTaskRetryCount -1 retries without limit until the task succeeds', async () => {
    await s.client.task.add('ops-job', { id: 'stubborn', commandLine: '/bin/bash -c "n=$(cat ../count 2>/dev/null || echo 0); n=$((n+1)); echo $n > ../count; test $n -ge 4"', constraints: { maxTaskRetryCount: -1 } });
    const t = await waitFor('stubborn done', completed('ops-job', 'stubborn'), 90_000);
    expect([t.executionInfo?.result, t.executionInfo?.retryCount, t.constraints?.maxTaskRetryCount]).toEqual(['success', 3, -1]);
  });

  it('retentionTime: the node deletes the task directory once the retention has passed', async () => {
    await s.client.task.add('ops-job', { id: 'short-lived', commandLine: '/bin/bash -c "echo kept > f.txt"', constraints: { retentionTime: 'PT3S' } });
    await s.client.task.add('ops-job', { id: 'long-lived', commandLine: '/bin/bash -c "echo kept > f.txt"' });
    const t = await waitFor('short-lived done', completed('ops-job', 'short-lived'));
    const l = await waitFor('long-lived done', completed('ops-job', 'long-lived'));
    const dirOf = (x: BatchServiceModels.CloudTask): string => path.join(s.dataDir, 'nodes', 'ops', x.nodeInfo!.nodeId!, 'workitems', 'ops-job', 'job-1', x.id!);
    expect(existsSync(path.join(dirOf(t), 'wd', 'f.txt'))).toBe(true);
    await waitFor('task dir removed', async () => (existsSync(dirOf(t)) ? undefined : true), 20_000);
    expect(existsSync(path.join(dirOf(l), 'wd', 'f.txt'))).toBe(true);
  });
});
