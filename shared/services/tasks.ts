import type { TransactionAction } from '@azure/data-tables';
import { BatchError, type BatchErrorCode } from '../errors';
import type { TaskAddBody } from '../api/schemas';
import type { OutputFileBody } from '../api/task-schemas';
import type { JobRecord, TaskRecord, TaskSpec } from '../domain/model';
import type { Runtime } from '../runtime';
import { StorageError } from '../storage/errors';
import { chunkKey, idKey, shardOf, taskPartition } from '../storage/keys';
import { createChunkAction, createTaskAction, type PendingEntry, type TaskRun } from '../storage/tasks';
import type { Stored } from '../storage/table';
import { getJob, invalidateJobsOnPool } from './jobs';
import { checkExitConditions } from '../domain/exit-conditions';
import { acceptsTasks } from '../domain/job-state';
import { reservedTaskIdCode } from '../domain/job-tasks';
import { byBucket, commitWithCounter, moveDelta } from './taskflow';
import { forgetChunks } from './queue-heads';
import { inGroup, type GroupCommitter } from './group-commit';

export interface AddTaskResult {
  taskId: string;
  status: 'success' | 'clientError' | 'serverError';
  etag?: string;
  lastModified?: string;
  error?: { code: BatchErrorCode; message: string };
}

/** Turns a validated task body into a spec; features that cannot run here are refused by name. */
export function taskSpecOf(b: TaskAddBody, job: JobRecord): TaskSpec {
  const refuse = (name: string, what: string): never => {
    throw new BatchError('UnsupportedProperty', `${what} is not available yet in batchplane.`, [{ key: 'PropertyName', value: name }]);
  };
  if (b.containerSettings) refuse('containerSettings', 'Running tasks in containers');
  if (b.multiInstanceSettings) refuse('multiInstanceSettings', 'Multi-instance tasks');
  if (b.dependsOn) refuse('dependsOn', 'Task dependencies');
  // authenticationTokenSettings: no token is minted for local nodes, so it is refused rather than ignored.
  if (b.authenticationTokenSettings) refuse('authenticationTokenSettings', 'Authentication tokens for tasks');
  // Local nodes run every task as the agent's user: a named pool user account cannot be honoured.
  if (b.userIdentity?.userName) refuse('userIdentity.userName', 'Running tasks as a named user account');
  if (b.resourceFiles?.some((r) => r.identityReference)) refuse('resourceFiles.identityReference', 'Managed identities for resource files');
  b.outputFiles?.forEach((f, i) => {
    if (f.destination.container.identityReference) refuse(`outputFiles[${i}].destination.container.identityReference`, 'Managed identities for output files');
    if (f.destination.autoStorage) refuse(`outputFiles[${i}].destination.autoStorage`, 'Auto-storage output files');
  });
  checkExitConditions(b.exitConditions, job.onTaskFailure);
  if (b.applicationPackageReferences?.length) refuse('applicationPackageReferences', 'Application packages');
  if (b.resourceFiles?.some((r) => r.autoStorageContainerName)) refuse('resourceFiles.autoStorageContainerName', 'Auto-storage resource files');
  return {
    id: b.id,
    displayName: b.displayName,
    commandLine: b.commandLine,
    resourceFiles: b.resourceFiles ?? [],
    environmentSettings: b.environmentSettings ?? [],
    constraints: {
      maxWallClockTime: b.constraints?.maxWallClockTime,
      retentionTime: b.constraints?.retentionTime,
      maxTaskRetryCount: b.constraints?.maxTaskRetryCount ?? job.constraints?.maxTaskRetryCount ?? 0,
    },
    requiredSlots: b.requiredSlots ?? 1,
    userIdentity: b.userIdentity,
    affinityInfo: b.affinityInfo,
    exitConditions: b.exitConditions,
    ...(b.outputFiles?.length ? { outputFiles: b.outputFiles.map(storedOutputFile) } : {}),
  };
}

