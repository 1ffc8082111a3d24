import type { ColumnMap, ColumnSpec, ColumnValue } from '../odata';

/*
 * Which `$filter` properties each list answers from Table storage, and in which column: the contract
 * between the repositories' toRow functions (shared/storage/{pools,jobs,nodes,tasks}.ts) and the
 * filter push-down (odata/table-filter.ts). A property not listed here is evaluated on the page read.
 *
 * Decisions:
 * - Ids are case-preserving and Batch matches values case-insensitively, so `id` is answered from a
 *   lower-cased copy, the column `idl`, not from the RowKey. Pool and job rows written before `idl`
 *   existed get it from the one-off upgrade in storage/upgrade.ts; a job's task rows carry it when the
 *   job was added since (JobRecord.taskIdIndex), otherwise task `id` filters are not pushed down.
 * - Pool, job and node times are Table DateTime columns (Date values, millisecond precision).
 * - Task times are the run columns the task row always had: ISO strings in the fixed
 *   `toISOString()` form (24 characters, UTC), which order as strings exactly as the instants do;
 *   a DateTime literal is compared as that string.
 * - Enum and string columns hold lower-case values (states are lower case by construction).
 */

const col = (column: string, encode?: ColumnSpec['encode']): ColumnSpec => (encode ? { column, encode } : { column });
/** Datetime literals compared with an ISO string column. */
const isoString = (v: ColumnValue): ColumnValue => (v instanceof Date ? v.toISOString() : v);
const asIs = (v: ColumnValue): ColumnValue => v;

export const POOL_COLUMNS: ColumnMap = {
  id: col('idl'),
  state: col('state'),
  allocationState: col('allocationState'),
  vmSize: col('vmSize'),
  enableAutoScale: col('autoScale'),
  enableInterNodeCommunication: col('interNode'),
  creationTime: col('creationTime'),
  stateTransitionTime: col('stateTransitionTime'),
  allocationStateTransitionTime: col('allocationStateTransitionTime'),
  lastModified: col('lastModified'),
};

export const JOB_COLUMNS: ColumnMap = {
  id: col('idl'),
  state: col('state'),
  creationTime: col('creationTime'),
  stateTransitionTime: col('stateTransitionTime'),
  lastModified: col('lastModified'),
  'executionInfo/startTime': col('startTime'),
  'executionInfo/endTime': col('endTime'),
  'executionInfo/poolId': col('poolIdl'),
};

export const NODE_COLUMNS: ColumnMap = {
  state: col('state'),
  stateTransitionTime: col('stateTransitionTime'),
  allocationTime: col('allocationTime'),
  lastBootTime: col('lastBootTime'),
};

const TASK_RUN_COLUMNS: ColumnMap = {
  state: col('state'),
  creationTime: col('creationTime', isoString),
  stateTransitionTime: col('stateTransitionTime', isoString),
  lastModified: col('lastModified', isoString),
  lastModifiedTime: col('lastModified', isoString),
  'executionInfo/startTime': col('startTime', isoString),
  'executionInfo/endTime': col('endTime', isoString),
  'executionInfo/exitCode': col('exitCode', asIs),
  'executionInfo/result': col('result'),
};

/** Task columns of a job: `id` only when every task row of the job carries `idl`. */
export function taskColumns(taskIdIndex: boolean | undefined): ColumnMap {
  return taskIdIndex ? { id: col('idl'), ...TASK_RUN_COLUMNS } : TASK_RUN_COLUMNS;
}
