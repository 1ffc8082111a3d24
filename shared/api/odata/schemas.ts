import type { FilterOp } from './ast';
import type { FilterSchema, PropertySpec } from './schema';

/*
 * Filterable properties of each Batch list operation, as documented in "OData filters in Azure Batch"
 * (learn.microsoft.com/rest/api/batchservice/odata-filters-in-batch; current revision, where `state`
 * accepts `eq, ne`). Enum values are those of api-version 2022-10-01.16.0 plus the later node states.
 */

const ALL: FilterOp[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];
const WITH_PREFIX: FilterOp[] = ['startswith', ...ALL];
const EQ_NE: FilterOp[] = ['eq', 'ne'];

const str = (ops: FilterOp[] = EQ_NE): PropertySpec => ({ type: 'string', ops });
const id = (): PropertySpec => str(WITH_PREFIX);
const time = (): PropertySpec => ({ type: 'datetime', ops: ALL });
const int = (): PropertySpec => ({ type: 'int', ops: ALL });
const bool = (): PropertySpec => ({ type: 'bool', ops: EQ_NE });
const oneOf = (values: string[], ops: FilterOp[] = EQ_NE): PropertySpec => ({ type: 'enum', ops, values });

export const ENUMS = {
  poolState: ['active', 'deleting'],
  allocationState: ['steady', 'resizing', 'stopping'],
  nodeState: [
    'idle', 'rebooting', 'reimaging', 'running', 'unusable', 'creating', 'starting', 'waitingforstarttask',
    'starttaskfailed', 'unknown', 'leavingpool', 'offline', 'preempted', 'upgradingos', 'deallocated', 'deallocating',
  ],
  jobState: ['active', 'disabling', 'disabled', 'enabling', 'terminating', 'completed', 'deleting'],
  jobScheduleState: ['active', 'completed', 'disabled', 'terminating', 'deleting'],
  taskState: ['active', 'preparing', 'running', 'completed'],
  startTaskState: ['running', 'completed'],
  prepReleaseTaskState: ['running', 'completed'],
  executionResult: ['success', 'failure'],
  certificateState: ['active', 'deleting', 'deletefailed'],
  osType: ['linux', 'windows'],
  verificationType: ['verified', 'unverified'],
} as const satisfies Record<string, readonly string[]>;

const e = (values: readonly string[], ops?: FilterOp[]): PropertySpec => oneOf([...values], ops);

const pools: FilterSchema = {
  id: id(),
  state: e(ENUMS.poolState),
  stateTransitionTime: time(),
  allocationState: e(ENUMS.allocationState),
  allocationStateTransitionTime: time(),
  creationTime: time(),
  enableAutoScale: bool(),
  lastModified: time(),
  vmSize: str(),
  enableInterNodeCommunication: bool(),
};

const nodes: FilterSchema = {
  state: e(ENUMS.nodeState),
  stateTransitionTime: time(),
  lastBootTime: time(),
  allocationTime: time(),
  'startTaskInfo/state': e(ENUMS.startTaskState, ['eq']),
  'startTaskInfo/result': e(ENUMS.executionResult),
  'startTaskInfo/exitCode': int(),
  'startTaskInfo/startTime': time(),
  'startTaskInfo/endTime': time(),
};

/** List jobs in a job schedule: the jobs table without `id`. */
const jobsInSchedule: FilterSchema = {
  state: e(ENUMS.jobState),
  stateTransitionTime: time(),
  creationTime: time(),
  lastModified: time(),
  'executionInfo/startTime': time(),
  'executionInfo/endTime': time(),
  'executionInfo/poolId': str(WITH_PREFIX),
};

const jobs: FilterSchema = { id: id(), ...jobsInSchedule };

const jobSchedules: FilterSchema = {
  id: id(),
  state: e(ENUMS.jobScheduleState),
  stateTransitionTime: time(),
  creationTime: time(),
  lastModified: time(),
  'executionInfo/endTime': time(),
  'schedule/doNotRunUntil': time(),
  'schedule/doNotRunAfter': time(),
};

const tasks: FilterSchema = {
  id: id(),
  state: e(ENUMS.taskState),
  stateTransitionTime: time(),
  creationTime: time(),
  lastModified: time(),
  /** Azure's filter table names it `lastModifiedTime`; the entity property is `lastModified`. */
  lastModifiedTime: { ...time(), path: 'lastModified' },
  'executionInfo/startTime': time(),
  'executionInfo/endTime': time(),
  'executionInfo/exitCode': int(),
  'executionInfo/result': e(ENUMS.executionResult),
};

const prepTask = (prefix: string): FilterSchema => ({
  [`${prefix}/state`]: e(ENUMS.prepReleaseTaskState, ['eq']),
  [`${prefix}/startTime`]: time(),
  [`${prefix}/endTime`]: time(),
  [`${prefix}/exitCode`]: int(),
  [`${prefix}/result`]: e(ENUMS.executionResult),
});

const prepReleaseStatus: FilterSchema = {
  poolId: str(),
  nodeId: str(),
  ...prepTask('jobPreparationTaskExecutionInfo'),
  ...prepTask('jobReleaseTaskExecutionInfo'),
};

