import { BatchError } from '../errors';
import { localTaskBasics, type LocalTaskBasics } from './local-task';
import type { ResourceFileSpec as ResourceFile } from '../nodes/protocol';

type NameValue = { name: string; value: string };

/**
 * Pure rules of a job's preparation and release tasks (REST JobPreparationTask, JobReleaseTask,
 * JobPreparationAndReleaseTaskExecutionInformation):
 * - what a job add accepts and stores, with Azure's defaults filled in (returned by GET job);
 * - the per-node status rows the agents' reports build, and their REST shape;
 * - when a terminating job's release tasks are done.
 *
 *   node claims its first task of the job ──▶ preparation runs (retries: maxTaskRetryCount)
 *        waitForSuccess: the task waits; a preparation that fails gives the task back (requeued,
 *        the node takes no more tasks of the job); success: the node's tasks of the job run.
 *   job terminated / deleted ──▶ every node that ran the preparation runs the release task once.
 */

export interface AutoUserIdentity {
  autoUser: { scope: 'pool' | 'task'; elevationLevel: 'nonadmin' | 'admin' };
}

/** JobPreparationTask as stored and returned. */
export interface JobPreparationTask {
  id: string;
  commandLine: string;
  resourceFiles?: ResourceFile[];
  environmentSettings?: NameValue[];
  constraints: { maxWallClockTime?: string; retentionTime?: string; maxTaskRetryCount: number };
  waitForSuccess: boolean;
  userIdentity: AutoUserIdentity;
  rerunOnNodeRebootAfterSuccess: boolean;
}

/** JobReleaseTask as stored and returned. */
export interface JobReleaseTask {
  id: string;
  commandLine: string;
  resourceFiles?: ResourceFile[];
  environmentSettings?: NameValue[];
  maxWallClockTime: string;
  retentionTime?: string;
  userIdentity: AutoUserIdentity;
}

/** What the request body may hold (zod-checked shapes, see api/job-task-schemas). */
export interface JobTaskInput {
  id?: string;
  commandLine: string;
  resourceFiles?: (ResourceFile & { identityReference?: unknown })[];
  environmentSettings?: NameValue[];
  userIdentity?: { userName?: string; username?: string; autoUser?: { scope?: 'task' | 'pool'; elevationLevel?: 'nonadmin' | 'admin' } };
  containerSettings?: Record<string, unknown>;
}
export interface JobPreparationInput extends JobTaskInput {
  constraints?: { maxWallClockTime?: string; retentionTime?: string; maxTaskRetryCount?: number };
  waitForSuccess?: boolean;
  rerunOnNodeRebootAfterSuccess?: boolean;
}
export interface JobReleaseInput extends JobTaskInput {
  maxWallClockTime?: string;
  retentionTime?: string;
}

export const DEFAULT_PREPARATION_ID = 'jobpreparation';
export const DEFAULT_RELEASE_ID = 'jobrelease';
/** The release task's default (and maximum) maxWallClockTime. */
export const DEFAULT_RELEASE_WALL_CLOCK = 'PT15M';


function common(s: JobTaskInput, path: string): LocalTaskBasics {
  return localTaskBasics(s, path);
}

export function jobPreparationTaskOf(s: JobPreparationInput): JobPreparationTask {
  return {
    id: s.id ?? DEFAULT_PREPARATION_ID,
    ...common(s, 'jobPreparationTask'),
    constraints: {
      ...(s.constraints?.maxWallClockTime ? { maxWallClockTime: s.constraints.maxWallClockTime } : {}),
      ...(s.constraints?.retentionTime ? { retentionTime: s.constraints.retentionTime } : {}),
      maxTaskRetryCount: s.constraints?.maxTaskRetryCount ?? 0,
    },
    waitForSuccess: s.waitForSuccess ?? true,
    rerunOnNodeRebootAfterSuccess: s.rerunOnNodeRebootAfterSuccess ?? true,
  };
}

export function jobReleaseTaskOf(s: JobReleaseInput): JobReleaseTask {
  return {
    id: s.id ?? DEFAULT_RELEASE_ID,
    ...common(s, 'jobReleaseTask'),
    maxWallClockTime: s.maxWallClockTime ?? DEFAULT_RELEASE_WALL_CLOCK,
    ...(s.retentionTime ? { retentionTime: s.retentionTime } : {}),
  };
}

/**
 * Both tasks of a job add. The spec: "A Job Release Task cannot be specified without also
 * specifying a Job Preparation Task for the Job" → 400 (MissingRequiredProperty naming
 * jobPreparationTask; the spec names no code). The two ids must differ (they share the job's
 * directory namespace on the node) → 400 InvalidPropertyValue.
 */
