import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, IMAGE, startTestStack, waitFor, type TestStack } from './support/stack';
import { rawRequest } from './support/raw';

const API = 'api-version=2022-10-01.16.0';
let s: TestStack;
beforeAll(async () => {
  s = await startTestStack();
});
afterAll(async () => {
  await s?.stop();
});

const raw = (method: string, path: string, body?: unknown) => rawRequest(s.url, s.accountName, s.accountKey, method, `${path}?${API}`, body === undefined ? undefined : JSON.stringify(body));
const idleNodes = (poolId: string, n: number) => waitFor(`${n} idle nodes in ${poolId}`, async () => {
  const nodes = await s.client.computeNode.list(poolId);
  return nodes.length === n && nodes.every((x) => x.state === 'idle') ? nodes : undefined;
});

describe('pool patch and updateproperties', () => {
  it('PATCH changes only what it is given, honours If-Match; updateproperties replaces', async () => {
    await s.client.pool.add({ id: 'po', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0, metadata: [{ name: 'a', value: '1' }], enableInterNodeCommunication: true });
    const before = await waitFor('po steady', async () => {
      const x = await s.client.pool.get('po');
      return x.allocationState === 'steady' ? x : undefined;
    });
    expect(before.enableInterNodeCommunication).toBe(true);
    await s.client.pool.patch('po', { startTask: { commandLine: '/bin/true' } });
    let p = await s.client.pool.get('po');
    expect(p.metadata).toEqual([{ name: 'a', value: '1' }]);
    expect(p.startTask).toMatchObject({ commandLine: '/bin/true', waitForSuccess: true, maxTaskRetryCount: 0 });
    expect(p.eTag).not.toBe(before.eTag);

    expect(await errorOf(s.client.pool.patch('po', { metadata: [] }, { poolPatchOptions: { ifMatch: before.eTag } }))).toMatchObject({ statusCode: 412, code: 'ConditionNotMet' });
    const patched = await s.client.pool.patch('po', { metadata: [{ name: 'b', value: '2' }] }, { poolPatchOptions: { ifMatch: p.eTag } });
    p = await s.client.pool.get('po');
    expect(patched.eTag).toBe(p.eTag);
    expect(p.metadata).toEqual([{ name: 'b', value: '2' }]);
    expect(p.startTask?.commandLine).toBe('/bin/true');

    const put = await raw('POST', '/pools/po/updateproperties', { metadata: [{ name: 'c', value: '3' }], certificateReferences: [], applicationPackageReferences: [] });
    expect(put.status).toBe(204);
    p = await s.client.pool.get('po');
    expect(put.headers.get('etag')).toBe(p.eTag);
    expect(p.startTask).toBeUndefined();
    expect(p.metadata).toEqual([{ name: 'c', value: '3' }]);
    expect(p.targetNodeCommunicationMode).toBe('default');
    await s.client.pool.updateProperties('po', { startTask: { commandLine: '/bin/echo hi', waitForSuccess: false }, metadata: [], certificateReferences: [], applicationPackageReferences: [] });
    p = await s.client.pool.get('po');
    expect(p.startTask).toMatchObject({ commandLine: '/bin/echo hi', waitForSuccess: false });
    expect(p.metadata).toBeUndefined();
    expect(p.enableInterNodeCommunication).toBe(true);
  });

  it.each([
    ['updateproperties without metadata', 'POST', '/pools/po/updateproperties', { certificateReferences: [], applicationPackageReferences: [] }, 400, 'MissingRequiredProperty', 'metadata'],
    ['updateproperties without certificateReferences', 'POST', '/pools/po/updateproperties', { metadata: [], applicationPackageReferences: [] }, 400, 'MissingRequiredProperty', 'certificateReferences'],
    ['patch with a certificate', 'PATCH', '/pools/po', { certificateReferences: [{ thumbprint: 'ab', thumbprintAlgorithm: 'sha1' }] }, 400, 'UnsupportedProperty', 'certificateReferences'],
    ['patch with an application package', 'PATCH', '/pools/po', { applicationPackageReferences: [{ applicationId: 'app' }] }, 400, 'UnsupportedProperty', 'applicationPackageReferences'],
    ['patch with a named start task user', 'PATCH', '/pools/po', { startTask: { commandLine: 'x', userIdentity: { username: 'u' } } }, 400, 'UnsupportedProperty', 'startTask.userIdentity.username'],
    ['patch of a missing pool', 'PATCH', '/pools/nope', { metadata: [] }, 404, 'PoolNotFound', undefined],
  ])('%s', async (_name, method, path, body, status, code, property) => {
    const before = await s.client.pool.get('po');
    const res = await raw(method, path, body);
    expect(res.status).toBe(status);
    expect(res.json?.code).toBe(code);
    if (property) expect(res.json?.values).toContainEqual({ key: 'PropertyName', value: property });
    expect((await s.client.pool.get('po')).eTag).toBe(before.eTag);
  });

  it('validates vmSize and taskSlotsPerNode (≤ 4 × cores) at creation', async () => {
    const bad = (over: Record<string, unknown>) => raw('POST', '/pools', { id: 'bad', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 0, ...over });
    for (const [over, property] of [[{ vmSize: 'standard_nope' }, 'vmSize'], [{ taskSlotsPerNode: 5 }, 'taskSlotsPerNode'], [{ taskSlotsPerNode: 0 }, 'taskSlotsPerNode']] as const) {
      const res = await bad(over);
      expect(res.status).toBe(400);
      expect(res.json?.code).toBe('InvalidPropertyValue');
      expect(res.json?.values).toContainEqual({ key: 'PropertyName', value: property });
    }
    expect((await bad({ vmSize: 'standard_d2s_v3', taskSlotsPerNode: 8 })).status).toBe(201);
  });
});