export type SchemaName =
  | 'pools'
  | 'nodes'
  | 'jobs'
  | 'jobsInSchedule'
  | 'jobSchedules'
  | 'tasks'
  | 'subtasks'
  | 'files'
  | 'certificates'
  | 'poolUsageMetrics'
  | 'nodeCounts'
  | 'supportedImages'
  | 'prepReleaseStatus';

export const SCHEMAS: Readonly<Record<SchemaName, FilterSchema>> = {
  pools,
  nodes,
  jobs,
  jobsInSchedule,
  jobSchedules,
  tasks,
  /** List subtasks takes no `$filter`; every property is unknown. */
  subtasks: {},
  /** Task files and node files: `name` with `startswith` only. */
  files: { name: str(['startswith']) },
  certificates: { state: e(ENUMS.certificateState), stateTransitionTime: time() },
  /** `startTime`/`endTime` narrow the aggregation intervals (the operation's doc); `poolId` per the filter table. */
  poolUsageMetrics: {
    poolId: str(['eq', 'ge', 'gt', 'le', 'lt', 'startswith']),
    startTime: time(),
    endTime: time(),
  },
  nodeCounts: { poolId: str(['eq']) },
  supportedImages: {
    osType: e(ENUMS.osType),
    verificationType: e(ENUMS.verificationType),
    nodeAgentSKUId: str(),
  },
  prepReleaseStatus,
};

/** Top-level REST properties accepted by `$select` (api-version 2022-10-01.16.0 entity models). */
export const SELECTABLE = {
  pools: [
    'id', 'displayName', 'url', 'eTag', 'lastModified', 'creationTime', 'state', 'stateTransitionTime', 'allocationState',
    'allocationStateTransitionTime', 'vmSize', 'cloudServiceConfiguration', 'virtualMachineConfiguration', 'resizeTimeout',
    'resizeErrors', 'currentDedicatedNodes', 'currentLowPriorityNodes', 'targetDedicatedNodes', 'targetLowPriorityNodes',
    'enableAutoScale', 'autoScaleFormula', 'autoScaleEvaluationInterval', 'autoScaleRun', 'enableInterNodeCommunication',
    'networkConfiguration', 'startTask', 'certificateReferences', 'applicationPackageReferences', 'applicationLicenses',
    'taskSlotsPerNode', 'taskSchedulingPolicy', 'userAccounts', 'metadata', 'stats', 'mountConfiguration', 'identity',
    'targetNodeCommunicationMode', 'currentNodeCommunicationMode',
  ],
  nodes: [
    'id', 'url', 'state', 'schedulingState', 'stateTransitionTime', 'lastBootTime', 'allocationTime', 'ipAddress', 'affinityId',
    'vmSize', 'totalTasksRun', 'runningTasksCount', 'runningTaskSlotsCount', 'totalTasksSucceeded', 'recentTasks', 'startTask',
    'startTaskInfo', 'certificateReferences', 'errors', 'isDedicated', 'endpointConfiguration', 'nodeAgentInfo',
    'virtualMachineInfo',
  ],
  jobs: [
    'id', 'displayName', 'usesTaskDependencies', 'url', 'eTag', 'lastModified', 'creationTime', 'state', 'stateTransitionTime',
    'previousState', 'previousStateTransitionTime', 'priority', 'allowTaskPreemption', 'maxParallelTasks', 'constraints',
    'jobManagerTask', 'jobPreparationTask', 'jobReleaseTask', 'commonEnvironmentSettings', 'poolInfo', 'onAllTasksComplete',
    'onTaskFailure', 'networkConfiguration', 'metadata', 'executionInfo', 'stats',
  ],
  jobSchedules: [
    'id', 'displayName', 'url', 'eTag', 'lastModified', 'creationTime', 'state', 'stateTransitionTime', 'previousState',
    'previousStateTransitionTime', 'schedule', 'jobSpecification', 'executionInfo', 'metadata', 'stats',
  ],
  tasks: [
    'id', 'displayName', 'url', 'eTag', 'lastModified', 'creationTime', 'exitConditions', 'state', 'stateTransitionTime',
    'previousState', 'previousStateTransitionTime', 'commandLine', 'containerSettings', 'resourceFiles', 'outputFiles',
    'environmentSettings', 'affinityInfo', 'constraints', 'requiredSlots', 'userIdentity', 'executionInfo', 'nodeInfo',
    'multiInstanceSettings', 'stats', 'dependsOn', 'applicationPackageReferences', 'authenticationTokenSettings',
  ],
  subtasks: [
    'id', 'nodeInfo', 'startTime', 'endTime', 'exitCode', 'containerInfo', 'failureInfo', 'state', 'stateTransitionTime',
    'previousState', 'previousStateTransitionTime', 'result',
  ],
  certificates: [
    'thumbprint', 'thumbprintAlgorithm', 'url', 'state', 'stateTransitionTime', 'previousState', 'previousStateTransitionTime',
    'publicData', 'deleteCertificateError',
  ],
  prepReleaseStatus: ['poolId', 'nodeId', 'nodeUrl', 'jobPreparationTaskExecutionInfo', 'jobReleaseTaskExecutionInfo'],
} as const satisfies Record<string, readonly string[]>;

/** `$expand` values per list: only `stats`, only on pools, jobs, job schedules and tasks. */
export const EXPANDABLE = {
  pools: ['stats'],
  jobs: ['stats'],
  jobSchedules: ['stats'],
  tasks: ['stats'],
} as const satisfies Record<string, readonly string[]>;
