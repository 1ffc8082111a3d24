import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNodeFiles } from '../../shared/nodes/local-files';

/** Node files never read, list or delete anything outside the node root. */
let tmp: string;
let root: string;
let outside: string;
let files: LocalNodeFiles;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'bp-files-'));
  root = path.join(tmp, 'nodes', 'p', 'n');
  outside = path.join(tmp, 'secret');
  mkdirSync(path.join(root, 'workitems', 'j', 'job-1', 't', 'wd'), { recursive: true });
  mkdirSync(path.join(outside, 'dir'), { recursive: true });
  writeFileSync(path.join(outside, 'secret.txt'), 'top secret');
  writeFileSync(path.join(outside, 'dir', 'inner.txt'), 'inner');
  writeFileSync(path.join(root, 'workitems', 'j', 'job-1', 't', 'stdout.txt'), 'hello');
  symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'link-out.txt'));
  symlinkSync(path.join(outside, 'dir'), path.join(root, 'dir-out'));
  symlinkSync(path.join(root, 'workitems', 'j', 'job-1', 't', 'stdout.txt'), path.join(root, 'link-in.txt'));
  files = new LocalNodeFiles(() => root);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ESCAPES = ['../secret/secret.txt', '../../../../secret/secret.txt', 'workitems/../../secret/secret.txt', '..\\secret\\secret.txt', 'link-out.txt', 'dir-out/inner.txt', 'dir-out', '/etc/passwd', `${'x'}\0y`];

describe('local node files: path safety', () => {
  it.each(ESCAPES)('stat, read, list and delete refuse %j', async (p) => {
    expect(await files.stat('p', 'n', p)).toBeUndefined();
    await expect(files.read('p', 'n', p)).rejects.toThrow();
    expect(await files.list('p', 'n', p, true)).toBeUndefined();
    expect(await files.delete('p', 'n', p, true)).toBe('notFound');
    expect(readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
    expect(existsSync(path.join(outside, 'dir', 'inner.txt'))).toBe(true);
  });

  it('lists the root without following links, and never lists outside files', async () => {
    const names = (await files.list('p', 'n', '', true))!.map((e) => e.name);
    expect(names).toContain('workitems/j/job-1/t/stdout.txt');
    expect(names.some((n) => n.includes('secret') || n.includes('inner') || n.startsWith('link') || n.startsWith('dir-out'))).toBe(false);
  });

  it('deletes a link inside the root as a link, keeping its target', async () => {
    expect(await files.delete('p', 'n', 'link-in.txt', false)).toBe('deleted');
    expect(existsSync(path.join(root, 'link-in.txt'))).toBe(false);
    expect(readFileSync(path.join(root, 'workitems', 'j', 'job-1', 't', 'stdout.txt'), 'utf8')).toBe('hello');
  });

  it('deletes directories only when empty or recursive, and not the root', async () => {
    mkdirSync(path.join(root, 'tree', 'sub'), { recursive: true });
    writeFileSync(path.join(root, 'tree', 'sub', 'f.txt'), 'x');
    symlinkSync(path.join(outside, 'dir'), path.join(root, 'tree', 'out'));
    expect(await files.delete('p', 'n', 'tree', false)).toBe('notEmpty');
    expect(await files.delete('p', 'n', 'tree', true)).toBe('deleted');
    expect(existsSync(path.join(root, 'tree'))).toBe(false);
    expect(existsSync(path.join(outside, 'dir', 'inner.txt'))).toBe(true);
    mkdirSync(path.join(root, 'empty'));
    expect(await files.delete('p', 'n', 'empty', false)).toBe('deleted');
    expect(await files.delete('p', 'n', '', true)).toBe('notFound');
    expect(await files.delete('p', 'n', '.', true)).toBe('notFound');
    expect(await files.delete('p', 'n', 'missing.txt', false)).toBe('notFound');
    expect(existsSync(root)).toBe(true);
  });
});
