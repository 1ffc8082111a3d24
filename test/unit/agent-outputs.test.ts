import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blobNameOf, conditionMet, expandVariables, globMatcher, planUploads, splitPattern, uploadOptionsOf } from '../../agent/outputs';
import { RetentionTimers } from '../../agent/retention';
import { validate } from '../../shared/api/validate';
import { taskAdd } from '../../shared/api/schemas';
import { taskUpdate } from '../../shared/api/task-schemas';
import { taskSpecOf } from '../../shared/services/tasks';
import { assignmentExtras } from '../../shared/services/task-assignment';
import { BatchError } from '../../shared/errors';
import type { JobRecord } from '../../shared/domain/model';

const root = mkdtempSync(path.join(os.tmpdir(), 'bp-outputs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('output file patterns', () => {
  it.each([
    ['*.txt', 'a.txt', true],
    ['*.txt', 'd/a.txt', false],
    ['*.txt', '.hidden.txt', false],
    ['.*.txt', '.hidden.txt', true],
    ['**/*.txt', 'a.txt', true],
    ['**/*.txt', 'd/e/a.txt', true],
    ['**/*.txt', 'd/.e/a.txt', false],
    ['**', 'd/e/f', true],
    ['out/**/r?.csv', 'out/x/r1.csv', true],
    ['out/**/r?.csv', 'out/r12.csv', false],
    ['[ab]*', 'bz', true],
    ['[!ab]*', 'bz', false],
    ['[a-c].log', 'c.log', true],
    ['abc[*]', 'abc*', true],
    ['abc[*]', 'abcd', false],
  ])('%s matches %s: %s', (pattern, file, expected) => {
    expect(globMatcher(pattern)(file)).toBe(expected);
  });

  it('splits a pattern at its first wildcard segment', () => {
    expect(splitPattern('/t/wd/out/*.txt')).toEqual({ base: '/t/wd/out', rest: '*.txt' });
    expect(splitPattern('/t/wd/**/x')).toEqual({ base: '/t/wd', rest: '**/x' });
    expect(splitPattern('/t/stdout.txt')).toEqual({ base: '/t/stdout.txt' });
  });

  it('names blobs as Azure documents: exact file → path or file name; wildcards → path as a virtual directory', () => {
    expect(blobNameOf('logs/out.txt', true, '/t/stdout.txt')).toBe('logs/out.txt');
    expect(blobNameOf(undefined, true, '/t/stdout.txt')).toBe('stdout.txt');
    expect(blobNameOf('run1/', false, 'd/a.txt')).toBe('run1/d/a.txt');
    expect(blobNameOf(undefined, false, 'a.txt')).toBe('a.txt');
  });

  it('expands $VAR and ${VAR}, leaving unknown ones', () => {
    expect(expandVariables('$AZ_BATCH_TASK_DIR/std*.txt ${X}/$NOPE', { AZ_BATCH_TASK_DIR: '/t', X: 'x' })).toBe('/t/std*.txt x/$NOPE');
  });

  it('upload conditions', () => {
    expect([conditionMet('tasksuccess', 0), conditionMet('tasksuccess', 1), conditionMet('taskfailure', 0), conditionMet('taskfailure', 3), conditionMet('taskcompletion', 9)]).toEqual([true, false, false, true, true]);
  });

  it('plans uploads relative to the working directory', async () => {
    const taskDir = path.join(root, 'task');
    const wd = path.join(taskDir, 'wd');
    mkdirSync(path.join(wd, 'out', 'sub'), { recursive: true });
    writeFileSync(path.join(taskDir, 'stdout.txt'), 'o');
    for (const f of ['out/a.txt', 'out/sub/b.txt', 'out/c.bin', 'out/.h.txt']) writeFileSync(path.join(wd, f), f);
    const ctx = { workingDir: wd, env: { AZ_BATCH_TASK_DIR: taskDir } };
    const base = { containerUrl: 'http://x/c', uploadCondition: 'taskcompletion' as const };
    expect(await planUploads({ ...base, filePattern: '../stdout.txt', path: 'logs/o.txt' }, ctx)).toEqual([{ file: path.join(taskDir, 'stdout.txt'), blobName: 'logs/o.txt' }]);
    expect((await planUploads({ ...base, filePattern: '$AZ_BATCH_TASK_DIR/std*' }, ctx)).map((p) => p.blobName)).toEqual(['stdout.txt']);
    expect((await planUploads({ ...base, filePattern: 'out/**/*.txt', path: 'r' }, ctx)).map((p) => p.blobName)).toEqual(['r/a.txt', 'r/sub/b.txt']);
    expect(await planUploads({ ...base, filePattern: 'missing.txt' }, ctx)).toEqual([]);
  });

  it('maps upload headers to blob properties and reports the others', () => {
    const { options, ignored } = uploadOptionsOf([
      { name: 'x-ms-blob-content-type', value: 'text/plain' }, { name: 'Content-Language', value: 'en-US' }, { name: 'x-ms-meta-Run', value: '7' }, { name: 'x-custom', value: 'v' },
    ]);
    expect(options.blobHTTPHeaders).toEqual({ blobContentType: 'text/plain', blobContentLanguage: 'en-US' });
    expect(options.metadata).toEqual({ Run: '7' });
    expect(ignored).toEqual(['x-custom']);
  });
});

describe('retention timers', () => {
  it('deletes a directory after its retention and a new run cancels it', async () => {
    const t = new RetentionTimers();
    const a = path.join(root, 'ra');
    const b = path.join(root, 'rb');
    mkdirSync(a);
    mkdirSync(b);
    t.schedule(a, 0.05);
    t.schedule(b, 0.05);
    t.cancel(b);
    await new Promise((r) => setTimeout(r, 300));
    const { existsSync } = await import('node:fs');
    expect([existsSync(a), existsSync(b)]).toEqual([false, true]);
    expect(t.pending()).toEqual([]);
  });
});

