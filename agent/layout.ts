/**
 * The node's directory layout, as on an Azure Batch Linux node (AZ_BATCH_NODE_ROOT_DIR):
 *
 *   <root>/shared                                   AZ_BATCH_NODE_SHARED_DIR (all tasks, read/write)
 *   <root>/startup                                  AZ_BATCH_NODE_STARTUP_DIR (start task wd)
 *   <root>/workitems/<jobId>/job-1/<taskId>         AZ_BATCH_TASK_DIR, holds stdout.txt + stderr.txt
 *   <root>/workitems/<jobId>/job-1/<taskId>/wd      AZ_BATCH_TASK_WORKING_DIR (cwd, resource files)
 *
 * A retry of a task reuses the same directory: wd is kept as it is, stdout.txt and stderr.txt are
 * truncated and rewritten by the new attempt.
 */
import * as path from 'node:path';

/** Job and task ids as Azure Batch allows them (letters, digits, hyphen, underscore; 1–64). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isSafeId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export interface NodeLayout {
  root: string;
  shared: string;
  startup: string;
  workitems: string;
}

export interface TaskLayout {
  taskDir: string;
  workingDir: string;
  stdoutPath: string;
  stderrPath: string;
}

export const STDOUT_FILE = 'stdout.txt';
export const STDERR_FILE = 'stderr.txt';

export function nodeLayout(rootDir: string): NodeLayout {
  const root = path.resolve(rootDir);
  return {
    root,
    shared: path.join(root, 'shared'),
    startup: path.join(root, 'startup'),
    workitems: path.join(root, 'workitems'),
  };
}

export class UnsafeIdError extends Error {
  constructor(readonly kind: 'job' | 'task', readonly id: string) {
    super(`The ${kind} id ${JSON.stringify(id)} is not a valid Batch id`);
    this.name = 'UnsafeIdError';
  }
}

/** Paths of one task; throws UnsafeIdError when an id could escape the node root. */
export function taskLayout(node: NodeLayout, jobId: string, taskId: string): TaskLayout {
  if (!isSafeId(jobId)) throw new UnsafeIdError('job', jobId);
  if (!isSafeId(taskId)) throw new UnsafeIdError('task', taskId);
  const taskDir = `${node.workitems}/${jobId}/job-1/${taskId}`;
  return {
    taskDir,
    workingDir: `${taskDir}/wd`,
    stdoutPath: `${taskDir}/${STDOUT_FILE}`,
    stderrPath: `${taskDir}/${STDERR_FILE}`,
  };
}

/**
 * Resolves a relative path (a resource file's filePath or a blob name) inside `base`. Returns
 * undefined for absolute paths, empty paths, NUL bytes and anything that would leave `base`.
 */
export function resolveInside(base: string, relative: string): string | undefined {
  if (relative === '' || relative.includes('\0') || path.isAbsolute(relative)) return undefined;
  const segments = relative.split(/[\\/]+/);
  if (segments.some((s) => s === '..')) return undefined;
  const resolved = path.resolve(base, relative);
  const rel = path.relative(base, resolved);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return resolved;
}