const CONDITIONS = { tasksuccess: 'TaskSuccess', taskfailure: 'TaskFailure', taskcompletion: 'TaskCompletion' } as const;

/** An outputFiles entry as stored and returned (uploadCondition in the service's casing, as real GETs show it). */
function storedOutputFile(f: OutputFileBody): Record<string, unknown> {
  const c = f.destination.container;
  return {
    filePattern: f.filePattern,
    destination: { container: { containerUrl: c.containerUrl, ...(c.path !== undefined ? { path: c.path } : {}), ...(c.uploadHeaders?.length ? { uploadHeaders: c.uploadHeaders } : {}) } },
    uploadOptions: { uploadCondition: CONDITIONS[f.uploadOptions.uploadCondition] },
  };
}

function checkJobAcceptsTasks(job: JobRecord): void {
  if (job.state === 'completed') throw new BatchError('JobCompleted', 'The specified job is already in a completed state.');
  if (job.state === 'deleting') throw new BatchError('JobBeingDeleted', 'The specified job has been marked for deletion and is being reclaimed.');
  if (job.state === 'terminating') throw new BatchError('JobBeingTerminated', 'The specified job is being terminated.');
  // A disabled job still takes tasks: they run once it is enabled (domain/job-state).
  if (!acceptsTasks(job.state)) throw new BatchError('JobNotActive', 'The specified job is not in an active state.');
}

let chunkSeq = 0;
/** Tasks per transaction: creates + one pending chunk + one counter shard ≤ 100 actions. */
const PER_TX = 98;

/**
 * Adds tasks to a job. The tasks are grouped by bucket (see storage/keys.ts); each group of ≤ 98
 * tasks of a bucket is ONE transaction in that bucket's partition (shared with the groups of
 * concurrent adds to that bucket, see addGroupCommit): the task rows, one pending chunk carrying their specs (so claiming them needs no reads) and the
 * counter delta. A duplicate id fails the transaction at its index; that task is reported as
 * TaskExists and the rest are committed. Then one in-process nudge wakes idle nodes.
 */
export async function addTasks(rt: Runtime, jobId: string, bodies: TaskAddBody[]): Promise<AddTaskResult[]> {
  const job = (await getJob(rt, jobId)).value;
  checkJobAcceptsTasks(job);
  const specs = bodies.map((b) => taskSpecOf(b, job));
  const results = new Map<string, AddTaskResult>();
  const seen = new Set<string>();
  const fresh: TaskSpec[] = [];
  for (const s of specs) {
    const key = s.id.toLowerCase();
    const reserved = reservedTaskIdCode(job, s.id);
    if (reserved) {
      seen.add(key);
      results.set(s.id, { taskId: s.id, status: 'clientError', error: { code: reserved, message: 'The task id is the id of the job\'s preparation or release task.' } });
    } else if (seen.has(key)) {
      results.set(s.id, exists(s.id));
    } else {
      seen.add(key);
      fresh.push(s);
    }
  }
  const groups: [number, TaskSpec[]][] = [];
  for (const [bucket, specsOfBucket] of byBucket(fresh, (s) => s.id)) {
    for (let i = 0; i < specsOfBucket.length; i += PER_TX) groups.push([bucket, specsOfBucket.slice(i, i + PER_TX)]);
  }
  // The buckets' transactions are independent: they run side by side.
  // The job's id as it was created (the request's may differ in case): task rows keep it.
  await Promise.all(groups.map(([bucket, specsOfGroup]) => inGroup(rt, `add|${taskPartition(jobId, bucket)}`, { rt, jobId: job.id, bucket, specs: specsOfGroup, results }, addGroupCommit)));
  for (const bucket of new Set(groups.map(([b]) => b))) forgetChunks(rt, jobId, bucket);
  if (job.poolInfo.poolId) invalidateJobsOnPool(rt, job.poolInfo.poolId);
  return specs.map((s, k) => (k === specs.findIndex((x) => x.id.toLowerCase() === s.id.toLowerCase()) ? results.get(s.id)! : exists(s.id)));
}

