/**
 * Failure codes the agent reports in TaskCompletion.failureInfo, in one place. Where Azure Batch
 * documents a code it is used; `batchplane-only` marks codes Azure does not document for the case.
 */
import type { TaskFailureInfo } from '../shared/nodes/protocol';

/** Exit code Azure Batch reports for a task killed at maxWallClockTime (0xC000013A as int32). */
export const WALL_CLOCK_EXIT_CODE = 0xc000013a | 0;

export const FailureCodes = {
  /** Nonzero exit code (Azure). */
  FailureExitCode: 'FailureExitCode',
  /** maxWallClockTime exceeded: Azure documents {ServerError, TaskEnded} and exit code 0xC000013A. */
  TaskEnded: 'TaskEnded',
  /** The program of the command line does not exist (Azure's code for a missing executable). */
  CommandProgramNotFound: 'CommandProgramNotFound',
  /** batchplane-only: spawn failed for another reason (EACCES, ENOEXEC, E2BIG...). */
  CommandProgramStartFailed: 'CommandProgramStartFailed',
  /** batchplane-only: the command line cannot be split (empty, unterminated quote). */
  InvalidCommandLine: 'InvalidCommandLine',
  /** batchplane-only: a job or task id that is not a safe Batch id. */
  InvalidTaskId: 'InvalidTaskId',
  /** Resource files (Azure codes). */
  BlobNotFound: 'BlobNotFound',
  BlobAccessDenied: 'BlobAccessDenied',
  BlobDownloadTimedOut: 'BlobDownloadTimedOut',
  BlobDownloadMiscError: 'BlobDownloadMiscError',
  ResourceFileCreateFailed: 'ResourceFileCreateFailed',
  ResourceContainerNotFound: 'ResourceContainerNotFound',
  ResourceContainerAccessDenied: 'ResourceContainerAccessDenied',
  ResourceContainerListMiscError: 'ResourceContainerListMiscError',
  /** batchplane-only: a resource file without httpUrl/storageContainerUrl (autoStorageContainerName must be resolved by the control plane). */
  ResourceFileSourceUnsupported: 'ResourceFileSourceUnsupported',
  /** An output file could not be uploaded (Azure's file upload error code). */
  FileUploadMiscError: 'FileUploadMiscError',
  /** batchplane-only: the agent itself failed preparing the task (mkdir/open of task files). */
  TaskPreparationFailed: 'TaskPreparationFailed',
} as const;

export type FailureCode = (typeof FailureCodes)[keyof typeof FailureCodes];

export function userError(code: FailureCode, message: string, details?: Record<string, string>): TaskFailureInfo {
  return withDetails({ category: 'usererror', code, message }, details);
}

export function serverError(code: FailureCode, message: string, details?: Record<string, string>): TaskFailureInfo {
  return withDetails({ category: 'servererror', code, message }, details);
}

function withDetails(info: TaskFailureInfo, details?: Record<string, string>): TaskFailureInfo {
  if (details) info.details = Object.entries(details).map(([name, value]) => ({ name, value }));
  return info;
}

/** A failure raised while preparing a task, carried to the completion as failureInfo. */
export class TaskFailure extends Error {
  constructor(readonly info: TaskFailureInfo) {
    super(info.message);
    this.name = 'TaskFailure';
  }
}
