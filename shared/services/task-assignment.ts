import type { TaskSpec } from '../domain/model';
import type { OutputFileUpload, TaskAssignment } from '../nodes/protocol';
import { durationSeconds } from '../api/validate';

/** What an assignment carries beyond the command: output files to upload and the task directory's retention. */
export function assignmentExtras(spec: TaskSpec): Pick<TaskAssignment, 'outputFiles' | 'retentionSeconds'> {
  const out: Pick<TaskAssignment, 'outputFiles' | 'retentionSeconds'> = {};
  const uploads = (spec.outputFiles ?? []).map(uploadOf).filter((u): u is OutputFileUpload => u !== undefined);
  if (uploads.length) out.outputFiles = uploads;
  const retention = spec.constraints.retentionTime ? durationSeconds(spec.constraints.retentionTime) : undefined;
  if (retention !== undefined) out.retentionSeconds = retention;
  return out;
}

/** The stored (wire-shaped) outputFiles entry → what the agent needs. */
function uploadOf(f: Record<string, unknown>): OutputFileUpload | undefined {
  const o = f as { filePattern?: string; destination?: { container?: { containerUrl?: string; path?: string; uploadHeaders?: { name: string; value?: string }[] } }; uploadOptions?: { uploadCondition?: string } };
  const c = o.destination?.container;
  const cond = o.uploadOptions?.uploadCondition?.toLowerCase();
  if (!o.filePattern || !c?.containerUrl || (cond !== 'tasksuccess' && cond !== 'taskfailure' && cond !== 'taskcompletion')) return undefined;
  return {
    filePattern: o.filePattern,
    containerUrl: c.containerUrl,
    ...(c.path !== undefined ? { path: c.path } : {}),
    uploadCondition: cond,
    ...(c.uploadHeaders?.length ? { uploadHeaders: c.uploadHeaders } : {}),
  };
}
