import { durationSeconds } from '../api/validate';
import type { JobRecord, NodeCommand } from '../domain/model';
import type { JobPreparationSpec, JobTaskRunSpec, TaskAssignment } from '../nodes/protocol';

/** What the agent gets of a job's preparation and release tasks (no I/O; see services/job-tasks). */

function runSpec(t: { id: string; commandLine: string; resourceFiles?: JobTaskRunSpec['resourceFiles']; environmentSettings?: { name: string; value: string }[]; userIdentity: { autoUser: { elevationLevel: 'nonadmin' | 'admin' } } }, wall: string | undefined): JobTaskRunSpec {
  const environment: Record<string, string> = {};
  for (const { name, value } of t.environmentSettings ?? []) environment[name] = value;
  const secs = wall ? durationSeconds(wall) : undefined;
  return {
    id: t.id, commandLine: t.commandLine, resourceFiles: t.resourceFiles ?? [], environment,
    ...(secs !== undefined ? { maxWallClockSeconds: secs } : {}),
    elevationLevel: t.userIdentity.autoUser.elevationLevel,
  };
}

/** What an assignment of this job carries: its preparation task, when it has one. */
export function preparationOf(job: JobRecord): Pick<TaskAssignment, 'jobPreparation'> {
  const p = job.jobPreparationTask;
  if (!p) return {};
  const jobPreparation: JobPreparationSpec = {
    ...runSpec(p, p.constraints.maxWallClockTime),
    maxTaskRetryCount: p.constraints.maxTaskRetryCount,
    waitForSuccess: p.waitForSuccess,
    rerunOnNodeRebootAfterSuccess: p.rerunOnNodeRebootAfterSuccess,
  };
  return { jobPreparation };
}

export function releaseCommand(job: JobRecord): NodeCommand | undefined {
  const r = job.jobReleaseTask;
  const p = job.jobPreparationTask;
  if (!r || !p) return undefined;
  return { kind: 'runJobRelease', jobId: job.id, preparationId: p.id, release: runSpec(r, r.maxWallClockTime) };
}
