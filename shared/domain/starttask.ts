import { localTaskBasics } from './local-task';
import type { NameValue, NodeRecord, NodeState, PoolStartTask, ResourceFile, StartTaskInfo } from './model';

/**
 * Pure rules of a pool's start task: what is accepted and stored (Azure's defaults filled in),
 * and how the node's state follows the runs its agent reports.
 *
 *   boot ──(start task, waitForSuccess)──▶ waitingforstarttask ──success──▶ idle
 *                                                              └─failure (after retries)─▶ starttaskfailed
 *   boot ──(no start task, or waitForSuccess false)──▶ idle   (a report changes nothing)
 */
export interface StartTaskInput {
  commandLine: string;
  resourceFiles?: (ResourceFile & { identityReference?: unknown })[];
  environmentSettings?: NameValue[];
  userIdentity?: { userName?: string; username?: string; autoUser?: { scope?: 'task' | 'pool'; elevationLevel?: 'nonadmin' | 'admin' } };
  maxTaskRetryCount?: number;
  waitForSuccess?: boolean;
  containerSettings?: Record<string, unknown>;
}


/** The start task as stored and returned; throws UnsupportedProperty for what a local node cannot do. */
export function startTaskOf(s: StartTaskInput, path = 'startTask'): PoolStartTask {
  return {
    ...localTaskBasics(s, path),
    maxTaskRetryCount: s.maxTaskRetryCount ?? 0,
    waitForSuccess: s.waitForSuccess ?? true,
  };
}

/** The node's state when its agent boots (joins, or comes back after a reboot/reimage). */
export function bootState(startTask: PoolStartTask | undefined): NodeState {
  return startTask?.waitForSuccess ? 'waitingforstarttask' : 'idle';
}

/**
 * The agent reported its start task's latest run: the change to the node row, or undefined when
 * nothing changes. Only a node waiting for its start task (waitForSuccess) changes state; a
 * report that repeats the stored one changes nothing.
 */
export function startTaskReported(node: NodeRecord, info: StartTaskInfo): Partial<NodeRecord> | undefined {
  const state = stateAfterReport(node.state, info);
  if (state === node.state && sameInfo(node.startTaskInfo, info)) return undefined;
  return state === node.state ? { startTaskInfo: info } : { startTaskInfo: info, state };
}

function stateAfterReport(state: NodeState, info: StartTaskInfo): NodeState {
  if (state !== 'waitingforstarttask' || info.state !== 'completed') return state;
  return info.result === 'success' ? 'idle' : 'starttaskfailed';
}

function sameInfo(a: StartTaskInfo | undefined, b: StartTaskInfo): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