describe('removenodes', () => {
  it('removes the named node after its task completes (taskcompletion); 409 while resizing; 404 for an unknown node', async () => {
    await s.client.pool.add({ id: 'rm', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 2 });
    await idleNodes('rm', 2);
    expect(await errorOf(s.client.pool.removeNodes('rm', { nodeList: ['tvmps_nope'] }))).toMatchObject({ statusCode: 404, code: 'NodeNotFound' });
    await s.client.job.add({ id: 'rm-job', poolInfo: { poolId: 'rm' } });
    await s.client.task.add('rm-job', { id: 'busy', commandLine: '/bin/sleep 3' });
    const running = await waitFor('busy running', async () => {
      const t = await s.client.task.get('rm-job', 'busy');
      return t.state === 'running' ? t : undefined;
    });
    const victim = running.nodeInfo!.nodeId!;
    const res = await s.client.pool.removeNodes('rm', { nodeList: [victim], nodeDeallocationOption: 'taskcompletion' });
    expect(res.eTag).toBeDefined();
    const p = await s.client.pool.get('rm');
    expect([p.allocationState, p.targetDedicatedNodes]).toEqual(['resizing', 1]);
    expect(await errorOf(s.client.pool.removeNodes('rm', { nodeList: [victim] }))).toMatchObject({ statusCode: 409, code: 'PoolBeingResized' });
    await waitFor('victim leaving', async () => ((await s.client.computeNode.get('rm', victim)).state === 'leavingpool' ? true : undefined));
    const steady = await waitFor('steady at 1', async () => {
      const x = await s.client.pool.get('rm');
      return x.allocationState === 'steady' ? x : undefined;
    }, 60_000);
    expect(steady.currentDedicatedNodes).toBe(1);
    const left = await s.client.computeNode.list('rm');
    expect(left.map((n) => n.id)).not.toContain(victim);
    const t = await s.client.task.get('rm-job', 'busy');
    expect([t.state, t.executionInfo?.exitCode, t.executionInfo?.requeueCount]).toEqual(['completed', 0, 0]);
  });

  it.each([
    ['an empty list', [], 400, 'InvalidPropertyValue'],
    ['101 nodes', Array.from({ length: 101 }, (_, i) => `n${i}`), 413, 'RequestBodyTooLarge'],
  ])('refuses %s', async (_name, nodeList, status, code) => {
    const res = await raw('POST', '/pools/rm/removenodes', { nodeList });
    expect([res.status, res.json?.code]).toEqual([status, code]);
  });
});

describe('nodeFillType', () => {
  it.each([
    ['pack', 1],
    ['spread', 2],
  ] as const)('%s: two tasks on two idle nodes with two slots each use %i node(s)', async (fill, nodesUsed) => {
    const poolId = `fill-${fill}`;
    await s.client.pool.add({ id: poolId, vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 2, taskSlotsPerNode: 2, taskSchedulingPolicy: { nodeFillType: fill } });
    expect((await s.client.pool.get(poolId)).taskSchedulingPolicy?.nodeFillType).toBe(fill === 'pack' ? 'Pack' : 'Spread');
    await idleNodes(poolId, 2);
    await new Promise((r) => setTimeout(r, 1500)); // both agents are in their long poll
    await s.client.job.add({ id: `${poolId}-job`, poolInfo: { poolId } });
    await s.client.task.addCollection(`${poolId}-job`, [{ id: 't1', commandLine: '/bin/sleep 3' }, { id: 't2', commandLine: '/bin/sleep 3' }]);
    const done = await waitFor('both done', async () => {
      const ts = await s.client.task.list(`${poolId}-job`);
      return ts.length === 2 && ts.every((t) => t.state === 'completed') ? ts : undefined;
    });
    expect(new Set(done.map((t) => t.nodeInfo?.nodeId)).size).toBe(nodesUsed);
    // A task needing every slot of a node still runs (spread's share never starves it).
    await s.client.task.add(`${poolId}-job`, { id: 'wide', commandLine: '/bin/true', requiredSlots: 2 });
    await waitFor('wide done', async () => ((await s.client.task.get(`${poolId}-job`, 'wide')).state === 'completed' ? true : undefined), 30_000);
    await s.client.pool.deleteMethod(poolId);
  });
});
