import { BatchError } from '../errors';
import type { DeallocationOption, PoolRecord, PoolSpec } from './model';
import { findVmSize } from './vmsizes';

/** Pure pool rules: creation from a validated spec and the resize transitions. */
export function newPool(spec: PoolSpec, now: Date): PoolRecord {
  const t = now.toISOString();
  return {
    ...spec,
    state: 'active',
    stateTransitionTime: t,
    allocationState: 'resizing',
    allocationStateTransitionTime: t,
    creationTime: t,
    lastModified: t,
    currentDedicatedNodes: 0,
    currentLowPriorityNodes: 0,
    resizeGeneration: 1,
  };
}

/** taskSlotsPerNode must be within 1..4 × the vmSize's cores (Azure's limit). */
export function checkTaskSlots(vmSize: string, slots: number): void {
  const size = findVmSize(vmSize);
  if (!size) return;
  if (slots < 1 || slots > size.cores * 4) {
    throw new BatchError('InvalidPropertyValue', 'The value provided for one of the properties in the request body is invalid.', [
      { key: 'PropertyName', value: 'taskSlotsPerNode' },
      { key: 'PropertyValue', value: String(slots) },
      { key: 'Reason', value: `The value must be between 1 and ${size.cores * 4} (4 × the ${size.name} cores).` },
    ]);
  }
}

/** A resize may start only on an active, steady, non-autoscale pool. */
export function startResize(p: PoolRecord, target: { dedicated: number; lowPriority: number }, resizeTimeout: string | undefined, now: Date): PoolRecord {
  if (p.state === 'deleting') throw new BatchError('PoolBeingDeleted', 'The specified pool has been marked for deletion and is being reclaimed.');
  if (p.enableAutoScale) throw new BatchError('OperationInvalidForCurrentState', 'The specified operation is not valid for the current state of the resource: the pool has autoscale enabled.');
  if (p.allocationState !== 'steady') throw new BatchError('PoolBeingResized', 'The specified pool is currently being resized.');
  const t = now.toISOString();
  return {
    ...p,
    targetDedicatedNodes: target.dedicated,
    targetLowPriorityNodes: target.lowPriority,
    resizeTimeout: resizeTimeout ?? p.resizeTimeout,
    allocationState: 'resizing',
    allocationStateTransitionTime: t,
    lastModified: t,
    resizeErrors: undefined,
    resizeGeneration: p.resizeGeneration + 1,
  };
}

/**
 * An autoscale evaluation's targets start a resize the same way a manual resize does (new
 * resizeGeneration → the caller sends the PoolCommand), but on an autoscale pool and also while a
 * resize is in flight (a later evaluation may change the target "before the pool has reached the
 * initial target"). Unchanged targets start nothing, unless a steady pool is short of them (e.g.
 * the core quota was reached): then the allocation is tried again. Returns `p` itself when there
 * is nothing to write.
 */
export function autoScaleResize(p: PoolRecord, t: { dedicated: number; lowPriority: number; deallocation: DeallocationOption }, now: Date): PoolRecord {
  if (p.state !== 'active' || !p.enableAutoScale || p.allocationState === 'stopping') return p;
  const same = p.targetDedicatedNodes === t.dedicated && p.targetLowPriorityNodes === t.lowPriority;
  const reached = p.allocationState === 'resizing' || p.currentDedicatedNodes + p.currentLowPriorityNodes === t.dedicated + t.lowPriority;
  if (same && reached) return p.nodeDeallocationOption === t.deallocation ? p : { ...p, nodeDeallocationOption: t.deallocation };
  const at = now.toISOString();
  return {
    ...p,
    targetDedicatedNodes: t.dedicated,
    targetLowPriorityNodes: t.lowPriority,
    nodeDeallocationOption: t.deallocation,
    allocationState: 'resizing',
    allocationStateTransitionTime: p.allocationState === 'resizing' ? p.allocationStateTransitionTime : at,
    lastModified: at,
    resizeErrors: undefined,
    resizeGeneration: p.resizeGeneration + 1,
  };
}

/** stopresize: a resizing pool goes to stopping, then steady at its current size. */
export function stopResize(p: PoolRecord, now: Date): PoolRecord {
  if (p.state === 'deleting') throw new BatchError('PoolBeingDeleted', 'The specified pool has been marked for deletion and is being reclaimed.');
  if (p.allocationState !== 'resizing') throw new BatchError('PoolNotResizing', 'The specified pool is not resizing.');
  const t = now.toISOString();
  return { ...p, allocationState: 'stopping', allocationStateTransitionTime: t, lastModified: t, resizeGeneration: p.resizeGeneration + 1 };
}

/** The resize (or stop) finished: steady at the node count reached. */
export function resizeSettled(p: PoolRecord, dedicated: number, lowPriority: number, now: Date): PoolRecord {
  const t = now.toISOString();
  const stopped = p.allocationState === 'stopping';
  return {
    ...p,
    currentDedicatedNodes: dedicated,
    currentLowPriorityNodes: lowPriority,
    targetDedicatedNodes: stopped ? dedicated : p.targetDedicatedNodes,
    targetLowPriorityNodes: stopped ? lowPriority : p.targetLowPriorityNodes,
    allocationState: 'steady',
    allocationStateTransitionTime: p.allocationState === 'steady' ? p.allocationStateTransitionTime : t,
    lastModified: t,
  };
}

export function markDeleting(p: PoolRecord, now: Date): PoolRecord {
  const t = now.toISOString();
  return { ...p, state: 'deleting', stateTransitionTime: t, lastModified: t, resizeGeneration: p.resizeGeneration + 1 };
}
