import { describe, expect, it } from 'vitest';
import { bucketOf, canRetry, positionOf, refusal, specOf, transition, type TaskEvent, type TaskPosition } from '../../shared/domain/task-state';
import { bucketDelta } from '../../shared/services/task-update';
import type { TaskRecord } from '../../shared/domain/model';

const active: TaskPosition = { state: 'active' };
const preparing: TaskPosition = { state: 'preparing' };
const running: TaskPosition = { state: 'running' };
const succeeded: TaskPosition = { state: 'completed', result: 'success' };
const failed: TaskPosition = { state: 'completed', result: 'failure' };

const ok = (r: number, m: number): TaskEvent => ({ kind: 'complete', result: 'success', retryCount: r, maxTaskRetryCount: m });
const ko = (r: number, m: number): TaskEvent => ({ kind: 'complete', result: 'failure', retryCount: r, maxTaskRetryCount: m });

type Row = [string, TaskPosition | null, TaskEvent, TaskPosition | null | string, string?, boolean?];
// [name, from, event, to (or refusal code), queue effect, kill on node]
const table: Row[] = [
  ['add', null, { kind: 'add' }, active, 'enqueue'],
  ['add twice', active, { kind: 'add' }, 'TaskNotActive'],
  ['claim', active, { kind: 'claim' }, running, 'dequeue'],
  ['claim a running task', running, { kind: 'claim' }, 'TaskNotActive'],
  ['complete success', running, ok(0, 0), succeeded, 'none'],
  ['complete success while preparing', preparing, ok(0, 0), succeeded, 'none'],
  ['complete failure, retries left', running, ko(0, 2), active, 'enqueue'],
  ['complete failure, last retry', running, ko(2, 2), failed, 'none'],
  ['complete failure, no retries', running, ko(0, 0), failed, 'none'],
  ['complete failure, unlimited retries (-1)', running, ko(1000, -1), active, 'enqueue'],
  ['complete an active task', active, ok(0, 0), 'TaskNotRunning'],
  ['requeue', running, { kind: 'requeue' }, active, 'enqueue'],
  ['requeue a completed task', succeeded, { kind: 'requeue' }, 'TaskNotRunning'],
  ['terminate active', active, { kind: 'terminate' }, failed, 'dequeue', false],
  ['terminate running', running, { kind: 'terminate' }, running, 'none', true],
  ['terminate preparing', preparing, { kind: 'terminate' }, preparing, 'none', true],
  ['terminate completed', succeeded, { kind: 'terminate' }, 'TaskCompleted'],
  ['terminate failed', failed, { kind: 'terminate' }, 'TaskCompleted'],
  ['reactivate failed', failed, { kind: 'reactivate' }, active, 'enqueue'],
  ['reactivate succeeded', succeeded, { kind: 'reactivate' }, 'TaskSucceeded'],
  ['reactivate active', active, { kind: 'reactivate' }, 'TaskNotCompleted'],
  ['reactivate running', running, { kind: 'reactivate' }, 'TaskNotCompleted'],
  ['update active', active, { kind: 'update' }, active, 'rewrite'],
  ['update running', running, { kind: 'update' }, running, 'none'],
  ['update completed', failed, { kind: 'update' }, failed, 'none'],
  ['delete active', active, { kind: 'delete' }, null, 'dequeue', false],
  ['delete running', running, { kind: 'delete' }, null, 'none', true],
  ['delete completed', succeeded, { kind: 'delete' }, null, 'none', false],
];

describe('task state machine', () => {
  it.each(table)('%s', (_name, from, ev, to, queue, kill) => {
    const tr = transition(from, ev);
    if (typeof to === 'string') {
      expect(tr).toEqual({ ok: false, code: to });
      return;
    }
    expect(tr.ok).toBe(true);
    if (!tr.ok) return;
    expect(tr.to).toEqual(to);
    expect(tr.queue).toBe(queue);
    expect(tr.from).toBe(bucketOf(from));
    expect(tr.into).toBe(bucketOf(to));
    if (kill !== undefined) expect(tr.killOnNode).toBe(kill);
  });

  it('counts retries: reactivate resets, a retried failure increments', () => {
    const r = transition(failed, { kind: 'reactivate' });
    expect(r.ok && r.retry).toBe('reset');
    const k = transition(running, ko(0, 1));
    expect(k.ok && k.retry).toBe('increment');
  });

  it('canRetry: -1 is unlimited, otherwise retryCount < max', () => {
    expect([canRetry(0, 0), canRetry(0, 1), canRetry(1, 1), canRetry(5, -1), canRetry(2 ** 31 - 1, -1)]).toEqual([false, true, false, true, true]);
  });

  it('buckets and counter deltas between them', () => {
    expect([bucketOf(null), bucketOf(active), bucketOf(preparing), bucketOf(succeeded), bucketOf(failed)]).toEqual([null, 'active', 'running', 'succeeded', 'failed']);
    expect(bucketDelta('failed', 'active', 2)).toEqual({ completed: -1, completedSlots: -2, failed: -1, failedSlots: -2, active: 1, activeSlots: 2 });
    expect(bucketDelta('active', null, 1)).toEqual({ active: -1, activeSlots: -1 });
  });

  it('maps refusals to Batch errors (409 with the documented codes)', () => {
    expect([refusal('TaskNotCompleted').code, refusal('TaskNotCompleted').status]).toEqual(['TaskNotCompleted', 409]);
    expect([refusal('TaskSucceeded').code, refusal('TaskCompleted').code]).toEqual(['TaskSucceeded', 'TaskCompleted']);
    expect(refusal('TaskNotRunning').code).toBe('OperationInvalidForCurrentState');
  });

  it('positionOf / specOf split a task record into its state and its spec', () => {
    const rec: TaskRecord = {
      id: 't', commandLine: 'x', resourceFiles: [], environmentSettings: [], constraints: { maxTaskRetryCount: 1 }, requiredSlots: 1,
      jobId: 'j', state: 'completed', stateTransitionTime: 'a', creationTime: 'b', lastModified: 'c', claim: 'k',
      executionInfo: { retryCount: 1, requeueCount: 0, result: 'failure' },
    };
    expect(positionOf(rec)).toEqual(failed);
    expect(specOf(rec)).toEqual({ id: 't', commandLine: 'x', resourceFiles: [], environmentSettings: [], constraints: { maxTaskRetryCount: 1 }, requiredSlots: 1 });
  });
});
