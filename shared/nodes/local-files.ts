import { promises as fs, realpathSync } from 'node:fs';
import path from 'node:path';
import type { DeleteOutcome, FileEntry, NodeFiles } from './provider';

/**
 * Node files of local nodes, read from the node root directory. Paths never escape the root:
 * `..`, absolute paths, and symlinks that resolve outside the root all answer "not found".
 */
export class LocalNodeFiles implements NodeFiles {
  constructor(private readonly rootOf: (poolId: string, nodeId: string) => string) {}

  private resolve(poolId: string, nodeId: string, rel: string): string | undefined {
    const root = this.rootOf(poolId, nodeId);
    if (rel.includes('\0') || path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) return undefined;
    const full = path.resolve(root, rel);
    let real: string;
    let realRoot: string;
    try {
      realRoot = realpathSync(root);
      real = realpathSync(full);
    } catch {
      return undefined;
    }
    if (real !== realRoot && !real.startsWith(realRoot + path.sep)) return undefined;
    return real;
  }

  async stat(poolId: string, nodeId: string, rel: string): Promise<FileEntry | undefined> {
    const full = this.resolve(poolId, nodeId, rel);
    if (!full) return undefined;
    const st = await fs.stat(full).catch(() => undefined);
    if (!st) return undefined;
    return entry(rel, st);
  }

  async list(poolId: string, nodeId: string, dir: string, recursive: boolean): Promise<FileEntry[] | undefined> {
    const base = this.resolve(poolId, nodeId, dir === '' ? '.' : dir);
    if (!base) return undefined;
    const realRoot = realpathSync(this.rootOf(poolId, nodeId));
    const out: FileEntry[] = [];
    const walk = async (abs: string, prefix: string): Promise<void> => {
      const names = await fs.readdir(abs).catch(() => [] as string[]);
      for (const name of names.sort()) {
        const child = path.join(abs, name);
        const st = await fs.lstat(child).catch(() => undefined);
        if (!st || st.isSymbolicLink()) continue;
        const rel = prefix ? `${prefix}/${name}` : name;
        out.push(entry(rel, st));
        if (recursive && st.isDirectory() && child.startsWith(realRoot)) await walk(child, rel);
      }
    };
    await walk(base, dir === '' || dir === '.' ? '' : dir.replace(/\/$/, ''));
    return out;
  }

  /**
   * Deletes a file, or a directory (its contents too when `recursive`). The entry itself is never
   * followed: a symlink inside the root is removed as a link (its target stays), and `fs.rm`
   * removes links inside a directory without following them. The containing directory is
   * resolved with realpath, so nothing outside the root is ever touched; the root itself cannot
   * be deleted.
   */
  async delete(poolId: string, nodeId: string, rel: string, recursive: boolean): Promise<DeleteOutcome> {
    if (rel.includes('\0') || path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) return 'notFound';
    const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
    const name = parts.pop();
    if (!name) return 'notFound';
    // The target must resolve inside the root (a link pointing outside answers "not found").
    if (!this.resolve(poolId, nodeId, rel)) return 'notFound';
    const parent = this.resolve(poolId, nodeId, parts.length ? parts.join('/') : '.');
    if (!parent) return 'notFound';
    const full = path.join(parent, name);
    const st = await fs.lstat(full).catch(() => undefined);
    if (!st) return 'notFound';
    if (st.isDirectory()) {
      if (!recursive && (await fs.readdir(full)).length > 0) return 'notEmpty';
      await fs.rm(full, { recursive: true, force: true });
    } else {
      await fs.unlink(full);
    }
    return 'deleted';
  }

  async read(poolId: string, nodeId: string, rel: string, range?: { start: number; end: number }): Promise<Buffer> {
    const full = this.resolve(poolId, nodeId, rel);
    if (!full) throw Object.assign(new Error('not found'), { code: 'ENOENT' });
    if (!range) return fs.readFile(full);
    const fh = await fs.open(full, 'r');
    try {
      const len = Math.max(0, range.end - range.start + 1);
      const buf = Buffer.alloc(len);
      const { bytesRead } = await fh.read(buf, 0, len, range.start);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
}

function entry(name: string, st: { isDirectory(): boolean; size: number; birthtime: Date; mtime: Date; mode: number }): FileEntry {
  return {
    name: name.replace(/\\/g, '/'),
    isDirectory: st.isDirectory(),
    contentLength: st.isDirectory() ? 0 : st.size,
    creationTime: st.birthtime.toISOString(),
    lastModified: st.mtime.toISOString(),
    fileMode: (st.mode & 0o7777).toString(8).padStart(4, '0'),
  };
}