export function jobTasksOf(prep: JobPreparationInput | undefined, release: JobReleaseInput | undefined): { jobPreparationTask?: JobPreparationTask; jobReleaseTask?: JobReleaseTask } {
  if (release && !prep) {
    throw new BatchError('MissingRequiredProperty', 'A Job Release Task cannot be specified without also specifying a Job Preparation Task for the Job.', [{ key: 'PropertyName', value: 'jobPreparationTask' }]);
  }
  if (!prep) return {};
  const p = jobPreparationTaskOf(prep);
  const r = release ? jobReleaseTaskOf(release) : undefined;
  if (r && r.id.toLowerCase() === p.id.toLowerCase()) {
    throw new BatchError('InvalidPropertyValue', 'The value provided for one of the properties in the request body is invalid.', [
      { key: 'PropertyName', value: 'jobReleaseTask.id' }, { key: 'PropertyValue', value: r.id }, { key: 'Reason', value: 'The job release task must not have the id of the job preparation task.' },
    ]);
  }
  return { jobPreparationTask: p, ...(r ? { jobReleaseTask: r } : {}) };
}

/**
 * A task may not take the id of its job's preparation or release task (they share the job's
 * directories on the node): 409 TaskIdSameAsJobPreparationTask / TaskIdSameAsJobReleaseTask.
 */
export function reservedTaskIdCode(job: { jobPreparationTask?: { id: string }; jobReleaseTask?: { id: string } }, taskId: string): 'TaskIdSameAsJobPreparationTask' | 'TaskIdSameAsJobReleaseTask' | undefined {
  const id = taskId.toLowerCase();
  if (job.jobPreparationTask?.id.toLowerCase() === id) return 'TaskIdSameAsJobPreparationTask';
  if (job.jobReleaseTask?.id.toLowerCase() === id) return 'TaskIdSameAsJobReleaseTask';
  return undefined;
}

/** One run of a preparation or release task on a node, as the agent reports it. */
export interface JobTaskRunInfo {
  state: 'running' | 'completed';
  startTime: string;
  endTime?: string;
  exitCode?: number;
  result?: 'success' | 'failure';
  failureInfo?: { category: 'usererror' | 'servererror'; code: string; message: string; details?: { name: string; value: string }[] };
  retryCount: number;
  lastRetryTime?: string;
}

/** The status row of one node of a job (stored in the job's tasks partition, see storage/tasks). */
export interface JobTaskStatus {
  poolId: string;
  nodeId: string;
  preparation?: JobTaskRunInfo;
  release?: JobTaskRunInfo;
  /** When the host queued the release command for this node. */
  releaseRequested?: string;
}

/**
 * Whether a reported run replaces the stored one: a later attempt (start time) wins; within the
 * same attempt completed wins over running. Reports can arrive out of order (two exchange channels).
 */
export function newerRun(stored: JobTaskRunInfo | undefined, incoming: JobTaskRunInfo): boolean {
  if (!stored) return true;
  if (incoming.startTime !== stored.startTime) return Date.parse(incoming.startTime) > Date.parse(stored.startTime) || incoming.retryCount > stored.retryCount;
  if (stored.state === 'completed' && incoming.state === 'running') return false;
  return incoming.retryCount >= stored.retryCount;
}

/** Slack beyond the release task's maxWallClockTime before a node that never reports is given up on. */
export const RELEASE_SLACK_MS = 60_000;

/**
 * A terminating job's release tasks: which nodes still need the release command, and whether
 * the job may complete (every node that ran the preparation has a completed release, or was
 * asked longer ago than the release's maxWallClockTime plus slack, or is gone).
 */
export function releaseProgress(rows: JobTaskStatus[], liveNodes: ReadonlySet<string>, releaseWallSeconds: number, nowMs: number): { send: JobTaskStatus[]; done: boolean } {
  const send: JobTaskStatus[] = [];
  let done = true;
  for (const r of rows) {
    if (!r.preparation || r.release?.state === 'completed' || !liveNodes.has(r.nodeId)) continue;
    if (!r.releaseRequested) {
      send.push(r);
      done = false;
      continue;
    }
    if (nowMs - Date.parse(r.releaseRequested) < releaseWallSeconds * 1000 + RELEASE_SLACK_MS) done = false;
  }
  return { send, done };
}

/** REST JobPreparationAndReleaseTaskExecutionInformation of one node. */
export function jobTaskStatusJson(accountUrl: string, jobId: string, prepId: string, releaseId: string | undefined, s: JobTaskStatus): Record<string, unknown> {
  const nodeUrl = `${accountUrl}/pools/${s.poolId}/nodes/${s.nodeId}`;
  const dir = (taskId: string): { taskRootDirectory: string; taskRootDirectoryUrl: string } => {
    const taskRootDirectory = `workitems/${jobId}/job-1/${taskId}`;
    return { taskRootDirectory, taskRootDirectoryUrl: `${nodeUrl}/files/${taskRootDirectory}` };
  };
  const run = (i: JobTaskRunInfo, taskId: string, withRetries: boolean): Record<string, unknown> => strip({
    startTime: i.startTime,
    endTime: i.endTime,
    state: i.state,
    ...dir(taskId),
    exitCode: i.exitCode,
    failureInfo: i.failureInfo,
    ...(withRetries ? { retryCount: i.retryCount, lastRetryTime: i.lastRetryTime } : {}),
    result: i.result,
  });
  return strip({
    poolId: s.poolId,
    nodeId: s.nodeId,
    nodeUrl,
    jobPreparationTaskExecutionInfo: s.preparation ? run(s.preparation, prepId, true) : undefined,
    jobReleaseTaskExecutionInfo: s.release && releaseId ? run(s.release, releaseId, false) : undefined,
  });
}

function strip(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
