/**
 * Value types of the formula language and the public input/outcome shapes.
 *
 * Representation: timestamps are milliseconds since the Unix epoch (UTC); timeintervals are
 * milliseconds (fractional below 1 ms, so TimeInterval_100ns is 0.0001). doubleVecList is not a
 * runtime value: it is how function arguments are flattened (see functions.ts).
 */

export type Value =
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'doubleVec'; readonly value: readonly number[] }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'timestamp'; readonly value: number }
  | { readonly type: 'timeinterval'; readonly value: number };

export type ValueType = Value['type'];

export const dbl = (value: number): Value => ({ type: 'double', value });
export const vec = (value: readonly number[]): Value => ({ type: 'doubleVec', value });
export const str = (value: string): Value => ({ type: 'string', value });
export const stamp = (value: number): Value => ({ type: 'timestamp', value });
export const interval = (value: number): Value => ({ type: 'timeinterval', value });
export const bool = (b: boolean): Value => dbl(b ? 1 : 0);

const SECOND = 1000;
const DAY = 86_400 * SECOND;

/**
 * The seed's timeinterval constants. TimeInterval_Year's length is unstated; we use 365 days
 * (a fixed length, as .NET TimeSpan has no calendar years).
 */
export const TIME_INTERVALS: Readonly<Record<string, number>> = {
  TimeInterval_Zero: 0,
  TimeInterval_100ns: 0.0001,
  TimeInterval_Microsecond: 0.001,
  TimeInterval_Millisecond: 1,
  TimeInterval_Second: SECOND,
  TimeInterval_Minute: 60 * SECOND,
  TimeInterval_Hour: 3600 * SECOND,
  TimeInterval_Day: DAY,
  TimeInterval_Week: 7 * DAY,
  TimeInterval_Year: 365 * DAY,
};

/** .NET DateTime range (0001-01-01 … 9999-12-31T23:59:59.999Z); timestamps outside it are errors. */
export const MIN_TIMESTAMP_MS = -62_135_596_800_000;
export const MAX_TIMESTAMP_MS = 253_402_300_799_999;
/** .NET TimeSpan range in milliseconds. */
export const MAX_INTERVAL_MS = 922_337_203_685_477;

/** "A sample is 30 seconds worth of metrics data" — GetSamplePeriod(). */
export const SAMPLE_PERIOD_MS = 30 * SECOND;

export const DEALLOCATION_OPTIONS = ['requeue', 'terminate', 'taskcompletion', 'retaineddata'] as const;
export type NodeDeallocationOption = (typeof DEALLOCATION_OPTIONS)[number];

/** Read-only sampled metrics (names without `$`): usable only through their methods. */
export const SAMPLED_METRICS: ReadonlySet<string> = new Set([
  'CPUPercent', 'WallClockSeconds', 'MemoryBytes', 'DiskBytes', 'DiskReadBytes', 'DiskWriteBytes',
  'DiskReadOps', 'DiskWriteOps', 'NetworkInBytes', 'NetworkOutBytes', 'SampleNodeCount',
  'ActiveTasks', 'RunningTasks', 'PendingTasks', 'SucceededTasks', 'FailedTasks',
  'ActiveSlots', 'RunningSlots', 'PendingSlots',
]);

/**
 * Read-only scalar variables: plain doubles in arithmetic (the seed's `$CurrentDedicated * 1.1`),
 * and also metric objects whose methods read `samples[sampleKey]` (today's docs use
 * `$PreemptedNodeCount.GetSample(…)`).
 */
export const CURRENT_VARIABLES: Readonly<Record<string, { readonly field: keyof CurrentValues; readonly sampleKey: string }>> = {
  $CurrentDedicatedNodes: { field: 'dedicatedNodes', sampleKey: 'CurrentDedicatedNodes' },
  $CurrentDedicated: { field: 'dedicatedNodes', sampleKey: 'CurrentDedicatedNodes' },
  $CurrentLowPriorityNodes: { field: 'lowPriorityNodes', sampleKey: 'CurrentLowPriorityNodes' },
  $PreemptedNodeCount: { field: 'preemptedNodes', sampleKey: 'PreemptedNodeCount' },
  $TaskSlotsPerNode: { field: 'taskSlotsPerNode', sampleKey: 'TaskSlotsPerNode' },
};

export interface Sample {
  time: Date;
  value: number;
}

export interface CurrentValues {
  dedicatedNodes: number;
  lowPriorityNodes: number;
  preemptedNodes: number;
  taskSlotsPerNode: number;
  targetDedicatedNodes: number;
  targetLowPriorityNodes: number;
}

export interface AutoscaleLimits {
  /** Evaluation work units (one per expression node plus one per vector element touched). Default 10,000,000. */
  maxSteps?: number;
  /** Longest doubleVec a formula may build. Default 1,000,000. */
  maxVectorLength?: number;
}

export interface AutoscaleInputs {
  now: Date;
  /** Source for rand(); must return a number in [0, 1). */
  random: () => number;
  /**
   * Sampled metrics by service-variable name without '$' (CPUPercent, ActiveTasks, …), in any
   * order. Samples later than `now` are ignored. The evaluator applies no propagation delay:
   * the caller passes exactly the samples that are "available" to the formula.
   */
  samples: Record<string, Sample[]>;
  /** Non-sampled current values. */
  current: CurrentValues;
  limits?: AutoscaleLimits;
}

export interface AutoscaleOutcome {
  targetDedicatedNodes: number;
  targetLowPriorityNodes: number;
  nodeDeallocationOption: NodeDeallocationOption;
  /** Azure's results string: "$TargetDedicatedNodes=10;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue;$curTime=…" */
  results: string;
  error?: { code: 'AutoScalingFormulaEvaluationError'; message: string; values: { name: string; value: string }[] };
}
