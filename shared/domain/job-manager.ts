import { unsupportedProperty } from '../errors';

type NameValue = { name: string; value: string };

/**
 * Pure rules of a job's Job Manager task (REST JobManagerTask):
 * - what a job add accepts, and the JobManagerTask as stored and returned by GET job (Azure's
 *   defaults filled in: killJobOnCompletion, runExclusive and allowLowPriorityNode true,
 *   requiredSlots 1, a pool-scoped non-admin auto user, the TaskConstraints defaults);
 * - the slots its task row asks for (runExclusive: a whole node);
 * - when its completion ends the job (killJobOnCompletion → terminateReason JMComplete, the
 *   reason REST JobExecutionInformation.terminateReason names for it).
 *
 * Not modelled: the service "might terminate one of the other running tasks in the pool to make
 * room" for a job manager that needs restarting (no preemption here: a retried job manager waits
 * in its job's FIFO queue like any task); and "its node is the last to be removed from a pool when
 * the pool is being downsized" (node selection on resize does not look at what a node runs).
 */

/** What the request body may hold (zod-checked shape: api/schemas jobManagerTask). */
export interface JobManagerInput {
  id: string;
  displayName?: string;
  commandLine: string;
  containerSettings?: Record<string, unknown>;
  resourceFiles?: Record<string, unknown>[];
  outputFiles?: Record<string, unknown>[];
  environmentSettings?: NameValue[];
  constraints?: { maxWallClockTime?: string; retentionTime?: string; maxTaskRetryCount?: number };
  requiredSlots?: number;
  killJobOnCompletion?: boolean;
  userIdentity?: { userName?: string; username?: string; autoUser?: { scope?: 'task' | 'pool'; elevationLevel?: 'nonadmin' | 'admin' } };
  runExclusive?: boolean;
  applicationPackageReferences?: Record<string, unknown>[];
  authenticationTokenSettings?: Record<string, unknown>;
  allowLowPriorityNode?: boolean;
}

/** JobManagerTask as stored on the job and returned by GET job (wire shape). */
export interface JobManagerTask {
  id: string;
  displayName?: string;
  commandLine: string;
  resourceFiles?: Record<string, unknown>[];
  outputFiles?: Record<string, unknown>[];
  environmentSettings?: NameValue[];
  constraints: { maxWallClockTime: string; retentionTime: string; maxTaskRetryCount: number };
  requiredSlots: number;
  killJobOnCompletion: boolean;
  userIdentity: { autoUser: { scope: 'task' | 'pool'; elevationLevel: 'nonadmin' | 'admin' } };
  runExclusive: boolean;
  allowLowPriorityNode: boolean;
}

/** The TaskConstraints defaults Azure shows when none are given (as GET task does). */
export const UNLIMITED_WALL_CLOCK = 'P10675199DT2H48M5.4775807S';
export const DEFAULT_RETENTION = 'P7D';
/** REST JobExecutionInformation.terminateReason when the job manager completed with killJobOnCompletion. */
export const JM_COMPLETE = 'JMComplete';


/**
 * Validates a job add's jobManagerTask and fills in the defaults. What local nodes cannot honour
 * is refused by name (400 UnsupportedProperty), before anything is stored. `jobRetries` is the
 * job's constraints.maxTaskRetryCount: like any task of the job, the job manager inherits it
 * when it gives none (the seed: "by default, the job manager will not be retried").
 */
