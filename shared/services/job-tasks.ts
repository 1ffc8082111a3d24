import { newerRun, releaseProgress, type JobTaskRunInfo, type JobTaskStatus } from '../domain/job-tasks';
import type { JobRecord, NodeCommand } from '../domain/model';
import type { JobTaskReport } from '../nodes/protocol';
import type { Runtime } from '../runtime';
import type { Row } from '../storage/table';
import { withEtagRetry } from './retry';
import { nodeKey, poolWorkKey } from './signals';
import { releaseCommand } from './job-task-spec';

/**
 * Job preparation and release tasks (domain/job-tasks has the rules):
 * - every assignment of a job with a preparation task carries it (claims.ts, exchange replay);
 *   the agent runs it once per node before the job's first task there (agent/jobtasks.ts);
 * - the agent reports each run (ExchangeRequest.jobTaskReports): one status row per node in the
 *   job's tasks partition, listed by GET /jobs/{id}/jobpreparationandreleasetaskstatus;
 * - a task the node gives back because the preparation failed (completion `requeue`) goes back
 *   to the queue, no retry counted, and the node names the job in `unpreparedJobs` from then on;
 * - terminate/delete: every node that ran the preparation gets a runJobRelease command.
 * Task state 'preparing' is not used: a task waiting for its node's preparation shows running.
 */

function statusOf(row: Row): JobTaskStatus {
  const json = (k: string): JobTaskRunInfo | undefined => (typeof row[k] === 'string' && row[k] ? (JSON.parse(row[k] as string) as JobTaskRunInfo) : undefined);
  const requested = typeof row.releaseRequested === 'string' && row.releaseRequested ? row.releaseRequested : undefined;
  return {
    poolId: String(row.poolId ?? ''),
    nodeId: String(row.nodeId ?? ''),
    ...(json('preparation') ? { preparation: json('preparation') } : {}),
    ...(json('release') ? { release: json('release') } : {}),
    ...(requested ? { releaseRequested: requested } : {}),
  };
}

/** The job's status rows, one per node that reported a preparation or release run, by node id. */
export async function jobTaskStatuses(rt: Runtime, jobId: string): Promise<JobTaskStatus[]> {
  return (await rt.tasks.jobTaskStatusRows(jobId)).map(statusOf).sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
}

/**
 * Records what a node reports. A report for a job that is gone or being deleted is dropped (its
 * rows went with it). Rare path: one job read and one partition read per reported job.
 */
export async function recordJobTaskReports(rt: Runtime, poolId: string, nodeId: string, reports: JobTaskReport[]): Promise<void> {
  for (const r of reports) {
    const job = await rt.jobs.get(r.jobId);
    if (!job || job.value.state === 'deleting') continue;
    const cur = (await jobTaskStatuses(rt, r.jobId)).find((s) => s.nodeId === nodeId);
    const cols: Record<string, unknown> = { poolId, nodeId };
    if (r.preparation && newerRun(cur?.preparation, r.preparation)) cols.preparation = JSON.stringify(r.preparation);
    if (r.release && newerRun(cur?.release, r.release)) cols.release = JSON.stringify(r.release);
    if (cur && !cols.preparation && !cols.release) continue;
    await rt.tasks.mergeJobTaskStatus(r.jobId, nodeId, cols);
    // A terminating job waits for its release tasks: let the job sweep finish it soon.
    if (r.release?.state === 'completed' && job.value.poolInfo.poolId) rt.signals.notify(poolWorkKey(job.value.poolInfo.poolId));
  }
}


/** Queues a node command (one per job: a repeated release request replaces the earlier one). */
async function queueCommand(rt: Runtime, poolId: string, nodeId: string, cmd: NodeCommand): Promise<boolean> {
  const sent = await withEtagRetry(async () => {
    const n = await rt.nodes.get(poolId, nodeId);
    if (!n) return false;
    const kept = (n.value.commands ?? []).filter((c) => !(c.kind === 'runJobRelease' && cmd.kind === 'runJobRelease' && c.jobId === cmd.jobId));
    await rt.nodes.update({ ...n.value, commands: [...kept, cmd] }, n.etag);
    return true;
  });
  rt.cache.delete(nodeKey(poolId, nodeId));
  rt.signals.notify(poolWorkKey(poolId));
  return sent;
}

/**
 * One step of a terminating job with a release task: sends runJobRelease to each node that ran
 * the preparation and has not been asked yet; true once every such node reported its release
 * completed, or is gone, or was asked longer ago than the release's maxWallClockTime plus slack
 * (the agent kills the release at its maxWallClockTime, so only a lost node stays silent).
 */
export async function releasesFinished(rt: Runtime, job: JobRecord): Promise<boolean> {
  const cmd = releaseCommand(job);
  if (!cmd || cmd.kind !== 'runJobRelease') return true;
  const rows = await jobTaskStatuses(rt, job.id);
  const live = new Set<string>();
  for (const r of rows) if (r.preparation && (await rt.nodes.get(r.poolId, r.nodeId))) live.add(r.nodeId);
  const p = releaseProgress(rows, live, cmd.release.maxWallClockSeconds ?? 900, rt.clock().getTime());
  for (const r of p.send) {
    if (await queueCommand(rt, r.poolId, r.nodeId, cmd)) await rt.tasks.mergeJobTaskStatus(job.id, r.nodeId, { releaseRequested: rt.clock().toISOString() });
  }
  return p.done;
}

/** Job delete: the release tasks run best-effort (their status goes with the job's rows). */
export async function releaseOnDelete(rt: Runtime, job: JobRecord): Promise<void> {
  const cmd = releaseCommand(job);
  if (!cmd) return;
  for (const r of await jobTaskStatuses(rt, job.id)) {
    if (r.preparation && !r.releaseRequested && r.release?.state !== 'completed') await queueCommand(rt, r.poolId, r.nodeId, cmd);
  }
}
