/**
 * One example body per service-log event, modelled on Azure's documented samples (ids and times
 * made consistent with each other). Used by the catalog snapshot test and as a reference for
 * emitters; `" "` placeholders in Azure's samples are replaced by realistic values.
 */
import type { ServiceLogEvents } from './catalog';

const task = {
  jobId: 'myJob',
  id: 'myTask',
  taskType: 'User',
  systemTaskVersion: 0,
  nodeInfo: { poolId: 'pool-001', nodeId: 'tvm-257509324_1-20160908t162728z' },
  multiInstanceSettings: { numberOfInstances: 1 },
  constraints: { maxTaskRetryCount: 2 },
} as const;

export const exampleBodies: ServiceLogEvents = {
  PoolCreateEvent: {
    id: 'myPool1',
    displayName: 'Production Pool',
    vmSize: 'Standard_F1s',
    imageType: 'VirtualMachineConfiguration',
    virtualMachineConfiguration: {
      imageReference: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' },
      nodeAgentId: 'batch.node.ubuntu 24.04',
    },
    networkConfiguration: { subnetId: ' ' },
    resizeTimeout: '900000',
    targetDedicatedNodes: 2,
    targetLowPriorityNodes: 2,
    taskSlotsPerNode: 1,
    maxTasksPerNode: 1,
    vmFillType: 'Spread',
    enableAutoScale: false,
    enableInterNodeCommunication: false,
    isAutoPool: false,
  },
  PoolResizeStartEvent: {
    id: 'myPool1',
    nodeDeallocationOption: 'invalid',
    currentDedicatedNodes: 0,
    targetDedicatedNodes: 2,
    currentLowPriorityNodes: 0,
    targetLowPriorityNodes: 2,
    enableAutoScale: false,
    isAutoPool: false,
  },
  PoolResizeCompleteEvent: {
    id: 'myPool1',
    nodeDeallocationOption: 'invalid',
    currentDedicatedNodes: 2,
    targetDedicatedNodes: 2,
    currentLowPriorityNodes: 2,
    targetLowPriorityNodes: 2,
    enableAutoScale: false,
    isAutoPool: false,
    startTime: '2016-09-09T22:13:06.573Z',
    endTime: '2016-09-09T22:14:01.727Z',
    resultCode: 'Success',
    resultMessage: 'The operation succeeded',
  },
  PoolAutoScaleEvent: {
    id: 'myPool1',
    timestamp: '2020-09-21T18:59:56.204Z',
    formula: '$TargetDedicatedNodes = min(10, $PendingTasks.GetSample(1));',
    results: '$TargetDedicatedNodes=0;$NodeDeallocationOption=requeue',
    error: {
      code: 'InsufficientSampleData',
      message: 'Autoscale evaluation failed due to insufficient sample data',
      values: [{ name: 'Message', value: 'Line 1, Col 40: Insufficient data from data set: $PendingTasks wanted 70%, received 50%' }],
    },
  },
  PoolDeleteStartEvent: { id: 'myPool1' },
  PoolDeleteCompleteEvent: { id: 'myPool1', startTime: '2016-09-09T22:13:48.579Z', endTime: '2016-09-09T22:14:08.836Z' },
  TaskStartEvent: { ...task, systemTaskVersion: 220192842, executionInfo: { retryCount: 0 } },
  TaskCompleteEvent: {
    ...task,
    executionInfo: { startTime: '2016-09-08T16:32:23.799Z', endTime: '2016-09-08T16:34:00.666Z', exitCode: 0, retryCount: 0, requeueCount: 0 },
  },
  TaskFailEvent: {
    ...task,
    executionInfo: {
      startTime: '2016-09-08T16:32:23.799Z',
      endTime: '2016-09-08T16:34:00.666Z',
      exitCode: 1,
      retryCount: 2,
      requeueCount: 0,
      failureInfo: { category: 'UserError', code: 'FailureExitCode', message: 'The task process exited with an unexpected exit code' },
    },
  },
  TaskScheduleFailEvent: {
    ...task,
    jobId: 'job-01',
    id: 'task-01',
    systemTaskVersion: 665378862,
    requiredSlots: 1,
    nodeInfo: { poolId: 'pool-01', nodeId: ' ' },
    constraints: { maxTaskRetryCount: 0 },
    schedulingError: { category: 'UserError', code: 'JobPreparationTaskFailed', message: 'Task cannot run because the job preparation task failed on node' },
  },
};
