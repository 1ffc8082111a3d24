/**
 * Task directory retention (constraints.retentionTime): once a task completes on this node, its
 * task directory is deleted after the retention time (default 7 days, as Azure Batch). A new run
 * of the same task on this node cancels the pending deletion (the directory is reused). Timers do
 * not keep the agent alive and do not survive an agent restart.
 */
import { rm } from 'node:fs/promises';

export const DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600;
const MAX_TIMER_MS = 2 ** 31 - 1;

export class RetentionTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly onError: (dir: string, err: unknown) => void = () => undefined) {}

  /** Deletes `dir` after `seconds` (replacing any earlier schedule for it). */
  schedule(dir: string, seconds: number | undefined, now: () => number = Date.now): void {
    this.cancel(dir);
    const due = now() + Math.max(0, seconds ?? DEFAULT_RETENTION_SECONDS) * 1000;
    const arm = (): void => {
      const wait = Math.min(MAX_TIMER_MS, Math.max(0, due - now()));
      const timer = setTimeout(() => {
        if (this.timers.get(dir) !== timer) return;
        if (due > now()) return arm();
        this.timers.delete(dir);
        rm(dir, { recursive: true, force: true }).catch((err: unknown) => this.onError(dir, err));
      }, wait);
      timer.unref();
      this.timers.set(dir, timer);
    };
    arm();
  }

  cancel(dir: string): void {
    const t = this.timers.get(dir);
    if (t) clearTimeout(t);
    this.timers.delete(dir);
  }

  /** Directories with a pending deletion. */
  pending(): string[] {
    return [...this.timers.keys()];
  }

  clear(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/** The agent process's timers (one node per agent process). */
export const nodeRetention = new RetentionTimers();
