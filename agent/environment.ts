/**
 * The environment of a task process. It is built from a clean base, never from the agent's own
 * environment (which holds the node token):
 *
 *   PATH   the node's PATH (so `python x.py` resolves like on a Batch node), or a standard default
 *   LANG   C.UTF-8 unless the agent runs under another LANG
 *   HOME   the task directory (AZ_BATCH_TASK_DIR). Azure runs tasks as the auto-user `_azbatch`;
 *          batchplane runs them as the agent's user, so a per-task HOME keeps dotfiles and caches
 *          of concurrent tasks apart, out of wd, and they are removed with the task directory.
 *
 * then the task's `environment` (job common settings merged with task settings; they may override
 * PATH, LANG and HOME), then the AZ_BATCH_* variables the service defines, which always win.
 * AZ_BATCH_* names that batchplane does not define pass through from the user's settings.
 */
import type { NodeLayout, TaskLayout } from './layout';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface NodeIdentity {
  accountName: string;
  accountUrl: string;
  poolId: string;
  nodeId: string;
  isDedicated: boolean;
}

/** The part of every task's environment that does not depend on the task (compute once). */
export function nodeEnvironment(parent: Record<string, string | undefined> = process.env): Readonly<Record<string, string>> {
  return Object.freeze({
    PATH: parent.PATH || DEFAULT_PATH,
    LANG: parent.LANG || 'C.UTF-8',
  });
}

/** Variables the Batch service defines for a task; a user setting of the same name is ignored. */
export function reservedTaskVariables(
  identity: NodeIdentity,
  node: NodeLayout,
  jobId: string,
  taskId: string,
  task: TaskLayout,
): Record<string, string> {
  return {
    AZ_BATCH_ACCOUNT_NAME: identity.accountName,
    AZ_BATCH_ACCOUNT_URL: identity.accountUrl,
    AZ_BATCH_POOL_ID: identity.poolId,
    AZ_BATCH_NODE_ID: identity.nodeId,
    AZ_BATCH_NODE_IS_DEDICATED: identity.isDedicated ? 'true' : 'false',
    AZ_BATCH_NODE_ROOT_DIR: node.root,
    AZ_BATCH_NODE_SHARED_DIR: node.shared,
    AZ_BATCH_NODE_STARTUP_DIR: node.startup,
    AZ_BATCH_JOB_ID: jobId,
    AZ_BATCH_TASK_ID: taskId,
    AZ_BATCH_TASK_DIR: task.taskDir,
    AZ_BATCH_TASK_WORKING_DIR: task.workingDir,
    AZ_BATCH_TASK_USER: '_azbatch',
    AZ_BATCH_TASK_USER_IDENTITY: 'PoolNonAdmin',
  };
}

/** A name the kernel's envp can carry: non-empty, no '=' and no NUL. */
function isValidName(name: string): boolean {
  return name !== '' && !name.includes('=') && !name.includes('\0');
}

export function taskEnvironment(
  base: Readonly<Record<string, string>>,
  identity: NodeIdentity,
  node: NodeLayout,
  jobId: string,
  taskId: string,
  task: TaskLayout,
  user: Record<string, string> | undefined,
): Record<string, string> {
  const env: Record<string, string> = { ...base, HOME: task.taskDir };
  if (user) {
    for (const name of Object.keys(user)) {
      const value = user[name];
      if (typeof value !== 'string' || !isValidName(name) || value.includes('\0')) continue;
      env[name] = value;
    }
  }
  return Object.assign(env, reservedTaskVariables(identity, node, jobId, taskId, task));
}
