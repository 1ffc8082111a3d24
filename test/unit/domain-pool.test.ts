import { describe, expect, it } from 'vitest';
import type { AllocationState, PoolRecord, PoolSpec, PoolState } from '../../shared/domain/model';
import { checkTaskSlots, markDeleting, newPool, resizeSettled, startResize, stopResize } from '../../shared/domain/pool';
import { allVmSizes, findVmSize } from '../../shared/domain/vmsizes';
import { BatchError, type BatchErrorCode } from '../../shared/errors';
import { codeOf } from '../support/errors';

const T0 = new Date('2024-04-11T19:00:00.000Z');
const T1 = new Date('2024-04-11T19:05:00.000Z');

const spec: PoolSpec = {
  id: 'p1',
  vmSize: 'Standard_D2s_v3',
  virtualMachineConfiguration: { imageReference: { publisher: 'canonical' }, nodeAgentSKUId: 'batch.node.ubuntu 22.04' },
  resizeTimeout: 'PT15M',
  targetDedicatedNodes: 2,
  targetLowPriorityNodes: 1,
  enableAutoScale: false,
  enableInterNodeCommunication: false,
  taskSlotsPerNode: 1,
  taskSchedulingPolicy: { nodeFillType: 'spread' },
  metadata: [],
};

function pool(state: PoolState, allocationState: AllocationState, enableAutoScale = false): PoolRecord {
  return {
    ...newPool({ ...spec, enableAutoScale }, T0),
    state,
    allocationState,
    currentDedicatedNodes: 1,
    currentLowPriorityNodes: 0,
    resizeGeneration: 7,
    resizeErrors: [{ code: 'ResizeTimedOut', message: 'old' }],
  };
}


const STATES: PoolState[] = ['active', 'deleting'];
const ALLOCS: AllocationState[] = ['steady', 'resizing', 'stopping'];
const combos = STATES.flatMap((s) => ALLOCS.map((a) => [s, a] as const));

describe('newPool', () => {
  it('starts active and resizing at generation 1 with zero nodes', () => {
    const p = newPool(spec, T0);
    expect(p).toMatchObject({ state: 'active', allocationState: 'resizing', resizeGeneration: 1, currentDedicatedNodes: 0, currentLowPriorityNodes: 0 });
    for (const k of ['stateTransitionTime', 'allocationStateTransitionTime', 'creationTime', 'lastModified'] as const) expect(p[k]).toBe(T0.toISOString());
  });
});

describe('startResize over every (state, allocationState, autoscale)', () => {
  const expected = (s: PoolState, a: AllocationState, auto: boolean): BatchErrorCode | undefined =>
    s === 'deleting' ? 'PoolBeingDeleted' : auto ? 'OperationInvalidForCurrentState' : a !== 'steady' ? 'PoolBeingResized' : undefined;
  const table = combos.flatMap(([s, a]) => [false, true].map((auto) => [s, a, auto, expected(s, a, auto)] as const));
  it('of the 12 combinations only active/steady without autoscale is allowed', () => {
    const allowed = table.filter(([s, a, auto]) => codeOf(() => startResize(pool(s, a, auto), { dedicated: 1, lowPriority: 0 }, undefined, T1)) === undefined);
    expect(allowed.map((r) => r.slice(0, 3))).toEqual([['active', 'steady', false]]);
  });

  it.each(table)('%s/%s autoscale=%s → %s', (s, a, auto, code) => {
    const before = pool(s, a, auto);
    const snapshot = structuredClone(before);
    expect(codeOf(() => startResize(before, { dedicated: 5, lowPriority: 2 }, undefined, T1))).toBe(code);
    expect(before).toEqual(snapshot);
  });

  it('an allowed resize sets targets, resizing, a new generation and clears resize errors', () => {
    const p = startResize(pool('active', 'steady'), { dedicated: 5, lowPriority: 2 }, 'PT10M', T1);
    expect(p).toMatchObject({
      targetDedicatedNodes: 5, targetLowPriorityNodes: 2, resizeTimeout: 'PT10M', allocationState: 'resizing',
      allocationStateTransitionTime: T1.toISOString(), lastModified: T1.toISOString(), resizeGeneration: 8,
      state: 'active', stateTransitionTime: T0.toISOString(),
    });
    expect(p.resizeErrors).toBeUndefined();
    expect(startResize(pool('active', 'steady'), { dedicated: 0, lowPriority: 0 }, undefined, T1).resizeTimeout).toBe('PT15M');
  });

  it.each([['PoolBeingDeleted', 409], ['OperationInvalidForCurrentState', 409], ['PoolBeingResized', 409]] as const)('%s is HTTP %i', (code, status) => {
    const p = code === 'PoolBeingDeleted' ? pool('deleting', 'steady') : code === 'PoolBeingResized' ? pool('active', 'resizing') : pool('active', 'steady', true);
    try {
      startResize(p, { dedicated: 1, lowPriority: 0 }, undefined, T1);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code, status });
    }
  });
});