/** A group of one add call's tasks of one bucket (≤ PER_TX), waiting for (or leading) a group commit. */
interface AddWaiter {
  rt: Runtime;
  jobId: string;
  bucket: number;
  specs: TaskSpec[];
  results: Map<string, AddTaskResult>;
}

/**
 * Adds of one bucket partition are group-committed (group-commit.ts): the groups of concurrent
 * addtaskcollection calls that arrive while a transaction is in flight share the next one, so N
 * calls in flight cost about one transaction, one chunk row and one counter update per bucket
 * instead of N (each row of a partition makes Azurite's next insert there slower).
 */
const addGroupCommit: GroupCommitter<AddWaiter, void> = {
  fits: (batch, w) => batch.reduce((n, b) => n + b.specs.length, 0) + w.specs.length <= PER_TX,
  commit: async (batch) => {
    const { rt, jobId, bucket } = batch[0]!;
    // The same id in two concurrent calls: the first one queued adds it, the other gets TaskExists.
    const owner = new Map<TaskSpec, Map<string, AddTaskResult>>();
    const ids = new Set<string>();
    for (const w of batch) {
      for (const spec of w.specs) {
        const key = spec.id.toLowerCase();
        if (ids.has(key)) w.results.set(spec.id, exists(spec.id));
        else {
          ids.add(key);
          owner.set(spec, w.results);
        }
      }
    }
    await addGroup(rt, jobId, bucket, [...owner.keys()], (spec, r) => owner.get(spec)!.set(spec.id, r));
    return batch.map(() => undefined);
  },
};

/** One transaction of an add (≤ 98 tasks of one bucket); a duplicate id is reported and the rest committed. */
async function addGroup(rt: Runtime, jobId: string, bucket: number, specs: TaskSpec[], report: (spec: TaskSpec, r: AddTaskResult) => void): Promise<void> {
  let group = specs;
  while (group.length) {
    const now = rt.clock();
    const t = now.toISOString();
    const run: TaskRun = { state: 'active', stateTransitionTime: t, creationTime: t, lastModified: t, retryCount: 0, requeueCount: 0 };
    const entries: PendingEntry[] = group.map((spec) => ({ spec, retryCount: 0, activeSince: t, creationTime: t }));
    const actions: TransactionAction[] = [...group.map((s) => createTaskAction(jobId, s, run)), createChunkAction(jobId, bucket, chunkKey(now.getTime(), chunkSeq++, rt.ids.hex(3)), entries)];
    const slots = group.reduce((n, s) => n + s.requiredSlots, 0);
    try {
      const etags = await commitWithCounter(rt, jobId, bucket, shardOf(`add:${group[0]!.id}`), moveDelta(null, 'active', group.length, slots), actions);
      for (const s of group) report(s, { taskId: s.id, status: 'success', etag: etags.get(idKey(s.id)) ?? '', lastModified: t });
      group = [];
    } catch (err) {
      const idx = err instanceof StorageError && err.isConflict ? err.failedIndex : undefined;
      if (idx === undefined || idx >= group.length) throw err;
      report(group[idx]!, exists(group[idx]!.id));
      group = group.filter((_, k) => k !== idx);
    }
  }
}

function exists(taskId: string): AddTaskResult {
  return { taskId, status: 'clientError', error: { code: 'TaskExists', message: 'The specified task already exists.' } };
}

export async function getTask(rt: Runtime, jobId: string, taskId: string): Promise<Stored<TaskRecord>> {
  const t = await rt.tasks.get(jobId, taskId);
  if (!t) {
    await getJob(rt, jobId);
    throw new BatchError('TaskNotFound', 'The specified task does not exist.');
  }
  return t;
}
