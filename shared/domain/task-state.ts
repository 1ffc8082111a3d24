import { BatchError } from '../errors';
import type { TaskRecord, TaskSpec, TaskState } from './model';

/**
 * The task state machine in one place (pure). A task is `active` (queued), `preparing`/`running`
 * (on a node), or `completed` with a result. Every operation or node report is an event; the
 * answer says where the task goes, which task-count bucket it leaves and enters, what happens to
 * its queue entry and whether its node must be told — or which Batch error code refuses it.
 *
 *   add          (none)             → active               enqueue
 *   claim        active             → running              dequeue
 *   complete ok  running|preparing  → completed (success)
 *   complete ko  running|preparing  → active (retry) while retries remain (maxTaskRetryCount −1 = unlimited), enqueue
 *                                    → completed (failure) otherwise
 *   requeue      running|preparing  → active (requeueCount + 1, no retry counted), enqueue
 *   terminate    active             → completed (failure, TaskEnded), dequeue
 *                running|preparing  → unchanged; the node kills the process and reports the completion
 *                completed          → 409 TaskCompleted
 *   reactivate   completed failure  → active, retryCount 0, execution info cleared, enqueue
 *                completed success  → 409 TaskSucceeded
 *                active|running|preparing → 409 TaskNotCompleted
 *   update       any                → unchanged (constraints rewritten; an active task's queue entry too)
 *   delete       any                → (none); an active task leaves the queue, a running one is killed
 */

export type TaskResult = 'success' | 'failure';

/** Where a task is: its state and, once completed, its result. `null` = no such task. */
export interface TaskPosition {
  state: TaskState;
  result?: TaskResult;
}

/** The task-count bucket of a position (job task counts). */
export type CountBucket = 'active' | 'running' | 'succeeded' | 'failed';

export type TaskEvent =
  | { kind: 'add' }
  | { kind: 'claim' }
  | { kind: 'complete'; result: TaskResult; retryCount: number; maxTaskRetryCount: number }
  | { kind: 'requeue' }
  | { kind: 'terminate' }
  | { kind: 'reactivate' }
  | { kind: 'update' }
  | { kind: 'delete' };

export type QueueEffect = 'enqueue' | 'dequeue' | 'rewrite' | 'none';

export type TaskRefusal = 'TaskCompleted' | 'TaskNotCompleted' | 'TaskSucceeded' | 'TaskNotRunning' | 'TaskNotActive';

export type Transition =
  | {
      ok: true;
      to: TaskPosition | null;
      from: CountBucket | null;
      into: CountBucket | null;
      queue: QueueEffect;
      /** The node running the task must end its process. */
      killOnNode: boolean;
      /** The retry count the task continues with (reset by reactivate, +1 on a retry). */
      retry?: 'reset' | 'increment';
    }
  | { ok: false; code: TaskRefusal };

export function bucketOf(p: TaskPosition | null): CountBucket | null {
  if (!p) return null;
  if (p.state === 'active') return 'active';
  if (p.state === 'running' || p.state === 'preparing') return 'running';
  return p.result === 'success' ? 'succeeded' : 'failed';
}

/** Whether a failed run goes back to the queue: retries remain, or maxTaskRetryCount is −1 (unlimited). */
export function canRetry(retryCount: number, maxTaskRetryCount: number): boolean {
  return maxTaskRetryCount === -1 || retryCount < maxTaskRetryCount;
}

const onNode = (p: TaskPosition | null): boolean => p?.state === 'running' || p?.state === 'preparing';

export function transition(from: TaskPosition | null, ev: TaskEvent): Transition {
  const go = (to: TaskPosition | null, queue: QueueEffect, extra: { killOnNode?: boolean; retry?: 'reset' | 'increment' } = {}): Transition => ({
    ok: true, to, from: bucketOf(from), into: bucketOf(to), queue, killOnNode: extra.killOnNode ?? false, ...(extra.retry ? { retry: extra.retry } : {}),
  });
  const refuse = (code: TaskRefusal): Transition => ({ ok: false, code });
  switch (ev.kind) {
    case 'add':
      return from ? refuse('TaskNotActive') : go({ state: 'active' }, 'enqueue');
    case 'claim':
      return from?.state === 'active' ? go({ state: 'running' }, 'dequeue') : refuse('TaskNotActive');
    case 'complete':
      if (!onNode(from)) return refuse('TaskNotRunning');
      if (ev.result === 'success') return go({ state: 'completed', result: 'success' }, 'none');
      return canRetry(ev.retryCount, ev.maxTaskRetryCount) ? go({ state: 'active' }, 'enqueue', { retry: 'increment' }) : go({ state: 'completed', result: 'failure' }, 'none');
    case 'requeue':
      return onNode(from) ? go({ state: 'active' }, 'enqueue') : refuse('TaskNotRunning');
    case 'terminate':
      if (!from) return refuse('TaskNotActive');
      if (from.state === 'completed') return refuse('TaskCompleted');
      if (from.state === 'active') return go({ state: 'completed', result: 'failure' }, 'dequeue');
      return go(from, 'none', { killOnNode: true });
    case 'reactivate':
      if (!from || from.state !== 'completed') return refuse('TaskNotCompleted');
      if (from.result === 'success') return refuse('TaskSucceeded');
      return go({ state: 'active' }, 'enqueue', { retry: 'reset' });
    case 'update':
      if (!from) return refuse('TaskNotActive');
      return go(from, from.state === 'active' ? 'rewrite' : 'none');
    case 'delete':
      if (!from) return refuse('TaskNotActive');
      return go(null, from.state === 'active' ? 'dequeue' : 'none', { killOnNode: onNode(from) });
  }
}

export function positionOf(t: TaskRecord): TaskPosition {
  return { state: t.state, ...(t.executionInfo.result ? { result: t.executionInfo.result } : {}) };
}

/** The spec part of a task record (what a pending queue entry carries). */
export function specOf(t: TaskRecord): TaskSpec {
  const { jobId: _j, state: _s, stateTransitionTime: _st, previousState: _p, previousStateTransitionTime: _pt, creationTime: _c, lastModified: _l, executionInfo: _e, nodeInfo: _n, claim: _cl, stats: _stats, ...spec } = t;
  return spec;
}

const REFUSALS: Record<TaskRefusal, string> = {
  TaskCompleted: 'The specified task is already in a completed state.',
  TaskNotCompleted: 'The specified task is not in a completed state, and the requested operation can be performed only on completed tasks.',
  TaskSucceeded: 'The specified task has already completed successfully, and the requested operation cannot be performed on successful tasks.',
  TaskNotRunning: 'The specified task is not running.',
  TaskNotActive: 'The specified task is not active.',
};

export function refusal(code: TaskRefusal): BatchError {
  return code === 'TaskNotRunning' || code === 'TaskNotActive' ? new BatchError('OperationInvalidForCurrentState', REFUSALS[code]) : new BatchError(code, REFUSALS[code]);
}
