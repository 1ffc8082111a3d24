import type { JobRecord, NodeRecord, PoolRecord, TaskCounts, TaskRecord, TaskStats } from '../domain/model';
import { taskStatsJson as statsJson } from '../domain/stats';
import { batchEtag } from './etag';

/** Records → the REST JSON shapes of api-version 2022-10-01.16.0 (absent values are omitted). */
export function poolJson(origin: string, p: PoolRecord, tableEtag: string): Record<string, unknown> {
  return clean({
    id: p.id,
    displayName: p.displayName,
    url: `${origin}/pools/${p.id}`,
    eTag: batchEtag(tableEtag),
    lastModified: p.lastModified,
    creationTime: p.creationTime,
    state: p.state,
    stateTransitionTime: p.stateTransitionTime,
    allocationState: p.allocationState,
    allocationStateTransitionTime: p.allocationStateTransitionTime,
    vmSize: p.vmSize.toLowerCase(),
    cloudServiceConfiguration: p.cloudServiceConfiguration,
    virtualMachineConfiguration: p.virtualMachineConfiguration,
    resizeTimeout: p.enableAutoScale ? undefined : p.resizeTimeout,
    resizeErrors: p.resizeErrors?.length ? p.resizeErrors : undefined,
    currentDedicatedNodes: p.currentDedicatedNodes,
    currentLowPriorityNodes: p.currentLowPriorityNodes,
    targetDedicatedNodes: p.enableAutoScale ? undefined : p.targetDedicatedNodes,
    targetLowPriorityNodes: p.enableAutoScale ? undefined : p.targetLowPriorityNodes,
    enableAutoScale: p.enableAutoScale,
    autoScaleFormula: p.autoScaleFormula,
    autoScaleEvaluationInterval: p.autoScaleEvaluationInterval,
    autoScaleRun: p.enableAutoScale ? p.autoScaleRun : undefined,
    enableInterNodeCommunication: p.enableInterNodeCommunication,
    networkConfiguration: p.networkConfiguration,
    startTask: p.startTask,
    certificateReferences: p.certificateReferences,
    applicationPackageReferences: p.applicationPackageReferences,
    taskSlotsPerNode: p.taskSlotsPerNode,
    taskSchedulingPolicy: { nodeFillType: p.taskSchedulingPolicy.nodeFillType === 'pack' ? 'Pack' : 'Spread' },
    userAccounts: p.userAccounts,
    metadata: p.metadata.length ? p.metadata : undefined,
    targetNodeCommunicationMode: p.targetNodeCommunicationMode,
  });
}

export function nodeJson(origin: string, n: NodeRecord, recentTasks?: unknown[]): Record<string, unknown> {
  return clean({
    id: n.id,
    url: `${origin}/pools/${n.poolId}/nodes/${n.id}`,
    state: n.state,
    schedulingState: n.schedulingState,
    stateTransitionTime: n.stateTransitionTime,
    lastBootTime: n.lastBootTime,
    allocationTime: n.allocationTime,
    ipAddress: n.ipAddress,
    affinityId: n.affinityId,
    vmSize: n.vmSize.toLowerCase(),
    totalTasksRun: n.totalTasksRun,
    runningTasksCount: n.runningTasksCount,
    runningTaskSlotsCount: n.runningTaskSlotsCount,
    totalTasksSucceeded: n.totalTasksSucceeded,
    recentTasks,
    isDedicated: n.isDedicated,
    startTask: n.startTask,
    startTaskInfo: n.startTaskInfo,
    errors: n.errors?.length ? n.errors : undefined,
    endpointConfiguration: { inboundEndpoints: [] },
    nodeAgentInfo: { version: n.nodeAgentVersion ?? '1.0.0', lastUpdateTime: n.lastBootTime ?? n.allocationTime },
    virtualMachineInfo: { imageReference: undefined },
  });
}

