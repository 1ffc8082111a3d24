import { z } from 'zod';
import { batchId, ciEnum, duration, int32, metadataList, nameValue } from './validate';
import { outputFile } from './task-schemas';
import { exitConditions, maxParallelTasks } from './job-schemas';

/** Request bodies of the pool, job and task operations (api-version 2022-10-01.16.0). */
const imageReference = z.object({
  publisher: z.string().optional(),
  offer: z.string().optional(),
  sku: z.string().optional(),
  version: z.string().optional(),
  virtualMachineImageId: z.string().optional(),
});

const autoUser = z.object({ scope: ciEnum(['task', 'pool']).optional(), elevationLevel: ciEnum(['nonadmin', 'admin']).optional() });
export const userIdentity = z.object({ userName: z.string().optional(), username: z.string().optional(), autoUser: autoUser.optional() }); // the wire name is `username`

export const resourceFile = z.object({
  autoStorageContainerName: z.string().optional(),
  storageContainerUrl: z.string().optional(),
  httpUrl: z.string().optional(),
  blobPrefix: z.string().optional(),
  filePath: z.string().optional(),
  fileMode: z.string().regex(/^[0-7]{3,4}$/).optional(),
  identityReference: z.object({ resourceId: z.string().optional() }).optional(),
}).refine((r) => [r.autoStorageContainerName, r.storageContainerUrl, r.httpUrl].filter(Boolean).length === 1, 'Exactly one of autoStorageContainerName, storageContainerUrl and httpUrl must be specified.')
  .refine((r) => !r.httpUrl || !!r.filePath, 'filePath is required with httpUrl.');

export const startTask = z.object({
  commandLine: z.string().min(1),
  resourceFiles: z.array(resourceFile).optional(),
  environmentSettings: z.array(nameValue).optional(),
  userIdentity: userIdentity.optional(),
  maxTaskRetryCount: int32.min(-1).optional(),
  waitForSuccess: z.boolean().optional(),
  containerSettings: z.record(z.string(), z.unknown()).optional(),
});

export const poolAdd = z.object({
  id: batchId,
  displayName: z.string().max(1024).optional(),
  vmSize: z.string().min(1),
  cloudServiceConfiguration: z.record(z.string(), z.unknown()).optional(),
  virtualMachineConfiguration: z.object({
    imageReference,
    nodeAgentSKUId: z.string().min(1),
  }).passthrough().optional(),
  resizeTimeout: duration(300).optional(),
  targetDedicatedNodes: int32.min(0).optional(),
  targetLowPriorityNodes: int32.min(0).optional(),
  enableAutoScale: z.boolean().optional(),
  autoScaleFormula: z.string().optional(),
  autoScaleEvaluationInterval: z.string().optional(),
  enableInterNodeCommunication: z.boolean().optional(),
  networkConfiguration: z.record(z.string(), z.unknown()).optional(),
  startTask: startTask.optional(),
  certificateReferences: z.array(z.record(z.string(), z.unknown())).optional(),
  applicationPackageReferences: z.array(z.record(z.string(), z.unknown())).optional(),
  applicationLicenses: z.array(z.string()).optional(),
  taskSlotsPerNode: int32.min(1).optional(),
  maxTasksPerNode: int32.min(1).optional(),
  taskSchedulingPolicy: z.object({ nodeFillType: ciEnum(['spread', 'pack']) }).optional(),
  userAccounts: z.array(z.record(z.string(), z.unknown())).optional(),
  metadata: metadataList.optional(),
  mountConfiguration: z.array(z.record(z.string(), z.unknown())).optional(),
  targetNodeCommunicationMode: ciEnum(['default', 'classic', 'simplified']).optional(),
});
export type PoolAddBody = z.infer<typeof poolAdd>;

export const poolResize = z.object({
  targetDedicatedNodes: int32.min(0).optional(),
  targetLowPriorityNodes: int32.min(0).optional(),
  resizeTimeout: duration(300).optional(),
  nodeDeallocationOption: ciEnum(['requeue', 'terminate', 'taskcompletion', 'retaineddata']).optional(),
});
export type PoolResizeBody = z.infer<typeof poolResize>;

const jobConstraints = z.object({ maxWallClockTime: duration(1).optional(), maxTaskRetryCount: int32.min(-1).optional() });

