import type { DeallocationOption, PoolRecord, TaskFailureInfo, TaskSpec } from '../domain/model';
import type { ServiceLogEvents } from './catalog';
import { durationSeconds } from '../api/validate';

/** Pure builders of service-log event bodies from batchplane's records (Azure's documented shapes). */
export function poolCreateBody(p: PoolRecord): ServiceLogEvents['PoolCreateEvent'] {
  const vmc = p.virtualMachineConfiguration as { imageReference?: Record<string, string>; nodeAgentSKUId?: string } | undefined;
  const img = vmc?.imageReference ?? {};
  return {
    id: p.id,
    ...(p.displayName ? { displayName: p.displayName } : {}),
    vmSize: p.vmSize,
    imageType: 'VirtualMachineConfiguration',
    virtualMachineConfiguration: {
      imageReference: { publisher: img.publisher ?? '', offer: img.offer ?? '', sku: img.sku ?? '', version: img.version ?? 'latest' },
      nodeAgentId: vmc?.nodeAgentSKUId ?? '',
    },
    ...(p.networkConfiguration ? { networkConfiguration: { subnetId: String((p.networkConfiguration as { subnetId?: string }).subnetId ?? ' ') } } : {}),
    resizeTimeout: String(Math.round((durationSeconds(p.resizeTimeout) ?? 900) * 1000)),
    targetDedicatedNodes: p.targetDedicatedNodes,
    targetLowPriorityNodes: p.targetLowPriorityNodes,
    taskSlotsPerNode: p.taskSlotsPerNode,
    maxTasksPerNode: p.taskSlotsPerNode,
    vmFillType: p.taskSchedulingPolicy.nodeFillType === 'pack' ? 'Pack' : 'Spread',
    enableAutoScale: p.enableAutoScale,
    enableInterNodeCommunication: p.enableInterNodeCommunication,
    isAutoPool: false,
  };
}

function resizeFields(p: PoolRecord, option: DeallocationOption | undefined) {
  return {
    id: p.id,
    nodeDeallocationOption: option ?? ('invalid' as const),
    currentDedicatedNodes: p.currentDedicatedNodes,
    targetDedicatedNodes: p.targetDedicatedNodes,
    currentLowPriorityNodes: p.currentLowPriorityNodes,
    targetLowPriorityNodes: p.targetLowPriorityNodes,
    enableAutoScale: p.enableAutoScale,
    isAutoPool: false,
  };
}

export function poolResizeStartBody(p: PoolRecord): ServiceLogEvents['PoolResizeStartEvent'] {
  return resizeFields(p, p.nodeDeallocationOption);
}

export function poolResizeCompleteBody(p: PoolRecord, startTime: string, endTime: string, error?: { code: string; message: string }): ServiceLogEvents['PoolResizeCompleteEvent'] {
  return { ...resizeFields(p, p.nodeDeallocationOption), startTime, endTime, resultCode: error?.code ?? 'Success', resultMessage: error?.message ?? 'The operation succeeded' };
}

export function poolDeleteStartBody(p: PoolRecord): ServiceLogEvents['PoolDeleteStartEvent'] {
  return { id: p.id };
}

export function poolDeleteCompleteBody(p: PoolRecord, startTime: string, endTime: string): ServiceLogEvents['PoolDeleteCompleteEvent'] {
  return { id: p.id, startTime, endTime };
}

function taskFields(jobId: string, spec: TaskSpec, poolId: string, nodeId: string) {
  return {
    jobId,
    id: spec.id,
    taskType: 'User' as const,
    systemTaskVersion: 0,
    requiredSlots: spec.requiredSlots,
    nodeInfo: { poolId, nodeId },
    multiInstanceSettings: { numberOfInstances: 1 },
    constraints: {
      maxTaskRetryCount: spec.constraints.maxTaskRetryCount,
      ...(spec.constraints.maxWallClockTime ? { maxWallClockTime: spec.constraints.maxWallClockTime } : {}),
      ...(spec.constraints.retentionTime ? { retentionTime: spec.constraints.retentionTime } : {}),
    },
  };
}

export function taskStartBody(jobId: string, spec: TaskSpec, poolId: string, nodeId: string, retryCount: number): ServiceLogEvents['TaskStartEvent'] {
  return { ...taskFields(jobId, spec, poolId, nodeId), executionInfo: { retryCount, requeueCount: 0 } };
}

export interface TaskEnd {
  startTime: string;
  endTime: string;
  exitCode?: number;
  retryCount: number;
  requeueCount: number;
  failureInfo?: TaskFailureInfo;
}

/** TaskCompleteEvent for success, TaskFailEvent for failure (Azure emits one or the other). */
export function taskEndEvent(jobId: string, spec: Pick<TaskSpec, 'id' | 'requiredSlots' | 'constraints'>, poolId: string, nodeId: string, end: TaskEnd, failed: boolean): { name: 'TaskCompleteEvent' | 'TaskFailEvent'; body: ServiceLogEvents['TaskCompleteEvent'] } {
  const f = end.failureInfo;
  const body = {
    ...taskFields(jobId, spec as TaskSpec, poolId, nodeId),
    executionInfo: {
      startTime: end.startTime,
      endTime: end.endTime,
      ...(end.exitCode !== undefined ? { exitCode: end.exitCode } : {}),
      retryCount: end.retryCount,
      requeueCount: end.requeueCount,
      ...(f ? { failureInfo: { category: f.category === 'usererror' ? ('UserError' as const) : ('ServerError' as const), code: f.code, message: f.message, ...(f.details ? { details: f.details } : {}) } } : {}),
    },
  };
  return { name: failed ? 'TaskFailEvent' : 'TaskCompleteEvent', body };
}
