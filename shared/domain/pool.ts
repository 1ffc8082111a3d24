import { BatchError } from '../errors';
import type { DeallocationOption, NodeRecord, PoolRecord, PoolSpec } from './model';
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
    nodesToRemove: undefined,
  };
}

/**
 * removenodes: like a resize down by the number of nodes named, on a steady pool only; the
 * lifecycle removes exactly the named nodes (`nodesToRemove`) with the given deallocation option.
 * Allowed on autoscale pools too (Azure does not forbid it; the next evaluation sets the target again).
 */
export function startNodeRemoval(p: PoolRecord, nodes: Pick<NodeRecord, 'id' | 'isDedicated'>[], opts: { resizeTimeout?: string; deallocation: DeallocationOption }, now: Date): PoolRecord {
  if (p.state === 'deleting') throw new BatchError('PoolBeingDeleted', 'The specified pool has been marked for deletion and is being reclaimed.');
  if (p.allocationState !== 'steady') throw new BatchError('PoolBeingResized', 'The specified pool is currently being resized.');
  const dedicated = nodes.filter((n) => n.isDedicated).length;
  const t = now.toISOString();
  return {
    ...p,
    targetDedicatedNodes: Math.max(0, p.currentDedicatedNodes - dedicated),
    targetLowPriorityNodes: Math.max(0, p.currentLowPriorityNodes - (nodes.length - dedicated)),
    resizeTimeout: opts.resizeTimeout ?? p.resizeTimeout,
    nodeDeallocationOption: opts.deallocation,
    nodesToRemove: nodes.map((n) => n.id),
    allocationState: 'resizing',
    allocationStateTransitionTime: t,
    lastModified: t,
    resizeErrors: undefined,
    resizeGeneration: p.resizeGeneration + 1,
  };
}

/**
 * The shrink order of a removenodes resize: the named nodes, then (only when some of them are
 * gone already and the pool is still above its target) the `fallback` order.
 */
export function namedNodesFirst(named: readonly string[], fallback: (nodes: NodeRecord[], count: number) => Set<string>): (nodes: NodeRecord[], count: number) => Set<string> {
  return (nodes, count) => {
    const wanted = new Set(named);
    const picked = new Set(nodes.filter((n) => wanted.has(n.id)).slice(0, count).map((n) => n.id));
    if (picked.size < count) for (const id of fallback(nodes.filter((n) => !picked.has(n.id)), count - picked.size)) picked.add(id);
    return picked;
  };
}

/** The properties PATCH and updateproperties may change (start-task changes reach nodes when they next boot). */
export type PoolUpdatableProperties = Pick<PoolSpec, 'startTask' | 'metadata' | 'certificateReferences' | 'applicationPackageReferences' | 'targetNodeCommunicationMode'>;

/**
 * PATCH (`replace` false): only the properties present in `change` are set. updateproperties
 * (`replace` true): every updatable property takes the value given, an omitted start task is
 * removed and an omitted targetNodeCommunicationMode becomes `default` (as the spec says).
 */
export function updatePoolProperties(p: PoolRecord, change: Partial<PoolUpdatableProperties>, replace: boolean, now: Date): PoolRecord {
  if (p.state === 'deleting') throw new BatchError('PoolBeingDeleted', 'The specified pool has been marked for deletion and is being reclaimed.');
  const next: PoolRecord = { ...p, lastModified: now.toISOString() };
  if (replace) {
    next.startTask = change.startTask;
    next.metadata = change.metadata ?? [];
    next.certificateReferences = change.certificateReferences ?? [];
    next.applicationPackageReferences = change.applicationPackageReferences?.length ? change.applicationPackageReferences : undefined;
    next.targetNodeCommunicationMode = change.targetNodeCommunicationMode ?? 'default';
    return next;
  }
  for (const key of Object.keys(change) as (keyof PoolUpdatableProperties)[]) {
    if (change[key] !== undefined) (next as unknown as Record<string, unknown>)[key] = change[key];
  }
  return next;
}

export function markDeleting(p: PoolRecord, now: Date): PoolRecord {
  const t = now.toISOString();
  return { ...p, state: 'deleting', stateTransitionTime: t, lastModified: t, resizeGeneration: p.resizeGeneration + 1 };
}
