/**
 * Task exitConditions (REST ExitConditions) → the action on the task's job, as pure rules.
 *
 * The spec's rules (api-version 2022-10-01.16.0):
 * - A job action applies only when the job's onTaskFailure is performexitoptionsjobaction, and
 *   only when the task is finished (a run that goes back for a retry decides nothing).
 * - exitCodes, then exitCodeRanges, match the process exit code. An exit code that matches wins
 *   over a later file upload error.
 * - preProcessingError: the task failed to start (no exit code: resource files, missing program).
 * - fileUploadError: an output file could not be uploaded.
 * - default: any other nonzero exit code, or a pre-processing / file upload error without its own
 *   entry. Exit code 0 uses default only when listed explicitly.
 * - An ExitOptions without jobAction means: none for exit code 0, terminate for everything else.
 * - batchplane: a task ended by request (TaskEnded without an exit code: task/job terminate,
 *   node removal) is not a failure of the program and takes no job action.
 */
import { BatchError } from '../errors';
import type { TaskFailureInfo } from './model';

export type JobAction = 'none' | 'disable' | 'terminate';

export interface ExitOptions {
  jobAction?: JobAction;
  dependencyAction?: 'satisfy' | 'block';
}

export interface ExitConditions {
  exitCodes?: { code: number; exitOptions: ExitOptions }[];
  exitCodeRanges?: { start: number; end: number; exitOptions: ExitOptions }[];
  preProcessingError?: ExitOptions;
  fileUploadError?: ExitOptions;
  default?: ExitOptions;
}

/** How a finished task ended, as its executionInfo says. */
export interface TaskOutcome {
  exitCode?: number;
  failureInfo?: Pick<TaskFailureInfo, 'code'>;
}

export type OutcomeKind = 'exit' | 'preProcessingError' | 'fileUploadError' | 'endedByRequest';

/** Upload failures are recognised by their failureInfo code (FileUploadError and the like). */
const isUploadFailure = (code: string | undefined): boolean => !!code && /upload/i.test(code);

export function outcomeKind(o: TaskOutcome): OutcomeKind {
  const code = o.failureInfo?.code;
  if (isUploadFailure(code)) return 'fileUploadError';
  if (o.exitCode !== undefined) return 'exit';
  if (code === 'TaskEnded') return 'endedByRequest';
  return 'preProcessingError';
}

/** The exitCodes / exitCodeRanges entry for an exit code (exitCodes first), if any. */
export function matchExitCode(ec: ExitConditions | undefined, exitCode: number): ExitOptions | undefined {
  const exact = ec?.exitCodes?.find((m) => m.code === exitCode);
  if (exact) return exact.exitOptions;
  return ec?.exitCodeRanges?.find((r) => exitCode >= r.start && exitCode <= r.end)?.exitOptions;
}

/** The ExitOptions that govern an outcome, and the implied action when they name none. */
export function exitOptionsFor(ec: ExitConditions | undefined, o: TaskOutcome): { options?: ExitOptions; implied: JobAction } {
  const kind = outcomeKind(o);
  if (kind === 'endedByRequest') return { implied: 'none' };
  const byCode = o.exitCode !== undefined ? matchExitCode(ec, o.exitCode) : undefined;
  if (byCode) return { options: byCode, implied: o.exitCode === 0 ? 'none' : 'terminate' };
  if (kind === 'fileUploadError') return { options: ec?.fileUploadError ?? ec?.default, implied: 'terminate' };
  if (kind === 'preProcessingError') return { options: ec?.preProcessingError ?? ec?.default, implied: 'terminate' };
  if (o.exitCode === 0) return { implied: 'none' };
  return { options: ec?.default, implied: 'terminate' };
}

/** The job action of a finished task (the caller checks onTaskFailure and that the task is final). */
export function jobActionFor(ec: ExitConditions | undefined, o: TaskOutcome): JobAction {
  const { options, implied } = exitOptionsFor(ec, o);
  return options?.jobAction ?? implied;
}

/** The property path of the first jobAction the conditions specify (refused when onTaskFailure is noaction). */
export function firstJobActionPath(ec: ExitConditions | undefined): string | undefined {
  if (!ec) return undefined;
  const i = ec.exitCodes?.findIndex((m) => m.exitOptions.jobAction !== undefined) ?? -1;
  if (i >= 0) return `exitConditions.exitCodes.${i}.exitOptions.jobAction`;
  const r = ec.exitCodeRanges?.findIndex((m) => m.exitOptions.jobAction !== undefined) ?? -1;
  if (r >= 0) return `exitConditions.exitCodeRanges.${r}.exitOptions.jobAction`;
  for (const k of ['preProcessingError', 'fileUploadError', 'default'] as const) {
    if (ec[k]?.jobAction !== undefined) return `exitConditions.${k}.jobAction`;
  }
  return undefined;
}

/**
 * Task_Add: exitConditions are accepted as validated; a jobAction is refused (400
 * InvalidPropertyValue) when the job's onTaskFailure is noaction, as the spec says.
 */
export function checkExitConditions(ec: ExitConditions | undefined, onTaskFailure: 'noaction' | 'performexitoptionsjobaction'): void {
  const path = onTaskFailure === 'noaction' ? firstJobActionPath(ec) : undefined;
  if (!path) return;
  throw new BatchError('InvalidPropertyValue', 'The value provided for one of the properties in the request body is invalid.', [
    { key: 'PropertyName', value: path },
    { key: 'Reason', value: "A jobAction may only be specified when the job's onTaskFailure is performexitoptionsjobaction." },
  ]);
}
