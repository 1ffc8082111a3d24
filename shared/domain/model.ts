/**
 * The records batchplane keeps, in Azure Batch's own vocabulary (REST property names), so that
 * mapping to the wire is thin. Pure types: no I/O here.
 */
import type { NodeUsage, RunJobReleaseCommand, UploadServiceLogsCommand } from '../nodes/protocol';
import type { JobPreparationTask, JobReleaseTask } from './job-tasks';
import type { JobManagerTask } from './job-manager';

export type PoolState = 'active' | 'deleting';
export type AllocationState = 'steady' | 'resizing' | 'stopping';
export type NodeState =
  | 'idle' | 'rebooting' | 'reimaging' | 'running' | 'unusable' | 'creating' | 'starting'
  | 'waitingforstarttask' | 'starttaskfailed' | 'unknown' | 'leavingpool' | 'offline' | 'preempted';
export type JobState = 'active' | 'disabling' | 'disabled' | 'enabling' | 'terminating' | 'completed' | 'deleting';
export type TaskState = 'active' | 'preparing' | 'running' | 'completed';
export type DeallocationOption = 'requeue' | 'terminate' | 'taskcompletion' | 'retaineddata';

export interface NameValue {
  name: string;
  value: string;
}

/** The result of the most recent autoscale evaluation (REST AutoScaleRun). */
export interface AutoScaleRun {
  timestamp: string;
  results?: string;
  error?: { code: string; message: string; values?: NameValue[] };
}

export interface ResizeError {
  code: string;
  message: string;
  values?: NameValue[];
}

/** A pool's start task as stored and returned (REST StartTask, with Azure's defaults filled in). */
export interface PoolStartTask {
  commandLine: string;
  resourceFiles?: ResourceFile[];
  environmentSettings?: NameValue[];
  userIdentity: { autoUser: { scope: 'pool' | 'task'; elevationLevel: 'nonadmin' | 'admin' } };
  maxTaskRetryCount: number;
  waitForSuccess: boolean;
}

/** REST StartTaskInformation: the start task's latest run on a node. */
export interface StartTaskInfo {
  state: 'running' | 'completed';
  startTime: string;
  endTime?: string;
  exitCode?: number;
  failureInfo?: { category: 'usererror' | 'servererror'; code: string; message: string; details?: NameValue[] };
  retryCount: number;
  lastRetryTime?: string;
  result?: 'success' | 'failure';
}

/** The pool as the user specified it (validated), minus the fields batchplane maintains. */
export interface PoolSpec {
  id: string;
  displayName?: string;
  vmSize: string;
  virtualMachineConfiguration?: Record<string, unknown>;
  cloudServiceConfiguration?: Record<string, unknown>;
  resizeTimeout: string;
  targetDedicatedNodes: number;
  targetLowPriorityNodes: number;
  enableAutoScale: boolean;
  autoScaleFormula?: string;
  autoScaleEvaluationInterval?: string;
  enableInterNodeCommunication: boolean;
  taskSlotsPerNode: number;
  taskSchedulingPolicy: { nodeFillType: 'spread' | 'pack' };
  startTask?: PoolStartTask;
  metadata: NameValue[];
  networkConfiguration?: Record<string, unknown>;
  applicationPackageReferences?: Record<string, unknown>[];
  certificateReferences?: Record<string, unknown>[];
  userAccounts?: Record<string, unknown>[];
  targetNodeCommunicationMode?: string;
}

export interface PoolRecord extends PoolSpec {
  state: PoolState;
  stateTransitionTime: string;
  allocationState: AllocationState;
  allocationStateTransitionTime: string;
  creationTime: string;
  lastModified: string;
  currentDedicatedNodes: number;
  currentLowPriorityNodes: number;
  resizeErrors?: ResizeError[];
  /** Increases with every resize request; the lifecycle handler ignores stale commands. */
  resizeGeneration: number;
  /** Where a resize was asked to stop (stopresize). */
  nodeDeallocationOption?: DeallocationOption;
  /** removenodes: the nodes the running resize removes (instead of the least useful ones). */
  nodesToRemove?: string[];
  /** Autoscale: the last evaluation, when the next one is due, and the last enableautoscale (30 s rate limit). */
  autoScaleRun?: AutoScaleRun;
  nextAutoScaleEvaluation?: string;
  autoScaleEnabledAt?: string;
}