describe('stopResize over every (state, allocationState)', () => {
  const cases: [PoolState, AllocationState, BatchErrorCode | undefined][] = [
    ['active', 'steady', 'PoolNotResizing'],
    ['active', 'resizing', undefined],
    ['active', 'stopping', 'PoolNotResizing'],
    ['deleting', 'steady', 'PoolBeingDeleted'],
    ['deleting', 'resizing', 'PoolBeingDeleted'],
    ['deleting', 'stopping', 'PoolBeingDeleted'],
  ];
  it.each(cases)('%s/%s → %s', (s, a, code) => {
    expect(codeOf(() => stopResize(pool(s, a), T1))).toBe(code);
  });

  it('an allowed stop goes to stopping with a new generation, targets untouched', () => {
    const p = stopResize(pool('active', 'resizing'), T1);
    expect(p).toMatchObject({ allocationState: 'stopping', allocationStateTransitionTime: T1.toISOString(), lastModified: T1.toISOString(), resizeGeneration: 8, targetDedicatedNodes: 2, targetLowPriorityNodes: 1 });
  });

  it('PoolNotResizing is HTTP 409', () => {
    expect(() => stopResize(pool('active', 'steady'), T1)).toThrow(expect.objectContaining({ code: 'PoolNotResizing', status: 409 }));
  });
});

describe('markDeleting over every (state, allocationState)', () => {
  it.each(combos)('%s/%s → deleting (never refused by the domain; the service skips an already-deleting pool)', (s, a) => {
    const p = markDeleting(pool(s, a), T1);
    expect(p).toMatchObject({ state: 'deleting', stateTransitionTime: T1.toISOString(), lastModified: T1.toISOString(), allocationState: a, resizeGeneration: 8 });
  });

  it('a deleting pool refuses resize and stop', () => {
    const p = markDeleting(pool('active', 'resizing'), T1);
    expect(codeOf(() => startResize(p, { dedicated: 1, lowPriority: 0 }, undefined, T1))).toBe('PoolBeingDeleted');
    expect(codeOf(() => stopResize(p, T1))).toBe('PoolBeingDeleted');
  });
});

describe('resizeSettled over every (state, allocationState)', () => {
  it.each(combos)('%s/%s → steady at the node count reached', (s, a) => {
    const before = pool(s, a);
    const p = resizeSettled(before, 3, 4, T1);
    expect(p).toMatchObject({ state: s, allocationState: 'steady', currentDedicatedNodes: 3, currentLowPriorityNodes: 4, lastModified: T1.toISOString(), resizeGeneration: 7 });
    // A stopped resize adopts the size reached as its target; a finished one keeps its target.
    expect([p.targetDedicatedNodes, p.targetLowPriorityNodes]).toEqual(a === 'stopping' ? [3, 4] : [2, 1]);
    // The allocation-state transition time moves only when the allocation state changes.
    expect(p.allocationStateTransitionTime).toBe(a === 'steady' ? before.allocationStateTransitionTime : T1.toISOString());
  });

  it('a full cycle: steady → resizing → stopping → steady → resizing again', () => {
    let p = pool('active', 'steady');
    p = startResize(p, { dedicated: 10, lowPriority: 0 }, undefined, T1);
    p = stopResize(p, T1);
    p = resizeSettled(p, 4, 0, T1);
    expect(p).toMatchObject({ allocationState: 'steady', targetDedicatedNodes: 4, currentDedicatedNodes: 4, resizeGeneration: 9 });
    expect(startResize(p, { dedicated: 6, lowPriority: 0 }, undefined, T1).resizeGeneration).toBe(10);
  });
});

describe('checkTaskSlots: 1 ≤ slots ≤ 4 × cores', () => {
  const cases: [string, number][] = [['Standard_A1', 1], ['Standard_D2s_v3', 2], ['Standard_D16s_v3', 16], ['Standard_NC6', 6], ['Standard_HB120rs_v3', 120]];
  it.each(cases)('%s (%i cores)', (vmSize, cores) => {
    for (const ok of [1, cores, 4 * cores]) expect(() => checkTaskSlots(vmSize, ok)).not.toThrow();
    for (const bad of [0, -1, 4 * cores + 1]) {
      try {
        checkTaskSlots(vmSize, bad);
        expect.unreachable();
      } catch (err) {
        expect(err).toMatchObject({ code: 'InvalidPropertyValue', status: 400 });
        expect((err as BatchError).values.slice(0, 2)).toEqual([{ key: 'PropertyName', value: 'taskSlotsPerNode' }, { key: 'PropertyValue', value: String(bad) }]);
      }
    }
  });

  it('the size name matches case-insensitively', () => {
    expect(() => checkTaskSlots('standard_d2S_V3', 9)).toThrow(BatchError);
    expect(() => checkTaskSlots('STANDARD_D2S_V3', 8)).not.toThrow();
  });

  it('an unknown size is left to vmSize validation', () => {
    expect(() => checkTaskSlots('Standard_Nope', 999)).not.toThrow();
  });
});

describe('vm sizes', () => {
  it.each(['Standard_D2s_v3', 'standard_d2s_v3', 'STANDARD_D2S_V3', 'sTaNdArD_d2S_v3'])('findVmSize(%s) → Standard_D2s_v3', (name) => {
    expect(findVmSize(name)).toEqual({ name: 'Standard_D2s_v3', cores: 2, memoryMiB: 8192 });
  });

  it.each(['', 'Standard_D2s', 'Standard_D2s_v3 ', 'd2s_v3'])('findVmSize(%j) → undefined', (name) => {
    expect(findVmSize(name)).toBeUndefined();
  });

  it('names are unique case-insensitively, and every size has cores and memory', () => {
    const names = allVmSizes().map((s) => s.name.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
    for (const s of allVmSizes()) {
      expect(Number.isInteger(s.cores) && s.cores > 0).toBe(true);
      expect(s.memoryMiB).toBeGreaterThan(0);
      expect(findVmSize(s.name.toUpperCase())).toBe(s);
    }
  });
});
