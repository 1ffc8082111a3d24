import { describe, expect, it } from 'vitest';
import type { AllocationState, NodeRecord, NodeState, PoolRecord, PoolSpec, PoolState, StartTaskInfo } from '../../shared/domain/model';
import { namedNodesFirst, newPool, resizeSettled, startNodeRemoval, updatePoolProperties } from '../../shared/domain/pool';
import { bootState, startTaskOf, startTaskReported } from '../../shared/domain/starttask';
import { slotsToClaim, type FillView } from '../../shared/domain/fill';
import type { BatchError} from '../../shared/errors';
import { type BatchErrorCode } from '../../shared/errors';
import { codeOf } from '../support/errors';

const T0 = new Date('2024-04-11T19:00:00.000Z');
const T1 = new Date('2024-04-11T19:05:00.000Z');

const spec: PoolSpec = {
  id: 'p1', vmSize: 'Standard_D2s_v3', resizeTimeout: 'PT15M', targetDedicatedNodes: 3, targetLowPriorityNodes: 0, enableAutoScale: false,
  enableInterNodeCommunication: false, taskSlotsPerNode: 1, taskSchedulingPolicy: { nodeFillType: 'spread' }, metadata: [{ name: 'a', value: '1' }],
};

function pool(state: PoolState, allocationState: AllocationState): PoolRecord {
  return { ...newPool(spec, T0), state, allocationState, currentDedicatedNodes: 3, resizeGeneration: 4 };
}


const node = (id: string, state: NodeState = 'idle', isDedicated = true): NodeRecord => ({
  id, poolId: 'p1', state, schedulingState: 'enabled', stateTransitionTime: T0.toISOString(), allocationTime: T0.toISOString(), ipAddress: '127.0.0.1',
  affinityId: `TVM:${id}`, vmSize: 'Standard_D2s_v3', isDedicated, totalTasksRun: 0, totalTasksSucceeded: 0, runningTasksCount: 0, runningTaskSlotsCount: 0, provider: {},
});

describe('removenodes: startNodeRemoval', () => {
  it.each<[PoolState, AllocationState, BatchErrorCode | undefined]>([
    ['active', 'steady', undefined],
    ['active', 'resizing', 'PoolBeingResized'],
    ['active', 'stopping', 'PoolBeingResized'],
    ['deleting', 'steady', 'PoolBeingDeleted'],
  ])('%s/%s → %s', (state, alloc, code) => {
    expect(codeOf(() => startNodeRemoval(pool(state, alloc), [node('n1')], { deallocation: 'requeue' }, T1))).toBe(code);
  });

  it('lowers the target by the nodes named and starts a resize that removes exactly them', () => {
    const next = startNodeRemoval(pool('active', 'steady'), [node('n1'), node('n3')], { deallocation: 'taskcompletion', resizeTimeout: 'PT10M' }, T1);
    expect(next).toMatchObject({
      targetDedicatedNodes: 1, targetLowPriorityNodes: 0, allocationState: 'resizing', allocationStateTransitionTime: T1.toISOString(),
      nodesToRemove: ['n1', 'n3'], nodeDeallocationOption: 'taskcompletion', resizeTimeout: 'PT10M', resizeGeneration: 5,
    });
    const settled = resizeSettled(next, 1, 0, T1);
    expect(settled.nodesToRemove).toBeUndefined();
    expect(settled.allocationState).toBe('steady');
  });

  it.each<[string, string[], number, string[]]>([
    ['named nodes only', ['b', 'c'], 2, ['b', 'c']],
    ['one named node already gone: the least useful other', ['b', 'gone'], 2, ['b', 'x']],
    ['never more than asked', ['a', 'b', 'c'], 1, ['a']],
  ])('shrink order: %s', (_name, named, count, expected) => {
    const nodes = [node('a', 'running'), node('b', 'running'), node('c'), node('x', 'starttaskfailed')];
    const fallback = (ns: NodeRecord[], n: number) => new Set(ns.filter((x) => x.state === 'starttaskfailed').concat(ns).slice(0, n).map((x) => x.id));
    expect([...namedNodesFirst(named, fallback)(nodes, count)].sort()).toEqual(expected);
  });
});

describe('PATCH / updateproperties: updatePoolProperties', () => {
  const st = startTaskOf({ commandLine: '/bin/true' });
  it.each<[string, boolean, Parameters<typeof updatePoolProperties>[1], Partial<PoolRecord>]>([
    ['patch metadata only', false, { metadata: [{ name: 'b', value: '2' }] }, { metadata: [{ name: 'b', value: '2' }], startTask: st, targetNodeCommunicationMode: 'classic' }],
    ['patch nothing', false, {}, { metadata: [{ name: 'a', value: '1' }], startTask: st }],
    ['replace without start task removes it', true, { metadata: [], certificateReferences: [], applicationPackageReferences: [] }, { metadata: [], startTask: undefined, certificateReferences: [], applicationPackageReferences: undefined, targetNodeCommunicationMode: 'default' }],
    ['replace with a start task', true, { startTask: startTaskOf({ commandLine: 'x', waitForSuccess: false }), metadata: [{ name: 'c', value: '3' }], certificateReferences: [], applicationPackageReferences: [] }, { metadata: [{ name: 'c', value: '3' }], startTask: { ...st, commandLine: 'x', waitForSuccess: false } }],
  ])('%s', (_name, replace, change, expected) => {
    const p = { ...pool('active', 'resizing'), startTask: st, targetNodeCommunicationMode: 'classic' };
    const next = updatePoolProperties(p, change, replace, T1);
    expect(next).toMatchObject({ ...expected, lastModified: T1.toISOString(), allocationState: 'resizing' });
    for (const [k, v] of Object.entries(expected)) if (v === undefined) expect(next[k as keyof PoolRecord]).toBeUndefined();
  });

  it('refuses a pool being deleted', () => {
    expect(codeOf(() => updatePoolProperties(pool('deleting', 'steady'), { metadata: [] }, false, T1))).toBe('PoolBeingDeleted');
  });
});

