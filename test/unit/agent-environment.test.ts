import { describe, expect, it } from 'vitest';
import { DEFAULT_PATH, nodeEnvironment, taskEnvironment, type NodeIdentity } from '../../agent/environment';
import { nodeLayout, taskLayout } from '../../agent/layout';

const identity: NodeIdentity = { accountName: 'acct', accountUrl: 'http://127.0.0.1:7071', poolId: 'pool1', nodeId: 'tvm-1', isDedicated: true };
const node = nodeLayout('/r');
const task = taskLayout(node, 'job1', 'task1');

describe('task environment', () => {
  it('starts from a clean base: PATH and LANG of the node only', () => {
    const base = nodeEnvironment({ PATH: '/opt/bin:/usr/bin', LANG: 'en_US.UTF-8', BATCHPLANE_NODE_TOKEN: 'secret', FOO: 'x' });
    expect(base).toEqual({ PATH: '/opt/bin:/usr/bin', LANG: 'en_US.UTF-8' });
    expect(nodeEnvironment({})).toEqual({ PATH: DEFAULT_PATH, LANG: 'C.UTF-8' });
  });

  it('sets the Batch variables, HOME = task dir, and nothing of the agent', () => {
    const env = taskEnvironment(nodeEnvironment({ PATH: '/usr/bin' }), identity, node, 'job1', 'task1', task, {});
    expect(env).toEqual({
      PATH: '/usr/bin',
      LANG: 'C.UTF-8',
      HOME: '/r/workitems/job1/job-1/task1',
      AZ_BATCH_ACCOUNT_NAME: 'acct',
      AZ_BATCH_ACCOUNT_URL: 'http://127.0.0.1:7071',
      AZ_BATCH_POOL_ID: 'pool1',
      AZ_BATCH_NODE_ID: 'tvm-1',
      AZ_BATCH_NODE_IS_DEDICATED: 'true',
      AZ_BATCH_NODE_ROOT_DIR: '/r',
      AZ_BATCH_NODE_SHARED_DIR: '/r/shared',
      AZ_BATCH_NODE_STARTUP_DIR: '/r/startup',
      AZ_BATCH_JOB_ID: 'job1',
      AZ_BATCH_TASK_ID: 'task1',
      AZ_BATCH_TASK_DIR: '/r/workitems/job1/job-1/task1',
      AZ_BATCH_TASK_WORKING_DIR: '/r/workitems/job1/job-1/task1/wd',
      AZ_BATCH_TASK_USER: '_azbatch',
      AZ_BATCH_TASK_USER_IDENTITY: 'PoolNonAdmin',
    });
  });

  it('lets user settings override the base but never the reserved Batch variables', () => {
    const env = taskEnvironment(nodeEnvironment({ PATH: '/usr/bin' }), identity, node, 'job1', 'task1', task, {
      PATH: '/my/bin',
      HOME: '/home/me',
      MY_VAR: 'v',
      AZ_BATCH_TASK_ID: 'spoofed',
      AZ_BATCH_NODE_SHARED_DIR: '/tmp',
      AZ_BATCH_CUSTOM: 'kept',
    });
    expect(env.PATH).toBe('/my/bin');
    expect(env.HOME).toBe('/home/me');
    expect(env.MY_VAR).toBe('v');
    expect(env.AZ_BATCH_TASK_ID).toBe('task1');
    expect(env.AZ_BATCH_NODE_SHARED_DIR).toBe('/r/shared');
    expect(env.AZ_BATCH_CUSTOM).toBe('kept');
  });

  it('drops names and values the kernel cannot carry', () => {
    const env = taskEnvironment({}, identity, node, 'job1', 'task1', task, { 'A=B': '1', '': '2', 'N\0': '3', OK: 'x\0y', GOOD: '' });
    expect(Object.keys(env).filter((k) => !k.startsWith('AZ_BATCH_'))).toEqual(['HOME', 'GOOD']);
  });

  it('reports low-priority nodes', () => {
    const env = taskEnvironment({}, { ...identity, isDedicated: false }, node, 'job1', 'task1', task, undefined);
    expect(env.AZ_BATCH_NODE_IS_DEDICATED).toBe('false');
  });
});
