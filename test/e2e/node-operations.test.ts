import http from 'node:http';
import { BlobServiceClient, ContainerSASPermissions } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchServiceModels } from '@azure/batch';
import { sign } from '../../shared/api/sharedkey';
import { errorOf, IMAGE, startTestStack, waitFor, type TestStack } from './support/stack';

/** Compute node operations with the official client against the real local stack. */
type ComputeNode = BatchServiceModels.ComputeNode;

let s: TestStack;
let nodeId: string;
const POOL = 'nodeops';
const API = 'api-version=2022-10-01.16.0';

beforeAll(async () => {
  s = await startTestStack();
  await s.client.pool.add({ id: POOL, vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1, taskSlotsPerNode: 2 });
  const [node] = await waitFor('idle node', async () => {
    const nodes = await s.client.computeNode.list(POOL);
    return nodes.length === 1 && nodes[0]!.state === 'idle' ? nodes : undefined;
  });
  nodeId = node!.id!;
  await s.client.job.add({ id: 'nj', poolInfo: { poolId: POOL } });
});
afterAll(async () => {
  await s?.stop();
});

/** A signed request sent verbatim (no URL normalisation: `..` and `%2e%2e` reach the server as written). */
function raw(method: string, pathAndQuery: string, body?: string): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  const h: Record<string, string> = { 'ocp-date': new Date().toUTCString() };
  if (body !== undefined) {
    h['content-type'] = 'application/json; odata=minimalmetadata; charset=utf-8';
    h['content-length'] = String(Buffer.byteLength(body));
  }
  h.authorization = `SharedKey ${s.accountName}:${sign({ method, rawPathAndQuery: pathAndQuery, headers: h }, s.accountName, s.accountKey)}`;
  const u = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: pathAndQuery, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const codeOf = (text: string): string | undefined => (text ? (JSON.parse(text) as { code?: string }).code : undefined);

const node = (): Promise<ComputeNode> => s.client.computeNode.get(POOL, nodeId);
const nodeIs = (state: string, extra: (n: ComputeNode) => boolean = () => true) => async () => {
  const n = await node();
  return n.state === state && extra(n) ? n : undefined;
};
const completed = (taskId: string) => async () => {
  const t = await s.client.task.get('nj', taskId);
  return t.state === 'completed' ? t : undefined;
};
const running = (taskId: string) => async () => {
  const t = await s.client.task.get('nj', taskId);
  return t.state === 'running' ? t : undefined;
};