export function jobManagerTaskOf(s: JobManagerInput, jobRetries?: number): JobManagerTask {
  if (s.containerSettings) throw unsupportedProperty('jobManagerTask.containerSettings', 'Local nodes do not run containers.');
  if (s.applicationPackageReferences?.length) throw unsupportedProperty('jobManagerTask.applicationPackageReferences', 'Application packages are not available in batchplane.');
  if (s.authenticationTokenSettings) throw unsupportedProperty('jobManagerTask.authenticationTokenSettings', 'No authentication token is minted for local nodes.');
  if (s.userIdentity?.userName !== undefined || s.userIdentity?.username !== undefined) throw unsupportedProperty('jobManagerTask.userIdentity.username', 'Local nodes have no named user accounts; use an autoUser.');
  const auto = s.userIdentity?.autoUser;
  return {
    id: s.id,
    ...(s.displayName !== undefined ? { displayName: s.displayName } : {}),
    commandLine: s.commandLine,
    ...(s.resourceFiles?.length ? { resourceFiles: s.resourceFiles } : {}),
    ...(s.outputFiles?.length ? { outputFiles: s.outputFiles.map(wireOutputFile) } : {}),
    ...(s.environmentSettings?.length ? { environmentSettings: s.environmentSettings } : {}),
    constraints: {
      maxWallClockTime: s.constraints?.maxWallClockTime ?? UNLIMITED_WALL_CLOCK,
      retentionTime: s.constraints?.retentionTime ?? DEFAULT_RETENTION,
      maxTaskRetryCount: s.constraints?.maxTaskRetryCount ?? jobRetries ?? 0,
    },
    requiredSlots: s.requiredSlots ?? 1,
    killJobOnCompletion: s.killJobOnCompletion ?? true,
    userIdentity: { autoUser: { scope: auto?.scope ?? 'pool', elevationLevel: auto?.elevationLevel ?? 'nonadmin' } },
    runExclusive: s.runExclusive ?? true,
    // Accepted and shown; local nodes are all dedicated, so it changes nothing here.
    allowLowPriorityNode: s.allowLowPriorityNode ?? true,
  };
}

/**
 * Slots the job manager's task row asks for. runExclusive: "no other tasks will run on the same
 * node for as long as the job manager is running" — asking for every slot of a node gives exactly
 * that with the ordinary slot accounting. `slotsPerNode` is the pool's taskSlotsPerNode, or
 * undefined when the pool does not exist (yet): then only the requiredSlots given count, since
 * nothing says how large its nodes will be (a job may name a pool created later).
 */
export function jobManagerSlots(jm: Pick<JobManagerTask, 'requiredSlots' | 'runExclusive'>, slotsPerNode: number | undefined): number {
  if (!jm.runExclusive || slotsPerNode === undefined) return jm.requiredSlots;
  return Math.max(jm.requiredSlots, slotsPerNode);
}

const CONDITIONS: Record<string, string> = { tasksuccess: 'TaskSuccess', taskfailure: 'TaskFailure', taskcompletion: 'TaskCompletion' };

/** An outputFiles entry with uploadCondition in the service's casing (as GET shows it; the schema lower-cases it). */
function wireOutputFile(f: Record<string, unknown>): Record<string, unknown> {
  const opts = f.uploadOptions as { uploadCondition?: string } | undefined;
  const c = opts?.uploadCondition;
  return c && CONDITIONS[c] ? { ...f, uploadOptions: { ...opts, uploadCondition: CONDITIONS[c] } } : f;
}

/** The task body's form of a stored outputFiles entry (uploadCondition lower-cased again). */
export function bodyOutputFile(f: Record<string, unknown>): Record<string, unknown> {
  const opts = f.uploadOptions as { uploadCondition?: string } | undefined;
  return opts?.uploadCondition ? { ...f, uploadOptions: { ...opts, uploadCondition: opts.uploadCondition.toLowerCase() } } : f;
}

/** Job states in which a completed job manager (killJobOnCompletion) still has a job to end. */
const OPEN: ReadonlySet<string> = new Set(['active', 'disabling', 'disabled', 'enabling']);

/**
 * Whether the job must now be terminated with JMComplete: its job manager asks for it, the job is
 * still open, and the job manager's task row (same id) is completed — succeeded, or failed with
 * its retries used up (a task waiting for a retry is active again, not completed).
 */
export function jobManagerEndsJob(job: { state: string; jobManagerTask?: Pick<JobManagerTask, 'id' | 'killJobOnCompletion'> }, taskState: string | undefined): boolean {
  return !!job.jobManagerTask?.killJobOnCompletion && OPEN.has(job.state) && taskState === 'completed';
}
