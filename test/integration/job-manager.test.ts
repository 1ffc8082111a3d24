import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobAdd } from '../../shared/api/schemas';
import { loadConfig } from '../../shared/config';
import { createRuntime, type Runtime } from '../../shared/runtime';
import { addJob, getJob } from '../../shared/services/jobs';
import { addJobWithManager, checkJobManager, PENDING_GRACE_MS } from '../../shared/services/job-manager';
import { terminateTask } from '../../shared/services/task-control';
import { TABLES } from '../../shared/storage/keys';
import { azuriteConnectionString, uniqueName } from '../support/storage';

let rt: Runtime;
let offset = 0;

beforeAll(async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bp-jm-'));
  rt = createRuntime(loadConfig({ AzureWebJobsStorage: azuriteConnectionString(), BATCHPLANE_STORAGE_PREFIX: uniqueName('m'), BATCHPLANE_DATA_DIR: dataDir }));
  rt.clock = () => new Date(Date.now() + offset);
  await rt.storage.ensure();
});
afterAll(async () => {
  if (rt) await Promise.all(TABLES.map((t) => rt.storage.tables[t].client.deleteTable()));
});

describe('job manager (services/job-manager)', () => {
  it('a job add that died between the job row and the task row is finished by the sweep, once', async () => {
    const id = uniqueName('job');
    // addJob alone writes only the job row (flagged): the state a crash mid-request leaves.
    await addJob(rt, jobAdd.parse({ id, poolInfo: { poolId: uniqueName('pool') }, jobManagerTask: { id: 'jm', commandLine: '/bin/true' } }));
    expect((await getJob(rt, id)).value.jobManagerPending).toBe(true);
    expect(await checkJobManager(rt, (await getJob(rt, id)).value)).toBe(false); // within the grace: the request may still be at it
    expect(await rt.tasks.get(id, 'jm')).toBeUndefined();
    offset = PENDING_GRACE_MS + 1000;
    try {
      expect(await checkJobManager(rt, (await getJob(rt, id)).value)).toBe(true);
    } finally {
      offset = 0;
    }
    const job = (await getJob(rt, id)).value;
    expect(job.jobManagerPending).toBeUndefined();
    expect((await rt.tasks.get(id, 'jm'))?.value).toMatchObject({ state: 'active', requiredSlots: 1, commandLine: '/bin/true' });
    expect(await checkJobManager(rt, job)).toBe(false);
    expect((await rt.tasks.counts(id)).active).toBe(1);
  });

  it('the sweep terminates the job with JMComplete however the job manager completed (here: task terminate)', async () => {
    const id = uniqueName('job');
    const added = await addJobWithManager(rt, jobAdd.parse({ id, poolInfo: { poolId: uniqueName('pool') }, jobManagerTask: { id: 'jm', commandLine: '/bin/true' } }));
    expect(added.value.jobManagerPending).toBeUndefined();
    expect(added.etag).toBe((await getJob(rt, id)).etag);
    expect(await checkJobManager(rt, added.value)).toBe(false);
    await terminateTask(rt, id, 'jm');
    expect(await checkJobManager(rt, (await getJob(rt, id)).value)).toBe(true);
    const job = (await getJob(rt, id)).value;
    expect([job.state, job.executionInfo.terminateReason]).toEqual(['completed', 'JMComplete']);
  });

  it('a job manager without killJobOnCompletion leaves the job alone', async () => {
    const id = uniqueName('job');
    await addJobWithManager(rt, jobAdd.parse({ id, poolInfo: { poolId: uniqueName('pool') }, jobManagerTask: { id: 'jm', commandLine: '/bin/true', killJobOnCompletion: false } }));
    await terminateTask(rt, id, 'jm');
    expect(await checkJobManager(rt, (await getJob(rt, id)).value)).toBe(false);
    expect((await getJob(rt, id)).value.state).toBe('active');
  });
});
