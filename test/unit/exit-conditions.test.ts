import { describe, expect, it } from 'vitest';
import { checkExitConditions, jobActionFor, outcomeKind, type ExitConditions, type TaskOutcome } from '../../shared/domain/exit-conditions';
import { BatchError } from '../../shared/errors';
import { taskAdd } from '../../shared/api/schemas';
import { validate } from '../../shared/api/validate';

const WALL = 0xc000013a | 0;
const ok: TaskOutcome = { exitCode: 0 };
const exit = (exitCode: number): TaskOutcome => ({ exitCode, failureInfo: exitCode ? { code: 'FailureExitCode' } : undefined });
const preproc: TaskOutcome = { failureInfo: { code: 'BlobNotFound' } };
const upload = (exitCode?: number): TaskOutcome => ({ exitCode, failureInfo: { code: 'FileUploadError' } });
const ended: TaskOutcome = { failureInfo: { code: 'TaskEnded' } };

const rich: ExitConditions = {
  exitCodes: [{ code: 3, exitOptions: { jobAction: 'disable' } }, { code: 0, exitOptions: { jobAction: 'terminate' } }, { code: 5, exitOptions: {} }],
  exitCodeRanges: [{ start: 2, end: 10, exitOptions: { jobAction: 'none' } }, { start: 20, end: 30, exitOptions: { jobAction: 'terminate' } }],
  preProcessingError: { jobAction: 'disable' },
  fileUploadError: { jobAction: 'none' },
  default: { jobAction: 'disable' },
};
const defaultOnly: ExitConditions = { default: { jobAction: 'none' } };

describe('exit conditions → job action', () => {
  it.each<[string, ExitConditions | undefined, TaskOutcome, string]>([
    // No exitConditions: none for exit code 0, terminate for everything else.
    ['none given, exit 0', undefined, ok, 'none'],
    ['none given, exit 1', undefined, exit(1), 'terminate'],
    ['none given, negative exit code', undefined, exit(-1), 'terminate'],
    ['none given, wall clock kill', undefined, { exitCode: WALL, failureInfo: { code: 'TaskEnded' } }, 'terminate'],
    ['none given, pre-processing error', undefined, preproc, 'terminate'],
    ['none given, upload error', undefined, upload(0), 'terminate'],
    ['none given, ended by request', undefined, ended, 'none'],
    // exitCodes first, then ranges.
    ['exitCodes wins over a range', rich, exit(3), 'disable'],
    ['exit 0 listed explicitly', rich, ok, 'terminate'],
    ['listed without jobAction, nonzero → terminate', rich, exit(5), 'terminate'],
    ['range', rich, exit(7), 'none'],
    ['range bounds inclusive (start)', rich, exit(20), 'terminate'],
    ['range bounds inclusive (end)', rich, exit(30), 'terminate'],
    ['not listed → default', rich, exit(11), 'disable'],
    ['pre-processing error → its own entry', rich, preproc, 'disable'],
    ['upload error → its own entry', rich, upload(1), 'none'],
    ['exit code match wins over a later upload error', rich, upload(3), 'disable'],
    ['default covers exit codes', defaultOnly, exit(9), 'none'],
    ['default covers pre-processing errors without an entry', defaultOnly, preproc, 'none'],
    ['default covers upload errors without an entry', defaultOnly, upload(0), 'none'],
    ['default does not cover exit 0', { default: { jobAction: 'terminate' } }, ok, 'none'],
    ['ended by request ignores default', { default: { jobAction: 'terminate' } }, ended, 'none'],
  ])('%s', (_n, ec, o, want) => {
    expect(jobActionFor(ec, o)).toBe(want);
  });

  it.each<[TaskOutcome, string]>([[ok, 'exit'], [exit(2), 'exit'], [preproc, 'preProcessingError'], [upload(), 'fileUploadError'], [ended, 'endedByRequest']])('classifies %j as %s', (o, k) => {
    expect(outcomeKind(o)).toBe(k);
  });
});

describe('exit conditions at task add', () => {
  const code = (fn: () => unknown): string[] | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      if (err instanceof BatchError) return [err.code, err.values.find((v) => v.key === 'PropertyName')?.value ?? ''];
      throw err;
    }
  };
  it('refuses a jobAction when the job does not perform exit options job actions', () => {
    expect(code(() => checkExitConditions({ exitCodes: [{ code: 1, exitOptions: { jobAction: 'none' } }] }, 'noaction'))).toEqual(['InvalidPropertyValue', 'exitConditions.exitCodes.0.exitOptions.jobAction']);
    expect(code(() => checkExitConditions({ default: { jobAction: 'terminate' } }, 'noaction'))).toEqual(['InvalidPropertyValue', 'exitConditions.default.jobAction']);
    expect(code(() => checkExitConditions({ default: { dependencyAction: 'block' } }, 'noaction'))).toBeUndefined();
    expect(code(() => checkExitConditions({ default: { jobAction: 'terminate' } }, 'performexitoptionsjobaction'))).toBeUndefined();
  });

  it.each<[string, unknown, string[] | undefined]>([
    ['valid, any case', { default: { jobAction: 'Terminate', dependencyAction: 'Satisfy' }, exitCodeRanges: [{ start: 1, end: 1, exitOptions: {} }] }, undefined],
    ['unknown jobAction', { default: { jobAction: 'explode' } }, ['InvalidPropertyValue', 'exitConditions.default.jobAction']],
    ['unknown dependencyAction', { preProcessingError: { dependencyAction: 'cancel' } }, ['InvalidPropertyValue', 'exitConditions.preProcessingError.dependencyAction']],
    ['exit code mapping without exitOptions', { exitCodes: [{ code: 1 }] }, ['MissingRequiredProperty', 'exitConditions.exitCodes.0.exitOptions']],
    ['exit code not an integer', { exitCodes: [{ code: 1.5, exitOptions: {} }] }, ['InvalidPropertyValue', 'exitConditions.exitCodes.0.code']],
    ['range end before start', { exitCodeRanges: [{ start: 5, end: 2, exitOptions: {} }] }, ['InvalidPropertyValue', 'exitConditions.exitCodeRanges.0.end']],
  ])('%s', (_n, exitConditions, want) => {
    expect(code(() => validate(taskAdd, { id: 't', commandLine: 'true', exitConditions }))).toEqual(want);
  });

  it('stores the canonical lower-case values', () => {
    const b = validate(taskAdd, { id: 't', commandLine: 'true', exitConditions: { default: { jobAction: 'Terminate', dependencyAction: 'Satisfy' } } });
    expect(b.exitConditions).toEqual({ default: { jobAction: 'terminate', dependencyAction: 'satisfy' } });
  });
});