export interface NodeRecord {
  id: string;
  poolId: string;
  state: NodeState;
  schedulingState: 'enabled' | 'disabled';
  stateTransitionTime: string;
  lastBootTime?: string;
  allocationTime: string;
  ipAddress: string;
  affinityId: string;
  vmSize: string;
  isDedicated: boolean;
  totalTasksRun: number;
  totalTasksSucceeded: number;
  runningTasksCount: number;
  runningTaskSlotsCount: number;
  /** Last time the agent talked to the control plane. */
  lastSeen?: string;
  /** Opaque data of the node provider (e.g. the local process id and root directory). */
  provider: Record<string, string | number>;
  nodeAgentVersion?: string;
  errors?: { code: string; message: string; errorDetails?: NameValue[] }[];
  /** The latest resource usage the agent reported (as of lastSeen), for autoscale metrics. */
  usage?: NodeUsage;
  /** The pool's start task as it was when the node last booted (what the node runs and shows). */
  startTask?: PoolStartTask;
  /** The start task's latest run, as the agent reported it (reset when the node boots). */
  startTaskInfo?: StartTaskInfo;
  /** Commands waiting for the node's agent (delivered with its next exchange). */
  commands?: NodeCommand[];
  /** Node user accounts (node-control.ts): never holds a clear-text password. */
  users?: NodeUser[];
  /** A reboot or reimage under way (node-control.ts); cleared once the agent has been restarted. */
  restart?: NodeRestart;
}

export type NodeCommand = { kind: 'terminateTask'; jobId: string; taskId: string } | UploadServiceLogsCommand | RunJobReleaseCommand;

export interface NodeUser {
  name: string;
  isAdmin: boolean;
  expiryTime: string;
  /** scrypt hash `salt:hash` (hex) of the password, when one was given. */
  passwordHash?: string;
  sshPublicKey?: string;
}

export interface NodeRestart {
  /** Unique per request: the node-commands message that carries it must match. */
  id: string;
  kind: 'reboot' | 'reimage';
  option: DeallocationOption;
  requestedAt: string;
  /** When the provider restarted the agent (the new agent's boot makes the node idle). */
  restartedAt?: string;
}

export interface JobRecord {
  id: string;
  displayName?: string;
  priority: number;
  maxParallelTasks: number;
  allowTaskPreemption: boolean;
  usesTaskDependencies: boolean;
  onAllTasksComplete: 'noaction' | 'terminatejob';
  onTaskFailure: 'noaction' | 'performexitoptionsjobaction';
  constraints?: { maxWallClockTime?: string; maxTaskRetryCount?: number };
  poolInfo: { poolId?: string; autoPoolSpecification?: Record<string, unknown> };
  commonEnvironmentSettings: NameValue[];
  metadata: NameValue[];
  jobManagerTask?: JobManagerTask;
  /** The job manager's task row is not added yet (services/job-manager: the job sweep finishes a crashed add). */
  jobManagerPending?: boolean;
  jobPreparationTask?: JobPreparationTask;
  jobReleaseTask?: JobReleaseTask;
  state: JobState;
  stateTransitionTime: string;
  previousState?: JobState;
  previousStateTransitionTime?: string;
  creationTime: string;
  lastModified: string;
  executionInfo: { startTime: string; endTime?: string; poolId?: string; terminateReason?: string; schedulingError?: Record<string, unknown> };
  /** Every task row of the job carries the lower-cased id column `idl` (jobs added before it existed do not). */
  taskIdIndex?: boolean;
  /** A disable under way or in force: its disableTasks option and when it was asked (see domain/job-state). */
  disable?: { option: 'requeue' | 'terminate' | 'wait'; at: string };
}