/** JobPreparationTask / JobReleaseTask (defaults and the rules between them: domain/job-tasks). */
const jobTaskCommon = {
  id: batchId.optional(),
  commandLine: z.string().min(1),
  containerSettings: z.record(z.string(), z.unknown()).optional(),
  resourceFiles: z.array(resourceFile).optional(),
  environmentSettings: z.array(nameValue).optional(),
  userIdentity: userIdentity.optional(),
};
export const jobPreparationTask = z.object({
  ...jobTaskCommon,
  constraints: z.object({ maxWallClockTime: duration(1).optional(), retentionTime: duration(0).optional(), maxTaskRetryCount: int32.min(-1).optional() }).optional(),
  waitForSuccess: z.boolean().optional(),
  rerunOnNodeRebootAfterSuccess: z.boolean().optional(),
});
/** maxWallClockTime: "You may not specify a timeout longer than 15 minutes" (400). */
export const jobReleaseTask = z.object({ ...jobTaskCommon, maxWallClockTime: duration(1, 900).optional(), retentionTime: duration(0).optional() });

/** JobManagerTask (defaults and the rules: domain/job-manager). */
export const jobManagerTask = z.object({
  id: batchId,
  displayName: z.string().max(1024).optional(),
  commandLine: z.string().min(1),
  containerSettings: z.record(z.string(), z.unknown()).optional(),
  resourceFiles: z.array(resourceFile).optional(),
  outputFiles: z.array(outputFile).optional(),
  environmentSettings: z.array(nameValue).optional(),
  constraints: z.object({ maxWallClockTime: duration(1).optional(), retentionTime: duration(0).optional(), maxTaskRetryCount: int32.min(-1).optional() }).optional(),
  requiredSlots: int32.min(1).optional(),
  killJobOnCompletion: z.boolean().optional(),
  userIdentity: userIdentity.optional(),
  runExclusive: z.boolean().optional(),
  applicationPackageReferences: z.array(z.record(z.string(), z.unknown())).optional(),
  authenticationTokenSettings: z.record(z.string(), z.unknown()).optional(),
  allowLowPriorityNode: z.boolean().optional(),
});
export type JobManagerTaskBody = z.infer<typeof jobManagerTask>;

export const jobAdd = z.object({
  id: batchId,
  displayName: z.string().max(1024).optional(),
  priority: int32.min(-1000).max(1000).optional(),
  maxParallelTasks: maxParallelTasks.optional(),
  allowTaskPreemption: z.boolean().optional(),
  constraints: jobConstraints.optional(),
  jobManagerTask: jobManagerTask.optional(),
  jobPreparationTask: jobPreparationTask.optional(),
  jobReleaseTask: jobReleaseTask.optional(),
  commonEnvironmentSettings: z.array(nameValue).optional(),
  poolInfo: z.object({ poolId: batchId.optional(), autoPoolSpecification: z.record(z.string(), z.unknown()).optional() }),
  onAllTasksComplete: ciEnum(['noaction', 'terminatejob']).optional(),
  onTaskFailure: ciEnum(['noaction', 'performexitoptionsjobaction']).optional(),
  metadata: metadataList.optional(),
  usesTaskDependencies: z.boolean().optional(),
  networkConfiguration: z.record(z.string(), z.unknown()).optional(),
});
export type JobAddBody = z.infer<typeof jobAdd>;

export const jobTerminate = z.object({ terminateReason: z.string().max(64).optional() });

export const taskAdd = z.object({
  id: batchId,
  displayName: z.string().max(1024).optional(),
  commandLine: z.string().min(1),
  containerSettings: z.record(z.string(), z.unknown()).optional(),
  exitConditions: exitConditions.optional(),
  resourceFiles: z.array(resourceFile).optional(),
  outputFiles: z.array(outputFile).optional(),
  environmentSettings: z.array(nameValue).optional(),
  affinityInfo: z.object({ affinityId: z.string() }).optional(),
  constraints: z.object({
    maxWallClockTime: duration(1).optional(),
    retentionTime: duration(0).optional(),
    maxTaskRetryCount: int32.min(-1).optional(),
  }).optional(),
  requiredSlots: int32.min(1).optional(),
  userIdentity: userIdentity.optional(),
  multiInstanceSettings: z.record(z.string(), z.unknown()).optional(),
  dependsOn: z.record(z.string(), z.unknown()).optional(),
  applicationPackageReferences: z.array(z.record(z.string(), z.unknown())).optional(),
  authenticationTokenSettings: z.record(z.string(), z.unknown()).optional(),
});
export type TaskAddBody = z.infer<typeof taskAdd>;

export const taskCollection = z.object({ value: z.array(z.unknown()) });
