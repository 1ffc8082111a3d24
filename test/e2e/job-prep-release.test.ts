import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, IMAGE, startTestStack, waitFor, type TestStack } from './support/stack';
import { rawRequest } from './support/raw';

let s: TestStack;
const POOL = 'jpr-pool';

beforeAll(async () => {
  s = await startTestStack();
  await s.client.pool.add({ id: POOL, vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 2 });
});
afterAll(async () => {
  await s?.stop();
});

const text = async (body: NodeJS.ReadableStream | undefined): Promise<string> => new Response(body as unknown as ReadableStream).text();
const statusOf = (jobId: string, o: { filter?: string; select?: string; maxResults?: number } = {}) =>
  s.client.job.listPreparationAndReleaseTaskStatus(jobId, { jobListPreparationAndReleaseTaskStatusOptions: o });

describe('job preparation and release tasks', () => {
  it('preparation runs once per node before the job\'s tasks; release runs on terminate', async () => {
    // The preparation appends to a per-node log (AZ_BATCH_NODE_SHARED_DIR is per node) and leaves a
    // file in its working directory; every task prints that file and the log's line count.
    const prep = [
      'sleep 1',
      'test "$(pwd)" = "$AZ_BATCH_JOB_PREP_WORKING_DIR"',
      'test "$AZ_BATCH_TASK_DIR" = "$AZ_BATCH_NODE_ROOT_DIR/workitems/jpr-job/job-1/jobpreparation"',
      'test "$AZ_BATCH_JOB_ID" = jpr-job',
      'test "$STAGE" = prep',
      'echo prep >> "$AZ_BATCH_NODE_SHARED_DIR/prep-$AZ_BATCH_JOB_ID.log"',
      'echo ready > marker.txt',
    ].join(' && ');
    await s.client.job.add({
      id: 'jpr-job', poolInfo: { poolId: POOL },
      jobPreparationTask: { commandLine: `/bin/sh -c '${prep}'`, environmentSettings: [{ name: 'STAGE', value: 'prep' }] },
      jobReleaseTask: { commandLine: '/bin/sh -c \'sleep 1 && echo bye > "$AZ_BATCH_NODE_SHARED_DIR/released-$AZ_BATCH_JOB_ID" && test -d "$AZ_BATCH_JOB_PREP_DIR"\'' },
    });
    const job = await s.client.job.get('jpr-job');
    expect(job.jobPreparationTask).toMatchObject({ id: 'jobpreparation', waitForSuccess: true, rerunOnNodeRebootAfterSuccess: true, constraints: { maxTaskRetryCount: 0 }, userIdentity: { autoUser: { elevationLevel: 'nonadmin' } } });
    expect(job.jobReleaseTask).toMatchObject({ id: 'jobrelease', maxWallClockTime: 'PT15M' });
    const ids = Array.from({ length: 6 }, (_, i) => `t${i}`);
    await s.client.task.addCollection('jpr-job', ids.map((id) => ({ id, commandLine: '/bin/sh -c \'cat "$AZ_BATCH_JOB_PREP_WORKING_DIR/marker.txt" && wc -l < "$AZ_BATCH_NODE_SHARED_DIR/prep-$AZ_BATCH_JOB_ID.log" | tr -d " "\'' })));
    await waitFor('all tasks completed', async () => {
      const tasks = await s.client.task.list('jpr-job');
      return tasks.length === ids.length && tasks.every((t) => t.state === 'completed') ? tasks : undefined;
    }, 60_000);
    const nodes = new Set<string>();
    for (const id of ids) {
      const t = await s.client.task.get('jpr-job', id);
      expect(t.executionInfo).toMatchObject({ result: 'success', exitCode: 0 });
      nodes.add(t.nodeInfo!.nodeId!);
      // Prepared exactly once on the task's node, however many of the job's tasks it ran.
      expect(await text((await s.client.file.getFromTask('jpr-job', id, 'stdout.txt')).readableStreamBody)).toBe('ready\n1\n');
    }
    // The status API: one entry per node that ran the preparation (those that ran tasks).
    const status = await waitFor('status of every node', async () => {
      const l = await statusOf('jpr-job');
      return l.length === nodes.size && l.every((e) => e.jobPreparationTaskExecutionInfo?.state === 'completed') ? l : undefined;
    });
    for (const e of status) {
      expect(nodes.has(e.nodeId!)).toBe(true);
      expect(e.poolId).toBe(POOL);
      expect(e.nodeUrl).toMatch(new RegExp(`/pools/${POOL}/nodes/${e.nodeId}$`));
      expect(e.jobPreparationTaskExecutionInfo).toMatchObject({ state: 'completed', result: 'success', exitCode: 0, retryCount: 0, taskRootDirectory: 'workitems/jpr-job/job-1/jobpreparation' });
      expect(e.jobPreparationTaskExecutionInfo!.taskRootDirectoryUrl).toMatch(/\/files\/workitems\/jpr-job\/job-1\/jobpreparation$/);
      expect(e.jobReleaseTaskExecutionInfo).toBeUndefined();
      const out = await s.client.file.getFromComputeNode(POOL, e.nodeId!, 'workitems/jpr-job/job-1/jobpreparation/wd/marker.txt');
      expect(await text(out.readableStreamBody)).toBe('ready\n');
    }
    // OData on the list: $filter, $select, maxresults (paging with the next link).
    expect(await statusOf('jpr-job', { filter: "jobPreparationTaskExecutionInfo/result eq 'failure'" })).toHaveLength(0);
    expect(await statusOf('jpr-job', { filter: "jobPreparationTaskExecutionInfo/exitCode eq 0" })).toHaveLength(nodes.size);
    const selected = await statusOf('jpr-job', { select: 'nodeId' });
    expect(Object.keys(selected[0]!).filter((k) => k !== 'nodeId')).toEqual([]);
    const first = await statusOf('jpr-job', { maxResults: 1 });
    expect(first).toHaveLength(1);
    if (nodes.size > 1) {
      expect(first.odatanextLink).toBeDefined();
      const rest = await s.client.job.listPreparationAndReleaseTaskStatusNext(first.odatanextLink!);
      expect(rest[0]!.nodeId).not.toBe(first[0]!.nodeId);
    }
    // Terminate: the release task runs on every node that ran the preparation, then the job completes.
    await s.client.job.terminate('jpr-job');
    // The job stays terminating while the release tasks run.
    expect((await s.client.job.get('jpr-job')).state).toBe('terminating');
    const done = await waitFor('job completed', async () => {
      const j = await s.client.job.get('jpr-job');
      return j.state === 'completed' ? j : undefined;
    }, 30_000);
    expect(done.executionInfo?.terminateReason).toBe('UserTerminate');
    const after = await statusOf('jpr-job');
    for (const e of after) {
      expect(e.jobReleaseTaskExecutionInfo).toMatchObject({ state: 'completed', result: 'success', exitCode: 0, taskRootDirectory: 'workitems/jpr-job/job-1/jobrelease' });
      const released = await s.client.file.getFromComputeNode(POOL, e.nodeId!, 'shared/released-jpr-job');
      expect(await text(released.readableStreamBody)).toBe('bye\n');
    }
    await s.client.job.deleteMethod('jpr-job');
  });

  it('a failing preparation with waitForSuccess is retried, then keeps the job\'s tasks from running', async () => {
    await s.client.job.add({
      id: 'jpr-fail', poolInfo: { poolId: POOL },
      jobPreparationTask: { commandLine: '/bin/sh -c "echo no >&2; exit 3"', constraints: { maxTaskRetryCount: 1 } },
    });
    await s.client.task.add('jpr-fail', { id: 'never', commandLine: '/bin/sh -c \'echo ran > "$AZ_BATCH_NODE_SHARED_DIR/ran-never"\'' });
    const failed = await waitFor('preparation failed', async () => {
      const l = await statusOf('jpr-fail', { filter: "jobPreparationTaskExecutionInfo/result eq 'failure'" });
      return l.length ? l[0] : undefined;
    }, 30_000);
    expect(failed.jobPreparationTaskExecutionInfo).toMatchObject({ state: 'completed', result: 'failure', exitCode: 3, retryCount: 1, failureInfo: { category: 'usererror', code: 'FailureExitCode' } });
    expect(failed.jobPreparationTaskExecutionInfo?.lastRetryTime).toBeDefined();
    // The task was given back (requeued, no retry counted) and never ran.
    const t = await waitFor('task requeued', async () => {
      const x = await s.client.task.get('jpr-fail', 'never');
      return x.state === 'active' && (x.executionInfo?.requeueCount ?? 0) >= 1 ? x : undefined;
    }, 30_000);
    expect(t.executionInfo?.retryCount).toBe(0);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await s.client.task.get('jpr-fail', 'never')).state).toBe('active');
    for (const n of await s.client.computeNode.list(POOL)) {
      expect(await errorOf(s.client.file.getFromComputeNode(POOL, n.id!, 'shared/ran-never'))).toMatchObject({ statusCode: 404 });
    }
    await s.client.job.deleteMethod('jpr-fail');
  });

  it('validates the tasks, and the status of a job without them is 409', async () => {
    const add = (extra: Record<string, unknown>, id = 'jpr-bad') => errorOf(s.client.job.add({ id, poolInfo: { poolId: POOL }, ...extra }));
    expect(await add({ jobReleaseTask: { commandLine: '/bin/true' } })).toMatchObject({ statusCode: 400, code: 'MissingRequiredProperty' });
    // The official client checks commandLine itself; the service answers a raw request.
    const raw = await rawRequest(s.url, s.accountName, s.accountKey, 'POST', '/jobs?api-version=2022-10-01.16.0', JSON.stringify({ id: 'jpr-bad', poolInfo: { poolId: POOL }, jobPreparationTask: { id: 'p' } }), { 'content-type': 'application/json; odata=minimalmetadata' });
    expect(raw.status).toBe(400);
    expect(raw.json).toMatchObject({ code: 'MissingRequiredProperty', values: [{ key: 'PropertyName', value: 'jobPreparationTask.commandLine' }] });
    expect(await add({ jobPreparationTask: { commandLine: '/bin/true', containerSettings: { imageName: 'ubuntu' } } })).toMatchObject({ statusCode: 400, code: 'UnsupportedProperty' });
    expect(await add({ jobPreparationTask: { commandLine: '/bin/true' }, jobReleaseTask: { commandLine: '/bin/true', maxWallClockTime: 'PT1H' } })).toMatchObject({ statusCode: 400, code: 'InvalidPropertyValue' });
    expect(await add({ jobPreparationTask: { commandLine: '/bin/true', userIdentity: { userName: 'bob' } } })).toMatchObject({ statusCode: 400, code: 'UnsupportedProperty' });
    expect(await errorOf(s.client.job.get('jpr-bad'))).toMatchObject({ statusCode: 404, code: 'JobNotFound' });
    await s.client.job.add({ id: 'jpr-ids', poolInfo: { poolId: POOL }, jobPreparationTask: { id: 'setup', commandLine: '/bin/true' }, jobReleaseTask: { commandLine: '/bin/true' } });
    expect(await errorOf(s.client.task.add('jpr-ids', { id: 'SETUP', commandLine: '/bin/true' }))).toMatchObject({ statusCode: 409, code: 'TaskIdSameAsJobPreparationTask' });
    const many = await s.client.task.addCollection('jpr-ids', [{ id: 'jobrelease', commandLine: '/bin/true' }, { id: 'fine', commandLine: '/bin/true' }]);
    expect(many.value?.map((r) => [r.status, r.error?.code])).toEqual([['clientError', 'TaskIdSameAsJobReleaseTask'], ['success', undefined]]);
    await s.client.job.deleteMethod('jpr-ids');
    await s.client.job.add({ id: 'jpr-none', poolInfo: { poolId: POOL } });
    expect(await errorOf(statusOf('jpr-none'))).toMatchObject({ statusCode: 409, code: 'JobPreparationTaskOrReleaseTaskNotSpecified' });
    expect(await errorOf(statusOf('jpr-missing'))).toMatchObject({ statusCode: 404, code: 'JobNotFound' });
    await s.client.job.deleteMethod('jpr-none');
  });
});