export interface ResourceFile {
  httpUrl?: string;
  storageContainerUrl?: string;
  autoStorageContainerName?: string;
  blobPrefix?: string;
  filePath?: string;
  fileMode?: string;
}

export interface TaskConstraints {
  maxWallClockTime?: string;
  retentionTime?: string;
  maxTaskRetryCount: number;
}

/** What a task is: fixed at add time. Also carried inside pending chunks so claims need no reads. */
export interface TaskSpec {
  id: string;
  displayName?: string;
  commandLine: string;
  resourceFiles: ResourceFile[];
  environmentSettings: NameValue[];
  constraints: TaskConstraints;
  requiredSlots: number;
  outputFiles?: Record<string, unknown>[];
  exitConditions?: Record<string, unknown>;
  userIdentity?: Record<string, unknown>;
  multiInstanceSettings?: Record<string, unknown>;
  dependsOn?: Record<string, unknown>;
  applicationPackageReferences?: Record<string, unknown>[];
  authenticationTokenSettings?: Record<string, unknown>;
  containerSettings?: Record<string, unknown>;
  affinityInfo?: { affinityId: string };
}

export interface TaskFailureInfo {
  category: 'usererror' | 'servererror';
  code: string;
  message: string;
  details?: NameValue[];
}

export interface TaskExecutionInfo {
  startTime?: string;
  endTime?: string;
  exitCode?: number;
  result?: 'success' | 'failure';
  failureInfo?: TaskFailureInfo;
  retryCount: number;
  requeueCount: number;
  lastRetryTime?: string;
  lastRequeueTime?: string;
}

export interface TaskStats {
  wallClockTime: string;
  userCPUTime: string;
  kernelCPUTime: string;
  readIOps: number;
  writeIOps: number;
  readIOGiB: number;
  writeIOGiB: number;
  waitTime: string;
}

export interface TaskRecord extends TaskSpec {
  jobId: string;
  state: TaskState;
  stateTransitionTime: string;
  previousState?: TaskState;
  previousStateTransitionTime?: string;
  creationTime: string;
  lastModified: string;
  executionInfo: TaskExecutionInfo;
  nodeInfo?: { poolId: string; nodeId: string; affinityId: string; taskRootDirectory: string };
  /** Claim token of the current run (who may complete it). */
  claim?: string;
  stats?: TaskStats;
}

export interface TaskCounts {
  active: number;
  running: number;
  completed: number;
  succeeded: number;
  failed: number;
  activeSlots: number;
  runningSlots: number;
  completedSlots: number;
  succeededSlots: number;
  failedSlots: number;
  /**
   * Job statistics, summed over finished runs (kept in the same counter shards, O(1) to read):
   * runs that went back for a retry, queue wait (claim − active since), wall clock, user and kernel
   * CPU in milliseconds; read/write operations and bytes.
   */
  retries: number;
  waitMs: number;
  wallMs: number;
  userCpuMs: number;
  kernelCpuMs: number;
  readOps: number;
  writeOps: number;
  readBytes: number;
  writeBytes: number;
}

/** The statistics fields of TaskCounts (stored as Edm.Double: they outgrow Int32). */
export const STAT_COUNTS = ['retries', 'waitMs', 'wallMs', 'userCpuMs', 'kernelCpuMs', 'readOps', 'writeOps', 'readBytes', 'writeBytes'] as const satisfies readonly (keyof TaskCounts)[];

export function zeroCounts(): TaskCounts {
  return {
    active: 0, running: 0, completed: 0, succeeded: 0, failed: 0, activeSlots: 0, runningSlots: 0, completedSlots: 0, succeededSlots: 0, failedSlots: 0,
    retries: 0, waitMs: 0, wallMs: 0, userCpuMs: 0, kernelCpuMs: 0, readOps: 0, writeOps: 0, readBytes: 0, writeBytes: 0,
  };
}

export function addCounts(a: TaskCounts, b: Partial<TaskCounts>): TaskCounts {
  const out = { ...a };
  for (const k of Object.keys(b) as (keyof TaskCounts)[]) out[k] += b[k] ?? 0;
  return out;
}