export function jobJson(origin: string, j: JobRecord, tableEtag: string): Record<string, unknown> {
  return clean({
    id: j.id,
    displayName: j.displayName,
    usesTaskDependencies: j.usesTaskDependencies,
    url: `${origin}/jobs/${j.id}`,
    eTag: batchEtag(tableEtag),
    lastModified: j.lastModified,
    creationTime: j.creationTime,
    state: j.state,
    stateTransitionTime: j.stateTransitionTime,
    previousState: j.previousState,
    previousStateTransitionTime: j.previousStateTransitionTime,
    priority: j.priority,
    maxParallelTasks: j.maxParallelTasks,
    allowTaskPreemption: j.allowTaskPreemption,
    constraints: { maxWallClockTime: j.constraints?.maxWallClockTime ?? 'P10675199DT2H48M5.4775807S', maxTaskRetryCount: j.constraints?.maxTaskRetryCount ?? 0 },
    jobManagerTask: j.jobManagerTask,
    jobPreparationTask: j.jobPreparationTask,
    jobReleaseTask: j.jobReleaseTask,
    commonEnvironmentSettings: j.commonEnvironmentSettings.length ? j.commonEnvironmentSettings : undefined,
    poolInfo: j.poolInfo,
    onAllTasksComplete: j.onAllTasksComplete,
    onTaskFailure: j.onTaskFailure,
    metadata: j.metadata.length ? j.metadata : undefined,
    executionInfo: j.executionInfo,
  });
}

export function taskJson(origin: string, t: TaskRecord, tableEtag: string): Record<string, unknown> {
  const ei = t.executionInfo;
  const started = ei.startTime !== undefined;
  return clean({
    id: t.id,
    displayName: t.displayName,
    url: `${origin}/jobs/${t.jobId}/tasks/${t.id}`,
    eTag: batchEtag(tableEtag),
    creationTime: t.creationTime,
    lastModified: t.lastModified,
    state: t.state,
    stateTransitionTime: t.stateTransitionTime,
    previousState: t.previousState,
    previousStateTransitionTime: t.previousStateTransitionTime,
    commandLine: t.commandLine,
    resourceFiles: t.resourceFiles.length ? t.resourceFiles : undefined,
    outputFiles: t.outputFiles,
    environmentSettings: t.environmentSettings.length ? t.environmentSettings : undefined,
    affinityInfo: t.affinityInfo,
    constraints: {
      maxWallClockTime: t.constraints.maxWallClockTime ?? 'P10675199DT2H48M5.4775807S',
      retentionTime: t.constraints.retentionTime ?? 'P7D',
      maxTaskRetryCount: t.constraints.maxTaskRetryCount,
    },
    requiredSlots: t.requiredSlots,
    userIdentity: t.userIdentity ?? { autoUser: { scope: 'pool', elevationLevel: 'nonadmin' } },
    exitConditions: t.exitConditions,
    multiInstanceSettings: t.multiInstanceSettings,
    dependsOn: t.dependsOn,
    applicationPackageReferences: t.applicationPackageReferences,
    authenticationTokenSettings: t.authenticationTokenSettings,
    executionInfo: started || ei.endTime || ei.retryCount > 0 || ei.requeueCount > 0 ? clean({ ...ei }) : { retryCount: 0, requeueCount: 0 },
    nodeInfo: t.nodeInfo && {
      ...t.nodeInfo,
      nodeUrl: `${origin}/pools/${t.nodeInfo.poolId}/nodes/${t.nodeInfo.nodeId}`,
      taskRootDirectoryUrl: `${origin}/pools/${t.nodeInfo.poolId}/nodes/${t.nodeInfo.nodeId}/files/${t.nodeInfo.taskRootDirectory}`,
    },
  });
}

const NO_RUN_STATS: TaskStats = { wallClockTime: 'PT0S', userCPUTime: 'PT0S', kernelCPUTime: 'PT0S', readIOps: 0, writeIOps: 0, readIOGiB: 0, writeIOGiB: 0, waitTime: 'PT0S' };

/** TaskStatistics (`$expand=stats`): the most recent run's figures; zeros before the task ran. */
export function taskStatsJson(origin: string, t: TaskRecord): Record<string, unknown> {
  return statsJson(`${origin}/jobs/${t.jobId}/tasks/${t.id}`, t.executionInfo.startTime ?? t.creationTime, t.lastModified, t.stats ?? NO_RUN_STATS);
}

export function taskCountsJson(c: TaskCounts): Record<string, unknown> {
  return {
    taskCounts: { active: c.active, running: c.running, completed: c.completed, succeeded: c.succeeded, failed: c.failed },
    taskSlotCounts: { active: c.activeSlots, running: c.runningSlots, completed: c.completedSlots, succeeded: c.succeededSlots, failed: c.failedSlots },
  };
}

function clean<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