const job = { id: 'j', constraints: { maxTaskRetryCount: 2 } } as unknown as JobRecord;
const errorOf = (f: () => unknown): { code: string; values: Record<string, string> } => {
  try {
    f();
  } catch (e) {
    if (e instanceof BatchError) return { code: e.code, values: Object.fromEntries(e.values.map((v) => [v.key, v.value])) };
    throw e;
  }
  throw new Error('expected a BatchError');
};
const spec = (body: Record<string, unknown>) => taskSpecOf(validate(taskAdd, { id: 't', commandLine: 'x', ...body }), job);
const file = (over: Record<string, unknown> = {}) => ({ filePattern: '*.txt', destination: { container: { containerUrl: 'http://127.0.0.1:1/c?sig=x' } }, uploadOptions: { uploadCondition: 'taskCompletion' }, ...over });

describe('task add and update validation', () => {
  it.each([
    ['containerSettings', { containerSettings: { imageName: 'ubuntu' } }, 'UnsupportedProperty', 'containerSettings'],
    ['authenticationTokenSettings', { authenticationTokenSettings: { access: ['job'] } }, 'UnsupportedProperty', 'authenticationTokenSettings'],
    ['applicationPackageReferences', { applicationPackageReferences: [{ applicationId: 'a' }] }, 'UnsupportedProperty', 'applicationPackageReferences'],
    ['outputFiles identityReference', { outputFiles: [file({ destination: { container: { containerUrl: 'http://h/c', identityReference: { resourceId: 'r' } } } })] }, 'UnsupportedProperty', 'outputFiles[0].destination.container.identityReference'],
    ['outputFiles autoStorage', { outputFiles: [file({ destination: { container: { containerUrl: 'http://h/c' }, autoStorage: { path: 'p' } } })] }, 'UnsupportedProperty', 'outputFiles[0].destination.autoStorage'],
    ['resourceFiles identityReference', { resourceFiles: [{ httpUrl: 'http://h/f', filePath: 'f', identityReference: { resourceId: 'r' } }] }, 'UnsupportedProperty', 'resourceFiles.identityReference'],
    ['outputFiles without filePattern', { outputFiles: [file({ filePattern: undefined })] }, 'MissingRequiredProperty', 'outputFiles.0.filePattern'],
    ['outputFiles without uploadOptions', { outputFiles: [file({ uploadOptions: undefined })] }, 'MissingRequiredProperty', 'outputFiles.0.uploadOptions'],
    ['outputFiles without container', { outputFiles: [file({ destination: {} })] }, 'MissingRequiredProperty', 'outputFiles.0.destination.container'],
    ['outputFiles bad condition', { outputFiles: [file({ uploadOptions: { uploadCondition: 'always' } })] }, 'InvalidPropertyValue', 'outputFiles.0.uploadOptions.uploadCondition'],
    ['outputFiles bad url', { outputFiles: [file({ destination: { container: { containerUrl: 'not a url' } } })] }, 'InvalidPropertyValue', 'outputFiles.0.destination.container.containerUrl'],
    ['userIdentity.userName', { userIdentity: { userName: 'alice' } }, 'UnsupportedProperty', 'userIdentity.userName'],
    ['maxTaskRetryCount below -1', { constraints: { maxTaskRetryCount: -2 } }, 'InvalidPropertyValue', 'constraints.maxTaskRetryCount'],
  ])('%s → %s', (_n, body, code, prop) => {
    const e = errorOf(() => spec(body));
    expect([e.code, e.values.PropertyName]).toEqual([code, prop]);
  });

  it('stores outputFiles in the service casing and hands them to the agent with the retention', () => {
    const s = spec({ outputFiles: [file({ destination: { container: { containerUrl: 'http://h/c', path: 'p', uploadHeaders: [{ name: 'x-ms-blob-content-type', value: 'text/plain' }] } } })], constraints: { retentionTime: 'PT5S', maxTaskRetryCount: -1 } });
    expect(s.outputFiles).toEqual([{ filePattern: '*.txt', destination: { container: { containerUrl: 'http://h/c', path: 'p', uploadHeaders: [{ name: 'x-ms-blob-content-type', value: 'text/plain' }] } }, uploadOptions: { uploadCondition: 'TaskCompletion' } }]);
    expect(s.constraints.maxTaskRetryCount).toBe(-1);
    expect(assignmentExtras(s)).toEqual({
      outputFiles: [{ filePattern: '*.txt', containerUrl: 'http://h/c', path: 'p', uploadCondition: 'taskcompletion', uploadHeaders: [{ name: 'x-ms-blob-content-type', value: 'text/plain' }] }],
      retentionSeconds: 5,
    });
    expect(spec({}).constraints.maxTaskRetryCount).toBe(2);
  });

  it('validates Task_Update bodies', () => {
    expect(validate(taskUpdate, { constraints: { maxTaskRetryCount: 3 } })).toEqual({ constraints: { maxTaskRetryCount: 3 } });
    expect(validate(taskUpdate, {})).toEqual({});
    expect(errorOf(() => validate(taskUpdate, { constraints: { retentionTime: 'soon' } })).code).toBe('InvalidPropertyValue');
    expect(errorOf(() => validate(taskUpdate, { constraints: { maxWallClockTime: 'PT0S' } })).values.PropertyName).toBe('constraints.maxWallClockTime');
  });
});