describe('start task: startTaskOf', () => {
  it('fills in Azure defaults', () => {
    expect(startTaskOf({ commandLine: '/bin/true' })).toEqual({ commandLine: '/bin/true', userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'nonadmin' } }, maxTaskRetryCount: 0, waitForSuccess: true });
  });
  it.each<[string, Parameters<typeof startTaskOf>[0], string]>([
    ['named user', { commandLine: 'x', userIdentity: { username: 'bob' } }, 'startTask.userIdentity.username'],
    ['container', { commandLine: 'x', containerSettings: { imageName: 'ubuntu' } }, 'startTask.containerSettings'],
    ['managed identity', { commandLine: 'x', resourceFiles: [{ httpUrl: 'http://a/b', filePath: 'b', identityReference: { resourceId: 'r' } }] }, 'startTask.resourceFiles.identityReference'],
  ])('refuses %s with UnsupportedProperty', (_name, input, property) => {
    try {
      startTaskOf(input);
      expect.unreachable();
    } catch (err) {
      expect((err as BatchError).code).toBe('UnsupportedProperty');
      expect((err as BatchError).values).toContainEqual({ key: 'PropertyName', value: property });
    }
  });
});

describe('start task: node states', () => {
  it.each([[undefined, 'idle'], [startTaskOf({ commandLine: 'x' }), 'waitingforstarttask'], [startTaskOf({ commandLine: 'x', waitForSuccess: false }), 'idle']] as const)('boot with %o → %s', (st, state) => {
    expect(bootState(st)).toBe(state);
  });

  const running: StartTaskInfo = { state: 'running', startTime: T0.toISOString(), retryCount: 0 };
  const ok: StartTaskInfo = { state: 'completed', startTime: T0.toISOString(), endTime: T1.toISOString(), exitCode: 0, result: 'success', retryCount: 0 };
  const failed: StartTaskInfo = { ...ok, exitCode: 3, result: 'failure', retryCount: 2, failureInfo: { category: 'usererror', code: 'FailureExitCode', message: 'x' } };
  it.each<[NodeState, StartTaskInfo, NodeState]>([
    ['waitingforstarttask', running, 'waitingforstarttask'],
    ['waitingforstarttask', ok, 'idle'],
    ['waitingforstarttask', failed, 'starttaskfailed'],
    ['idle', failed, 'idle'],
    ['running', ok, 'running'],
    ['starttaskfailed', failed, 'starttaskfailed'],
  ])('%s + %o → %s', (state, info, expected) => {
    const change = startTaskReported(node('n', state), info);
    expect(change?.startTaskInfo).toEqual(info);
    expect(change?.state ?? state).toBe(expected);
  });

  it('a repeated report writes nothing', () => {
    expect(startTaskReported({ ...node('n', 'idle'), startTaskInfo: { ...ok } }, ok)).toBeUndefined();
  });
});

describe('nodeFillType: slotsToClaim', () => {
  it.each<[FillView, { slots: number; fallbackSlots: number }]>([
    [{ fillType: 'pack', freeSlots: 4, otherIdleNodes: 3, running: 0 }, { slots: 4, fallbackSlots: 0 }],
    [{ fillType: 'spread', freeSlots: 4, otherIdleNodes: 0, running: 0 }, { slots: 4, fallbackSlots: 0 }],
    [{ fillType: 'spread', freeSlots: 2, otherIdleNodes: 1, running: 0 }, { slots: 1, fallbackSlots: 2 }],
    [{ fillType: 'spread', freeSlots: 4, otherIdleNodes: 1, running: 0 }, { slots: 2, fallbackSlots: 4 }],
    [{ fillType: 'spread', freeSlots: 4, otherIdleNodes: 7, running: 0 }, { slots: 1, fallbackSlots: 4 }],
    [{ fillType: 'spread', freeSlots: 1, otherIdleNodes: 3, running: 0 }, { slots: 1, fallbackSlots: 0 }],
    [{ fillType: 'spread', freeSlots: 0, otherIdleNodes: 3, running: 0 }, { slots: 0, fallbackSlots: 0 }],
    [{ fillType: 'spread', freeSlots: 3, otherIdleNodes: 1, running: 1 }, { slots: 0, fallbackSlots: 0 }],
    [{ fillType: 'spread', freeSlots: 1, otherIdleNodes: 1, running: 1 }, { slots: 0, fallbackSlots: 0 }],
    [{ fillType: 'spread', freeSlots: 3, otherIdleNodes: 0, running: 1 }, { slots: 3, fallbackSlots: 0 }],
    [{ fillType: 'pack', freeSlots: 3, otherIdleNodes: 2, running: 1 }, { slots: 3, fallbackSlots: 0 }],
  ])('%o → %o', (view, expected) => {
    expect(slotsToClaim(view)).toEqual(expected);
  });
});
