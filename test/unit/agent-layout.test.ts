import { describe, expect, it } from 'vitest';
import { isSafeId, nodeLayout, resolveInside, taskLayout, UnsafeIdError } from '../../agent/layout';

describe('node layout', () => {
  it('puts shared, startup and workitems under the root', () => {
    expect(nodeLayout('/mnt/batch/tasks/')).toEqual({
      root: '/mnt/batch/tasks',
      shared: '/mnt/batch/tasks/shared',
      startup: '/mnt/batch/tasks/startup',
      workitems: '/mnt/batch/tasks/workitems',
    });
  });

  it('uses workitems/<job>/job-1/<task>/wd with stdout and stderr beside wd', () => {
    expect(taskLayout(nodeLayout('/r'), 'job-1_A', 'task001')).toEqual({
      taskDir: '/r/workitems/job-1_A/job-1/task001',
      workingDir: '/r/workitems/job-1_A/job-1/task001/wd',
      stdoutPath: '/r/workitems/job-1_A/job-1/task001/stdout.txt',
      stderrPath: '/r/workitems/job-1_A/job-1/task001/stderr.txt',
    });
  });

  it.each([
    ['a', true],
    ['A-b_9', true],
    ['x'.repeat(64), true],
    ['x'.repeat(65), false],
    ['', false],
    ['..', false],
    ['a/b', false],
    ['a.b', false],
    ['a b', false],
    ['ä', false],
  ])('isSafeId(%j) = %s', (id, safe) => {
    expect(isSafeId(id)).toBe(safe);
  });

  it('rejects unsafe job and task ids', () => {
    const n = nodeLayout('/r');
    expect(() => taskLayout(n, '../x', 't')).toThrow(UnsafeIdError);
    expect(() => taskLayout(n, 'j', 'a/../../b')).toThrow(UnsafeIdError);
  });
});

describe('resolveInside', () => {
  it.each([
    ['a.txt', '/wd/a.txt'],
    ['dir/sub/a.txt', '/wd/dir/sub/a.txt'],
    ['./a.txt', '/wd/a.txt'],
    ['dir//a.txt', '/wd/dir/a.txt'],
  ])('accepts %j', (rel, abs) => {
    expect(resolveInside('/wd', rel)).toBe(abs);
  });

  it.each(['', '.', '..', '../a', 'a/../../b', 'a/..', '/etc/passwd', 'a\0b', 'a\\..\\..\\b'])('rejects %j', (rel) => {
    expect(resolveInside('/wd', rel)).toBeUndefined();
  });
});
