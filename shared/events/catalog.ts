/**
 * The service-log event catalog: every diagnostic event batchplane emits, one schema each.
 *
 * Bodies follow Azure's documented samples (learn.microsoft.com `batch-*-event` pages, listed in
 * `monitor-batch-reference`), the 2017 seed's pool-create sample being the model. Services emit only
 * these events, through `makeServiceLogRecord`, which validates the body and wraps it in the
 * Azure Monitor resource-log envelope (category `ServiceLog`). Schemas are strict: an emitter that
 * adds an undocumented field fails fast. Example bodies live in catalog-examples.ts and a unit test
 * pins their shape.
 *
 * Naming notes (all from Azure's own samples):
 * - pool events carry the pool id as `id`; task events carry `jobId` + `id`;
 * - the fill type is the flat `vmFillType: 'Spread' | 'Pack'` (REST: taskSchedulingPolicy.nodeFillType);
 * - `resizeTimeout` is a string of milliseconds ("300000"); times are ISO-8601 UTC strings;
 * - pool create also carries `maxTasksPerNode` (= taskSlotsPerNode) as current Azure samples do;
 *   the seed's older names `poolId`, `targetDedicated`, `enableAutoscale` are accepted, optional.
 */
import { z } from 'zod';

const int = () => z.number().int();
const count = () => z.number().int().min(0);
const time = () => z.iso.datetime();

export const NODE_DEALLOCATION_OPTIONS = ['invalid', 'requeue', 'terminate', 'taskcompletion', 'retaineddata'] as const;
/** Azure emits task events for 'User' and 'JobManager' tasks; the others are listed for completeness. */
export const TASK_TYPES = ['User', 'JobManager', 'JobPreparation', 'JobRelease', 'StartTask'] as const;

const poolCreate = z.strictObject({
  id: z.string().min(1),
  displayName: z.string().optional(),
  vmSize: z.string(),
  imageType: z.enum(['VirtualMachineConfiguration', 'CloudServiceConfiguration']),
  cloudServiceConfiguration: z.strictObject({ osFamily: z.string(), targetOsVersion: z.string() }).optional(),
  virtualMachineConfiguration: z
    .strictObject({
      imageReference: z.strictObject({ publisher: z.string(), offer: z.string(), sku: z.string(), version: z.string() }),
      nodeAgentId: z.string(),
      windowsConfiguration: z.strictObject({ enableAutomaticUpdates: z.boolean() }).optional(),
    })
    .optional(),
  networkConfiguration: z.strictObject({ subnetId: z.string(), subnetType: z.string().optional() }).optional(),
  resizeTimeout: z.string().regex(/^\d+$/, 'milliseconds as a decimal string'),
  targetDedicatedNodes: count(),
  targetLowPriorityNodes: count(),
  taskSlotsPerNode: int().min(1),
  maxTasksPerNode: int().min(1).optional(),
  vmFillType: z.enum(['Spread', 'Pack']),
  enableAutoScale: z.boolean(),
  enableInterNodeCommunication: z.boolean(),
  isAutoPool: z.boolean(),
  /** 2017 names (seed sample). */
  poolId: z.string().optional(),
  targetDedicated: count().optional(),
  enableAutoscale: z.boolean().optional(),
});

const resizeFields = {
  id: z.string().min(1),
  nodeDeallocationOption: z.enum(NODE_DEALLOCATION_OPTIONS),
  currentDedicatedNodes: count(),
  targetDedicatedNodes: count(),
  currentLowPriorityNodes: count(),
  targetLowPriorityNodes: count(),
  enableAutoScale: z.boolean(),
  isAutoPool: z.boolean(),
};

const poolResizeStart = z.strictObject(resizeFields);

const poolResizeComplete = z.strictObject({
  ...resizeFields,
  startTime: time(),
  endTime: time(),
  /** 'Success', or the resize error code. */
  resultCode: z.string(),
  resultMessage: z.string(),
});

const nameValue = z.strictObject({ name: z.string(), value: z.string() });

const poolAutoScale = z.strictObject({
  id: z.string().min(1),
  timestamp: time(),
  formula: z.string(),
  /** The evaluated variables, `$Name=value;...`. */
  results: z.string(),
  error: z.strictObject({ code: z.string(), message: z.string(), values: z.array(nameValue).optional() }).optional(),
});

const poolDeleteStart = z.strictObject({ id: z.string().min(1) });

