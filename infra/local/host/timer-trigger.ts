/**
 * Timer trigger: NCRONTAB six-field schedules (seconds first, UTC) evaluated with croner in
 * `6-part` mode with `domAndDow` (day-of-month AND day-of-week, as NCrontab does, so
 * `0 0 0 13 * Fri` is Friday-the-13th only), and TimeSpan schedules (`hh:mm:ss` = "every …").
 * A {@link TimerRunner} arms one `setTimeout` at a time (chunked for far-away dates), supports
 * `runOnStartup`, skips an occurrence while the previous run is still going (never two concurrent
 * runs of one timer), and passes the handler `{ isPastDue, schedule, scheduleStatus }`.
 */
import type { Timer } from '@azure/functions';
import { Cron } from 'croner';
import { parseTimeSpan } from './host-json';
import type { LogFn } from './invocation';

/** A parsed timer schedule. */
export type Schedule =
  | { kind: 'cron'; expression: string; cron: Cron }
  | { kind: 'interval'; expression: string; intervalMs: number };

/** Longest single `setTimeout` delay Node accepts. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** How long {@link TimerRunner.stop} waits for a running invocation. */
const STOP_GRACE_MS = 10_000;

/** Parses an NCRONTAB (6 fields) or TimeSpan schedule. Throws with a readable message when invalid. */
export function parseSchedule(expression: string): Schedule {
  const text = expression.trim();
  if (!/\s/.test(text)) {
    const ms = parseTimeSpan(text);
    if (ms !== undefined) {
      if (ms <= 0) throw new Error(`TimeSpan schedule '${text}' must be greater than zero`);
      return { kind: 'interval', expression: text, intervalMs: ms };
    }
  }
  const fields = text.split(/\s+/).filter(Boolean).length;
  if (fields !== 6) {
    throw new Error(`schedule '${text}' is neither a TimeSpan (hh:mm:ss) nor an NCRONTAB expression with 6 fields (got ${fields})`);
  }
  let cron: Cron;
  try {
    cron = new Cron(text, { mode: '6-part', domAndDow: true, timezone: 'UTC' });
  } catch (e) {
    throw new Error(`invalid NCRONTAB expression '${text}': ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!cron.nextRun()) throw new Error(`NCRONTAB expression '${text}' never fires`);
  return { kind: 'cron', expression: text, cron };
}

/** The first occurrence strictly after `after`, or null when there is none. */
export function nextOccurrence(schedule: Schedule, after: Date): Date | null {
  if (schedule.kind === 'interval') return new Date(after.getTime() + schedule.intervalMs);
  return schedule.cron.nextRun(after);
}

/** The last occurrence strictly before `before` (for an interval: one interval earlier). */
export function previousOccurrence(schedule: Schedule, before: Date): Date | null {
  if (schedule.kind === 'interval') return new Date(before.getTime() - schedule.intervalMs);
  return schedule.cron.previousRuns(1, before)[0] ?? null;
}

export interface TimerRunnerOptions {
  functionName: string;
  schedule: Schedule;
  runOnStartup: boolean;
  log: LogFn;
  /** Runs the function; rejects when the invocation failed (already logged). */
  invoke: (timer: Timer) => Promise<unknown>;
}

/** Drives one timer-triggered function. */
export class TimerRunner {
  private timeout?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private last?: Date;

  constructor(private readonly o: TimerRunnerOptions) {}

  /** Arms the first occurrence; with runOnStartup, also invokes once now. */
  start(): void {
    const now = new Date();
    const next = nextOccurrence(this.o.schedule, now);
    if (this.o.runOnStartup) this.fire(now, false, next);
    this.arm(next);
  }

  /** Disarms the timer and waits (at most 10 s) for a running invocation. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timeout);
    if (!this.running) return;
    let t: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise<void>((resolve) => (t = setTimeout(resolve, STOP_GRACE_MS)))]);
    clearTimeout(t);
  }

  private arm(at: Date | null): void {
    if (this.stopped) return;
    if (!at) {
      this.o.log('warn', `[${this.o.functionName}] schedule '${this.o.schedule.expression}' has no further occurrences`);
      return;
    }
    const delay = Math.min(Math.max(at.getTime() - Date.now(), 0), MAX_TIMEOUT_MS);
    this.timeout = setTimeout(() => this.onDue(at), delay);
  }

  private onDue(scheduled: Date): void {
    if (this.stopped) return;
    const now = new Date();
    if (now.getTime() < scheduled.getTime()) return this.arm(scheduled); // long waits are chunked
    const { schedule } = this.o;
    const following = nextOccurrence(schedule, scheduled);
    const isPastDue = following !== null && following.getTime() <= now.getTime(); // an occurrence was missed
    const next = schedule.kind === 'interval' && !isPastDue ? following : nextOccurrence(schedule, now);
    this.fire(scheduled, isPastDue, next);
    this.arm(next);
  }

  private fire(scheduled: Date, isPastDue: boolean, next: Date | null): void {
    if (this.running) {
      this.o.log('warn', `[${this.o.functionName}] skipping the ${scheduled.toISOString()} occurrence: the previous run is still in progress`);
      return;
    }
    const last = this.last ?? previousOccurrence(this.o.schedule, scheduled) ?? scheduled;
    this.last = scheduled;
    const timer: Timer = {
      isPastDue,
      schedule: { adjustForDST: false },
      scheduleStatus: { last: last.toISOString(), next: next?.toISOString() ?? '', lastUpdated: new Date().toISOString() },
    };
    const run: Promise<void> = this.o
      .invoke(timer)
      .then(
        () => undefined,
        () => undefined, // logged by invoke; a failing timer never crashes the host
      )
      .finally(() => {
        if (this.running === run) this.running = undefined;
      });
    this.running = run;
  }
}