describe('compute node operations', () => {
  it('adds, updates and deletes node users; never stores or echoes the password', async () => {
    const added = await s.client.computeNode.addUser(POOL, nodeId, { name: 'alice', password: 'S3cret!pass', isAdmin: true });
    expect(added._response.status).toBe(201);
    expect(added._response.headers.get('location')).toMatch(new RegExp(`/pools/${POOL}/nodes/${nodeId}/users/alice$`));
    expect(await errorOf(s.client.computeNode.addUser(POOL, nodeId, { name: 'alice', password: 'x' }))).toMatchObject({ statusCode: 409, code: 'NodeUserExists' });
    const missing = await raw('POST', `/pools/${POOL}/nodes/${nodeId}/users?${API}`, JSON.stringify({ password: 'x' }));
    expect([missing.status, codeOf(missing.text)]).toEqual([400, 'MissingRequiredProperty']);
    const badTime = await raw('POST', `/pools/${POOL}/nodes/${nodeId}/users?${API}`, JSON.stringify({ name: 'bob', expiryTime: 'soon' }));
    expect([badTime.status, codeOf(badTime.text)]).toEqual([400, 'InvalidPropertyValue']);
    expect((await s.client.computeNode.updateUser(POOL, nodeId, 'alice', { sshPublicKey: 'ssh-rsa AAAAB3Nza alice@host' }))._response.status).toBe(200);
    expect(await errorOf(s.client.computeNode.updateUser(POOL, nodeId, 'nobody', { password: 'x' }))).toMatchObject({ statusCode: 404, code: 'NodeUserNotFound' });
    const stored = (await s.rt.nodes.get(POOL, nodeId))!.value.users!;
    expect(stored).toEqual([expect.objectContaining({ name: 'alice', isAdmin: true, sshPublicKey: 'ssh-rsa AAAAB3Nza alice@host' })]);
    expect(JSON.stringify(stored)).not.toContain('S3cret');
    expect(stored[0]!.passwordHash).toBeUndefined(); // PUT without a password removes it
    expect((await raw('GET', `/pools/${POOL}/nodes/${nodeId}?${API}`)).text).not.toMatch(/S3cret|alice/);
    expect((await s.client.computeNode.deleteUser(POOL, nodeId, 'alice'))._response.status).toBe(200);
    expect(await errorOf(s.client.computeNode.deleteUser(POOL, nodeId, 'alice'))).toMatchObject({ statusCode: 404, code: 'NodeUserNotFound' });
    expect(await errorOf(s.client.computeNode.addUser(POOL, 'no-such-node', { name: 'x', password: 'x' }))).toMatchObject({ statusCode: 404, code: 'NodeNotFound' });
  });

  it('answers remote login settings for the local node', async () => {
    const r = await s.client.computeNode.getRemoteLoginSettings(POOL, nodeId);
    expect([r.remoteLoginIPAddress, r.remoteLoginPort]).toEqual(['127.0.0.1', 22]);
  });

  it('disables scheduling (requeueing the running task), then enables it again', async () => {
    await s.client.task.add('nj', { id: 'ds-long', commandLine: '/bin/bash -c "sleep 3; echo ok"' });
    await waitFor('ds-long running', running('ds-long'), 30_000);
    expect((await s.client.computeNode.disableScheduling(POOL, nodeId, { nodeDisableSchedulingOption: 'requeue' }))._response.status).toBe(200);
    expect(await errorOf(s.client.computeNode.disableScheduling(POOL, nodeId))).toMatchObject({ statusCode: 409, code: 'NodeAlreadyInTargetSchedulingState' });
    const back = await s.client.task.get('nj', 'ds-long');
    expect([back.state, back.executionInfo?.requeueCount]).toEqual(['active', 1]);
    const offline = await waitFor('node offline', nodeIs('offline', (n) => n.schedulingState === 'disabled'), 30_000);
    expect(offline.runningTasksCount).toBe(0);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await s.client.task.get('nj', 'ds-long')).state).toBe('active'); // a disabled node gets no work
    expect((await s.client.computeNode.enableScheduling(POOL, nodeId))._response.status).toBe(200);
    expect(await errorOf(s.client.computeNode.enableScheduling(POOL, nodeId))).toMatchObject({ statusCode: 409, code: 'NodeAlreadyInTargetSchedulingState' });
    const done = await waitFor('ds-long done', completed('ds-long'), 30_000);
    expect(done.executionInfo?.result).toBe('success');
    expect((await node()).schedulingState).toBe('enabled');
  });

  it('rejects bad options without changing the node; disable with terminate ends the running task', async () => {
    const bad = await raw('POST', `/pools/${POOL}/nodes/${nodeId}/reboot?${API}`, JSON.stringify({ nodeRebootOption: 'later' }));
    expect([bad.status, codeOf(bad.text)]).toEqual([400, 'InvalidPropertyValue']);
    const badDisable = await raw('POST', `/pools/${POOL}/nodes/${nodeId}/disablescheduling?${API}`, JSON.stringify({ nodeDisableSchedulingOption: 'retaineddata' }));
    expect([badDisable.status, codeOf(badDisable.text)]).toEqual([400, 'InvalidPropertyValue']);
    expect(await node()).toMatchObject({ state: 'idle', schedulingState: 'enabled' });
    await s.client.task.add('nj', { id: 'dt', commandLine: '/bin/sleep 60' });
    await waitFor('dt running', running('dt'), 30_000);
    await s.client.computeNode.disableScheduling(POOL, nodeId, { nodeDisableSchedulingOption: 'terminate' });
    const dt = await s.client.task.get('nj', 'dt');
    expect([dt.state, dt.executionInfo?.result, dt.executionInfo?.failureInfo?.code]).toEqual(['completed', 'failure', 'TaskEnded']);
    await waitFor('offline', nodeIs('offline'), 30_000);
    await s.client.computeNode.enableScheduling(POOL, nodeId);
    expect(await node()).toMatchObject({ state: 'idle', schedulingState: 'enabled' });
  });

  it('reboots the node (requeue): the agent restarts, the task runs again, files are kept', async () => {
    await s.client.task.add('nj', { id: 'keep', commandLine: '/bin/bash -c "echo kept > $AZ_BATCH_NODE_SHARED_DIR/kept.txt"' });
    await waitFor('keep done', completed('keep'), 30_000);
    const before = await node();
    const pidBefore = (await s.rt.nodes.get(POOL, nodeId))!.value.provider.pid;
    await s.client.task.add('nj', { id: 'rb', commandLine: '/bin/bash -c "sleep 3; echo again"' });
    await waitFor('rb running', running('rb'), 30_000);
    const res = await s.client.computeNode.reboot(POOL, nodeId);
    expect(res._response.status).toBe(202);
    expect((await node()).state).toBe('rebooting');
    expect(await errorOf(s.client.computeNode.reboot(POOL, nodeId))).toMatchObject({ statusCode: 409, code: 'NodeBeingRebooted' });
    expect(await errorOf(s.client.computeNode.addUser(POOL, nodeId, { name: 'x', password: 'x' }))).toMatchObject({ statusCode: 409, code: 'NodeBeingRebooted' });
    expect((await s.client.task.get('nj', 'rb')).executionInfo?.requeueCount).toBe(1);
    const after = await waitFor('rebooted', async () => {
      const n = await node();
      return (n.state === 'idle' || n.state === 'running') && n.lastBootTime!.getTime() > before.lastBootTime!.getTime() ? n : undefined;
    }, 60_000);
    expect(after.nodeAgentInfo?.lastUpdateTime?.getTime()).toBe(after.lastBootTime!.getTime());
    expect((await s.rt.nodes.get(POOL, nodeId))!.value.provider.pid).not.toBe(pidBefore);
    const rb = await waitFor('rb done', completed('rb'), 30_000);
    expect(rb.executionInfo?.result).toBe('success');
    const kept = await s.client.file.getFromComputeNode(POOL, nodeId, 'shared/kept.txt');
    expect(await new Response(kept.readableStreamBody as unknown as ReadableStream).text()).toBe('kept\n');
    const recent = await node();
    expect(recent.recentTasks?.map((t) => t.taskId)).toEqual(expect.arrayContaining(['rb', 'keep']));
  });

  it('reimages the node (terminate): the running task fails with TaskEnded and the node files are gone', async () => {
    await s.client.task.add('nj', { id: 'ri', commandLine: '/bin/sleep 60' });
    await waitFor('ri running', running('ri'), 30_000);
    expect((await s.client.computeNode.reimage(POOL, nodeId, { nodeReimageOption: 'terminate' }))._response.status).toBe(202);
    expect((await node()).state).toBe('reimaging');
    expect(await errorOf(s.client.computeNode.reboot(POOL, nodeId))).toMatchObject({ statusCode: 409, code: 'NodeBeingReimaged' });
    const ri = await s.client.task.get('nj', 'ri');
    expect([ri.state, ri.executionInfo?.failureInfo?.code]).toEqual(['completed', 'TaskEnded']);
    await waitFor('reimaged', nodeIs('idle'), 60_000);
    expect(await errorOf(s.client.file.getPropertiesFromComputeNode(POOL, nodeId, 'shared/kept.txt'))).toMatchObject({ statusCode: 404 });
  });

  it('reboots with taskcompletion: the running task finishes first', async () => {
    await s.client.task.add('nj', { id: 'tc', commandLine: '/bin/bash -c "sleep 3; echo finished"' });
    await waitFor('tc running', running('tc'), 30_000);
    await s.client.computeNode.reboot(POOL, nodeId, { nodeRebootOption: 'taskcompletion' });
    expect((await node()).state).toBe('rebooting');
    const tc = await waitFor('tc done', completed('tc'), 30_000);
    expect([tc.executionInfo?.result, tc.executionInfo?.requeueCount]).toEqual(['success', 0]);
    await waitFor('back idle', nodeIs('idle'), 60_000);
  });

  it('uploads the node agent logs to a blob container', async () => {
    const blobs = BlobServiceClient.fromConnectionString(s.storageConnectionString);
    const container = blobs.getContainerClient('nodelogs');
    await container.createIfNotExists();
    const containerUrl = await container.generateSasUrl({ permissions: ContainerSASPermissions.parse('racwl'), expiresOn: new Date(Date.now() + 3600_000) });
    const r = await s.client.computeNode.uploadBatchServiceLogs(POOL, nodeId, { containerUrl, startTime: new Date(Date.now() - 3600_000) });
    expect(r.virtualDirectoryName).toMatch(new RegExp(`^${s.accountName}/${POOL}/${nodeId}/[0-9a-f-]{36}$`));
    expect(r.numberOfFilesUploaded).toBeGreaterThanOrEqual(4); // three restarts above rotated the log three times
    const names = await waitFor('blobs uploaded', async () => {
      const out: string[] = [];
      for await (const b of container.listBlobsFlat({ prefix: `${r.virtualDirectoryName}/` })) out.push(b.name);
      return out.length === r.numberOfFilesUploaded ? out : undefined;
    }, 30_000);
    const current = names.find((n) => n.endsWith(`${nodeId}.agent.log`))!;
    expect((await container.getBlobClient(current).downloadToBuffer()).toString()).toContain('agent started');
    const future = await s.client.computeNode.uploadBatchServiceLogs(POOL, nodeId, { containerUrl, startTime: new Date(Date.now() + 3600_000) });
    expect(future.numberOfFilesUploaded).toBe(0);
    const ident = await raw('POST', `/pools/${POOL}/nodes/${nodeId}/uploadbatchservicelogs?${API}`, JSON.stringify({ containerUrl, startTime: new Date().toISOString(), identityReference: { resourceId: '/x' } }));
    expect([ident.status, codeOf(ident.text)]).toEqual([400, 'UnsupportedProperty']);
    const noStart = await raw('POST', `/pools/${POOL}/nodes/${nodeId}/uploadbatchservicelogs?${API}`, JSON.stringify({ containerUrl }));
    expect([noStart.status, codeOf(noStart.text)]).toEqual([400, 'MissingRequiredProperty']);
  });

  it('deletes node and task files (recursive for directories) and never leaves the node root', async () => {
    await s.client.task.add('nj', {
      id: 'files',
      commandLine: '/bin/bash -c "mkdir -p $AZ_BATCH_NODE_SHARED_DIR/d/sub && echo a > $AZ_BATCH_NODE_SHARED_DIR/d/sub/a.txt && echo b > $AZ_BATCH_NODE_SHARED_DIR/b.txt && ln -s /etc/passwd $AZ_BATCH_NODE_SHARED_DIR/host && ln -s /etc $AZ_BATCH_NODE_SHARED_DIR/etc && echo out > out.txt"',
    });
    const t = await waitFor('files done', completed('files'), 30_000);
    expect(t.executionInfo?.exitCode).toBe(0);
    expect((await s.client.file.deleteFromComputeNode(POOL, nodeId, 'shared/b.txt'))._response.status).toBe(200);
    expect(await errorOf(s.client.file.getPropertiesFromComputeNode(POOL, nodeId, 'shared/b.txt'))).toMatchObject({ statusCode: 404 });
    expect(await errorOf(s.client.file.deleteFromComputeNode(POOL, nodeId, 'shared/d'))).toMatchObject({ statusCode: 409, code: 'OperationInvalidForCurrentState' });
    await s.client.file.deleteFromComputeNode(POOL, nodeId, 'shared/d', { recursive: true });
    expect(await errorOf(s.client.file.deleteFromComputeNode(POOL, nodeId, 'shared/d', { recursive: true }))).toMatchObject({ statusCode: 404, code: 'FileNotFound' });
    expect((await s.client.file.deleteFromTask('nj', 'files', 'wd/out.txt'))._response.status).toBe(200);
    expect(await errorOf(s.client.file.getFromTask('nj', 'files', 'wd/out.txt'))).toMatchObject({ statusCode: 404 });
    const base = `/pools/${POOL}/nodes/${nodeId}/files`;
    const escapes = ['..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd', '%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd', 'shared/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd', '%2Fetc%2Fpasswd', 'shared/host', 'shared/etc/passwd', 'shared/etc', 'shared/..%5C..%5Cetc'];
    for (const p of escapes) {
      for (const method of ['GET', 'HEAD', 'DELETE']) {
        const r = await raw(method, `${base}/${p}?${API}`);
        expect([400, 404], `${method} ${p} → ${r.status} ${r.text}`).toContain(r.status);
        expect(r.text).not.toContain('root:');
      }
      const task = await raw('DELETE', `/jobs/nj/tasks/files/files/${p}?${API}`);
      expect([400, 404], `DELETE task file ${p}`).toContain(task.status);
    }
    const lit = await raw('GET', `${base}/shared/../../../../../../../../etc/passwd?${API}`);
    expect([400, 404]).toContain(lit.status);
    expect(lit.text).not.toContain('root:');
    const list = await s.client.file.listFromComputeNode(POOL, nodeId, { recursive: true });
    expect(list.map((f) => f.name).filter((n) => /etc|host|passwd/.test(n!))).toEqual([]);
  });
});