const poolDeleteComplete = z.strictObject({ id: z.string().min(1), startTime: time(), endTime: time() });

const taskFields = {
  jobId: z.string().min(1),
  id: z.string().min(1),
  taskType: z.enum(TASK_TYPES),
  /** Internal retry counter (service-side re-runs). */
  systemTaskVersion: count(),
  requiredSlots: int().min(1).optional(),
  nodeInfo: z.strictObject({ poolId: z.string(), nodeId: z.string() }),
  multiInstanceSettings: z.strictObject({ numberOfInstances: int().min(1) }),
  constraints: z.strictObject({
    maxTaskRetryCount: int().min(-1),
    /** ISO-8601 durations, when set on the task. */
    maxWallClockTime: z.string().optional(),
    retentionTime: z.string().optional(),
  }),
};

const failureInfo = z.strictObject({
  category: z.enum(['UserError', 'ServerError']),
  code: z.string(),
  message: z.string(),
  details: z.array(nameValue).optional(),
});

const completedExecution = z.strictObject({
  startTime: time(),
  endTime: time(),
  /** Absent when the process never started (e.g. a resource file failed). */
  exitCode: int().optional(),
  retryCount: count(),
  requeueCount: count(),
  failureInfo: failureInfo.optional(),
});

const taskStart = z.strictObject({
  ...taskFields,
  executionInfo: z.strictObject({ retryCount: count(), requeueCount: count().optional() }),
});

const taskComplete = z.strictObject({ ...taskFields, executionInfo: completedExecution });

const taskFail = z.strictObject({ ...taskFields, executionInfo: completedExecution });

const taskScheduleFail = z.strictObject({
  ...taskFields,
  schedulingError: z.strictObject({ category: z.enum(['UserError', 'ServerError']), code: z.string(), message: z.string() }),
});

/** One zod schema per event name. */
export const eventSchemas = {
  PoolCreateEvent: poolCreate,
  PoolResizeStartEvent: poolResizeStart,
  PoolResizeCompleteEvent: poolResizeComplete,
  PoolAutoScaleEvent: poolAutoScale,
  PoolDeleteStartEvent: poolDeleteStart,
  PoolDeleteCompleteEvent: poolDeleteComplete,
  TaskStartEvent: taskStart,
  TaskCompleteEvent: taskComplete,
  TaskFailEvent: taskFail,
  TaskScheduleFailEvent: taskScheduleFail,
} as const;

export type ServiceLogEventName = keyof typeof eventSchemas;

export const EVENT_NAMES = Object.keys(eventSchemas) as readonly ServiceLogEventName[];

/** Event name → body type. */
export type ServiceLogEvents = { [K in ServiceLogEventName]: z.infer<(typeof eventSchemas)[K]> };

export const POOL_EVENTS = EVENT_NAMES.filter((n) => n.startsWith('Pool'));
export const TASK_EVENTS = EVENT_NAMES.filter((n) => n.startsWith('Task'));

export function isServiceLogEventName(name: string): name is ServiceLogEventName {
  return Object.prototype.hasOwnProperty.call(eventSchemas, name);
}

/** An Azure Monitor resource-log record, as written to Event Hubs / `insights-logs-servicelogs`. */
export interface ServiceLogRecord<K extends ServiceLogEventName = ServiceLogEventName> {
  time: string;
  resourceId: string;
  category: 'ServiceLog';
  operationName: K;
  properties: ServiceLogEvents[K];
}

/** Validates `body` (throws a ZodError naming the bad field) and wraps it in the log envelope. */
export function makeServiceLogRecord<K extends ServiceLogEventName>(
  name: K,
  body: ServiceLogEvents[K],
  ctx: { time: Date; resourceId: string },
): ServiceLogRecord<K> {
  const properties = eventSchemas[name].parse(body) as ServiceLogEvents[K];
  return { time: ctx.time.toISOString(), resourceId: ctx.resourceId, category: 'ServiceLog', operationName: name, properties };
}

/**
 * The Event Hubs partition key of an event: the pool id for pool events, the job id for task
 * events, so each pool's (or job's) events stay in order in one partition.
 */
export function partitionKeyOf<K extends ServiceLogEventName>(name: K, body: ServiceLogEvents[K]): string {
  const b = body as { id: string; jobId?: string };
  return name.startsWith('Task') ? b.jobId! : b.id;
}
