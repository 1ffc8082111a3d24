/**
 * The node's task table: accepts assignments, enforces the slot limit, runs tasks and hands their
 * completions to the exchange loop.
 *
 * - Dedupe: an assignment is identified by (jobId/taskId, claim). A pair seen before (queued,
 *   running, or finished recently) is dropped, so a replayed exchange never runs a task twice.
 *   A new claim for a key that is still active is a new attempt: it waits until the old run ends
 *   (both use the same task directory).
 * - Slots: a task starts only when the slots of the running tasks plus its requiredSlots fit in
 *   the node's slots (a task needing more than the node has runs alone). Assignments beyond the
 *   free slots (a host that over-assigns) wait in a FIFO queue; queued tasks count as busy slots
 *   and are reported in `running`, since the node owns them.
 */
import type { TaskAssignment, TaskCompletion } from '../shared/nodes/protocol';
import type { Logger } from './log';
import { runTask, taskKey, terminatedBeforeStart, type RunnerContext, type TaskRun } from './runner';

const SEEN_LIMIT = 20_000;
const SAMPLE_INTERVAL_MS = 2_000;

export interface TaskPoolOptions {
  slots: number;
  runner: RunnerContext;
  log: Logger;
  /** A task ended; `slots` is what it held (0 if it never held any). */
  onComplete(completion: TaskCompletion, slots: number): void;
  /** How an assignment is run (default runTask; the agent wraps it for job preparation tasks, agent/jobtasks.ts). */
  run?(a: TaskAssignment): TaskRun;
  /** Test hook: called after a task process is started or has ended. */
  onTaskEvent?(event: { kind: 'start' | 'end'; key: string }): void;
}

export class TaskPool {
  private readonly queue: TaskAssignment[] = [];
  private readonly running = new Map<string, TaskRun>();
  private readonly seen = new Map<string, true>();
  private usedSlots = 0;
  private queuedSlots = 0;
  private sampler: NodeJS.Timeout | undefined;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: TaskPoolOptions) {}

  get slots(): number {
    return this.opts.slots;
  }

  /** Slots neither running nor queued. */
  freeSlots(): number {
    return Math.max(0, this.opts.slots - this.usedSlots - this.queuedSlots);
  }

  /** Keys of every task the node owns (running or queued). */
  activeKeys(): string[] {
    const keys = [...this.running.keys()];
    for (const a of this.queue) keys.push(taskKey(a.jobId, a.taskId));
    return keys;
  }

  get activeCount(): number {
    return this.running.size + this.queue.length;
  }

  /** Accepts an assignment; false when it is a duplicate. */
  offer(a: TaskAssignment): boolean {
    const id = `${taskKey(a.jobId, a.taskId)}\n${a.claim}`;
    if (this.seen.has(id)) {
      this.opts.log.debug('duplicate assignment dropped', { task: taskKey(a.jobId, a.taskId), claim: a.claim });
      return false;
    }
    this.seen.set(id, true);
    if (this.seen.size > SEEN_LIMIT) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.queue.push(a);
    this.queuedSlots += slotsOf(a);
    this.startReady();
    return true;
  }

  /** Ends a queued or running task; its completion is reported as usual. */
  terminate(jobId: string, taskId: string): void {
    const key = taskKey(jobId, taskId);
    this.running.get(key)?.terminate();
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const a = this.queue[i] as TaskAssignment;
      if (a.jobId === jobId && a.taskId === taskId) {
        this.queue.splice(i, 1);
        this.queuedSlots -= slotsOf(a);
        this.opts.onComplete(terminatedBeforeStart(a, this.opts.runner.now?.() ?? Date.now()), slotsOf(a));
        this.checkIdle();
      }
    }
  }

  terminateAll(): void {
    for (const a of [...this.queue]) this.terminate(a.jobId, a.taskId);
    for (const run of this.running.values()) run.terminate();
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.activeCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private startReady(): void {
    for (let i = 0; i < this.queue.length; ) {
      const a = this.queue[i] as TaskAssignment;
      const need = slotsOf(a);
      const key = taskKey(a.jobId, a.taskId);
      const fits = this.usedSlots + need <= this.opts.slots || this.usedSlots === 0;
      if (!fits || this.running.has(key)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.queuedSlots -= need;
      this.usedSlots += need;
      this.start(a, key, need);
    }
  }

  private start(a: TaskAssignment, key: string, need: number): void {
    const run = this.opts.run ? this.opts.run(a) : runTask(a, this.opts.runner);
    this.running.set(key, run);
    this.opts.onTaskEvent?.({ kind: 'start', key });
    if (!this.sampler) {
      this.sampler = setInterval(() => this.sampleAll(), SAMPLE_INTERVAL_MS);
      this.sampler.unref();
    }
    run.done.then(
      (completion) => this.finish(key, run, need, completion),
      (err: unknown) => {
        // runTask never rejects by design; keep the slot accounting right if it ever does.
        this.opts.log.error('task run crashed', { task: key, error: String(err) });
        const now = new Date().toISOString();
        this.finish(key, run, need, {
          jobId: a.jobId, taskId: a.taskId, claim: a.claim, startTime: now, endTime: now, result: 'failure',
          failureInfo: { category: 'servererror', code: 'TaskPreparationFailed', message: String(err) },
        });
      },
    );
  }

  private finish(key: string, run: TaskRun, need: number, completion: TaskCompletion): void {
    if (this.running.get(key) === run) this.running.delete(key);
    this.usedSlots -= need;
    this.opts.onTaskEvent?.({ kind: 'end', key });
    this.opts.onComplete(completion, need);
    this.startReady();
    if (this.running.size === 0 && this.sampler) {
      clearInterval(this.sampler);
      this.sampler = undefined;
    }
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.activeCount === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private sampleAll(): void {
    for (const run of this.running.values()) run.sample();
  }
}

function slotsOf(a: TaskAssignment): number {
  return Number.isInteger(a.requiredSlots) && a.requiredSlots > 0 ? a.requiredSlots : 1;
}
