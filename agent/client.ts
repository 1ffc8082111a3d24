/**
 * The exchange loop: the agent's only conversation with the control plane (protocol.ts).
 *
 * Design — two channels, at most one exchange in flight on each:
 *
 * - POLL: the heartbeat, command channel and work request. It always has an exchange in flight
 *   (boot: waitMs 0, then waitMs 8000 long polls), so the node exchanges at least every ~8 s,
 *   busy or idle, and the host can answer at once with tasks or commands. It carries usage
 *   (every ≥15 s) and completions the host left unacknowledged, never fresh completions.
 * - REPORT: sends fresh completions quickly. A completion arms a ~2 ms coalescing timer; then one
 *   report exchange (waitMs 0) carries every completion not already in flight. Completions that
 *   finish while a report is in flight go in the next report, sent as soon as it returns, so
 *   bursts share exchanges and the batch size adapts to the round-trip time.
 *
 * Why a second exchange instead of aborting the long poll: a host may already have claimed tasks
 * for the long poll's exchangeId when the agent gives up on it, and the host may not notice the
 * disconnect; only a completed exchange (or a retry of the same id) delivers those tasks. So the
 * long poll is never abandoned, and the report runs next to it.
 *
 * Slots are never double-offered: each request advertises freeSlots = the pool's free slots minus
 * the slots advertised by the other exchange still in flight. The host may fill every request up
 * to its freeSlots and the node still never receives more than it has (the pool also enforces
 * the limit and queues any excess).
 *
 * Retries: network errors, timeouts and 5xx retry the SAME request (same exchangeId and
 * completions, attempt+1) with backoff 50 ms → 2 s, forever until stopped; 4xx (401/403 included)
 * is logged and retried every 10 s. A request is only replaced once it has been answered.
 *
 * Exactly-once execution: assignments are deduplicated by (jobId/taskId, claim) in the pool, so a
 * replayed exchange never runs a task twice; completions are kept until the host acknowledges
 * them (by key, only for the completions the acknowledging request carried).
 */
import { randomUUID } from 'node:crypto';
import type { AgentCommand, JobTaskReport, RunJobReleaseCommand, ExchangeRequest, ExchangeResponse, NodeUsage, StartTaskReport, StartTaskSpec, TaskCompletion, UploadServiceLogsCommand } from '../shared/nodes/protocol';
import type { Logger } from './log';
import { taskKey, terminatedBeforeStart } from './runner';
import type { TaskPool } from './tasks';
import type { Transport } from './transport';

export interface ExchangeLoopOptions {
  transport: Transport;
  pool: TaskPool;
  log: Logger;
  agentVersion: string;
  /** waitMs of long polls (default 8000: the node's heartbeat interval). */
  idleWaitMs?: number;
  /** How long fresh completions wait for company before a report is sent (default 2 ms). */
  coalesceMs?: number;
  /** Minimum time between two usage samples (default 15000). */
  usageIntervalMs?: number;
  usage?: () => NodeUsage;
  /** A host that answers long polls early and empty is polled at most this often (default 1000). */
  minPollIntervalMs?: number;
  /** Retry interval after a 4xx answer such as 401/403 (default 10000). */
  slowRetryMs?: number;
  /** Extra time beyond waitMs before a request is given up and retried (default 15000). */
  requestSlackMs?: number;
  newId?: () => string;
  now?: () => number;
  /** Called once when the host sends a shutdown command. */
  onShutdown?: () => void;
  /** The pool's start task (agent/starttask.ts): started from a boot answer, reported with every exchange. */
  startTask?: { start(spec: StartTaskSpec): void; report(): StartTaskReport | undefined };
  /** Job preparation/release tasks (agent/jobtasks.ts): reports ride on exchanges, runJobRelease goes to it. */
  jobTasks?: { reports(): JobTaskReport[]; hasUndelivered(): boolean; delivered(reports: JobTaskReport[] | undefined): void; unprepared(): string[]; release(cmd: RunJobReleaseCommand): void };
  /** Called for an uploadServiceLogs command (the upload runs in the background). */
  onUploadServiceLogs?: (cmd: UploadServiceLogsCommand) => void;
}

type Channel = 'poll' | 'report';
interface Pending {
  completion: TaskCompletion;
  /** Slots the task held; offered to the host only together with (or after) its completion. */
  slots: number;
  state: 'new' | 'inflight' | 'unacked';
}
interface InFlight {
  freeSlots: number;
}

export interface ExchangeStats {
  exchanges: number;
  retries: number;
  tasksReceived: number;
  completionsAcknowledged: number;
}

export class ExchangeLoop {
  private readonly pending = new Map<string, Pending>();
  private readonly inflight: Record<Channel, InFlight | undefined> = { poll: undefined, report: undefined };
  private readonly abort = new AbortController();
  private reportTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private lastPollFree = 0;
  private booted = false;
  private draining = false;
  private stopped = false;
  private lastUsageAt: number;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly sleepers = new Set<() => void>();
  private readonly flushWaiters: (() => void)[] = [];
  readonly stats: ExchangeStats = { exchanges: 0, retries: 0, tasksReceived: 0, completionsAcknowledged: 0 };

  constructor(private readonly o: ExchangeLoopOptions) {
    this.now = o.now ?? Date.now;
    this.newId = o.newId ?? randomUUID;
    this.lastUsageAt = this.now();
  }

  start(): void {
    this.pump();
  }

  /** A task finished and freed `slots`: report it soon. */
  addCompletion(completion: TaskCompletion, slots = 0): void {
    this.pending.set(`${taskKey(completion.jobId, completion.taskId)}\n${completion.claim}`, { completion, slots, state: 'new' });
    this.pump();
  }

  /** Stop asking for work (freeSlots 0 from now on); completions are still reported. */
  drain(): void {
    this.draining = true;
  }

  /** Resolves when every completion is acknowledged, or after timeoutMs. */
  flush(timeoutMs: number): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.flushWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Ends the loop at once: in-flight requests are abandoned. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    clearTimeout(this.reportTimer);
    clearTimeout(this.pollTimer);
    for (const wake of this.sleepers) wake();
    for (const w of this.flushWaiters.splice(0)) w();
    this.o.transport.close();
  }

  get pendingCompletions(): number {
    return this.pending.size;
  }

  private pump(): void {
    if (this.stopped) return;
    if (!this.booted) {
      if (!this.inflight.poll) void this.exchange('poll', true);
      return;
    }
    if (!this.inflight.report && !this.reportTimer && this.hasFresh()) {
      this.reportTimer = setTimeout(() => {
        this.reportTimer = undefined;
        if (!this.inflight.report && this.hasFresh()) void this.exchange('report', false);
      }, this.o.coalesceMs ?? 2);
    }
    if (this.pollTimer && this.advertisable('poll') > this.lastPollFree) {
      clearTimeout(this.pollTimer); // more capacity than the last poll offered: ask now
      this.pollTimer = undefined;
    }
    if (!this.inflight.poll && !this.pollTimer) void this.exchange('poll', false);
  }

  /** Something to report at once (a job preparation/release report counts too). */
  nudge(): void {
    this.pump();
  }

  private hasFresh(): boolean {
    if (this.o.jobTasks?.hasUndelivered()) return true;
    for (const p of this.pending.values()) if (p.state === 'new') return true;
    return false;
  }

  /**
   * Free slots this channel may offer: not offered by the other exchange in flight, and (for a
   * poll) not freed by a completion the host has not been sent yet — the host would still count
   * that task as running, so the slot is offered together with its completion by the report.
   */
  private advertisable(channel: Channel): number {
    if (this.draining) return 0;
    let held = (this.inflight.poll?.freeSlots ?? 0) + (this.inflight.report?.freeSlots ?? 0);
    if (channel === 'poll') for (const p of this.pending.values()) if (p.state === 'new') held += p.slots;
    return Math.max(0, this.o.pool.freeSlots() - held);
  }

  private buildRequest(channel: Channel, boot: boolean): ExchangeRequest {
    const completions: TaskCompletion[] = [];
    for (const p of this.pending.values()) {
      if (p.state === 'inflight' || (channel === 'poll' && p.state === 'new')) continue;
      p.state = 'inflight';
      completions.push(p.completion);
    }
    const req: ExchangeRequest = {
      exchangeId: this.newId(),
      attempt: 1,
      agentVersion: this.o.agentVersion,
      freeSlots: this.advertisable(channel),
      // Polls long-poll even when they carry unacknowledged completions, so a host that never
      // acknowledges one cannot turn the heartbeat into a tight loop.
      waitMs: channel === 'poll' && !boot ? (this.o.idleWaitMs ?? 8000) : 0,
      completions,
      running: this.o.pool.activeKeys(),
    };
    if (boot) req.boot = true;
    const startTaskInfo = this.o.startTask?.report();
    if (startTaskInfo) req.startTaskInfo = startTaskInfo;
    const jobTaskReports = this.o.jobTasks?.reports();
    if (jobTaskReports?.length) req.jobTaskReports = jobTaskReports;
    const unprepared = this.o.jobTasks?.unprepared();
    if (unprepared?.length) req.unpreparedJobs = unprepared;
    if (channel === 'poll' && this.o.usage && this.now() - this.lastUsageAt >= (this.o.usageIntervalMs ?? 15_000)) {
      this.lastUsageAt = this.now();
      req.usage = this.o.usage();
    }
    return req;
  }

  private async exchange(channel: Channel, boot: boolean): Promise<void> {
    let req = this.buildRequest(channel, boot);
    this.inflight[channel] = { freeSlots: req.freeSlots };
    const startedAt = this.now();
    let backoff = 50;
    let empty = true;
    for (;;) {
      this.stats.exchanges++;
      const outcome = await this.o.transport.post(req, req.waitMs + (this.o.requestSlackMs ?? 15_000), this.abort.signal);
      if (this.stopped) return;
      if (outcome.kind === 'ok') {
        this.apply(req, outcome.response);
        empty = outcome.response.tasks.length === 0 && outcome.response.commands.length === 0;
        break;
      }
      const wait = outcome.kind === 'slow' ? (this.o.slowRetryMs ?? 10_000) : backoff;
      backoff = Math.min(backoff * 2, 2_000);
      this.o.log[outcome.kind === 'slow' || req.attempt % 20 === 0 ? 'warn' : 'debug']('exchange failed, retrying', {
        channel, exchangeId: req.exchangeId, attempt: req.attempt, status: outcome.status, error: outcome.error, retryInMs: wait,
      });
      await this.sleep(wait);
      if (this.stopped) return;
      this.stats.retries++;
      req = { ...req, attempt: req.attempt + 1 };
    }
    if (boot) this.booted = true;
    this.inflight[channel] = undefined;
    if (channel === 'poll') this.afterPoll(req, startedAt, empty);
    this.pump();
  }

  private apply(req: ExchangeRequest, res: ExchangeResponse): void {
    const acked = new Set(res.acknowledged);
    for (const c of req.completions) {
      const id = `${taskKey(c.jobId, c.taskId)}\n${c.claim}`;
      const p = this.pending.get(id);
      if (!p || p.completion !== c) continue;
      if (acked.has(taskKey(c.jobId, c.taskId))) {
        this.pending.delete(id);
        this.stats.completionsAcknowledged++;
      } else {
        p.state = 'unacked';
      }
    }
    this.o.jobTasks?.delivered(req.jobTaskReports);
    if (this.pending.size === 0) for (const w of this.flushWaiters.splice(0)) w();
    this.stats.tasksReceived += res.tasks.length;
    for (const t of res.tasks) {
      if (this.draining) this.addCompletion(terminatedBeforeStart(t, this.now()));
      else this.o.pool.offer(t);
    }
    for (const cmd of res.commands) this.command(cmd);
    if (res.startTask) this.o.startTask?.start(res.startTask);
  }

  private command(cmd: AgentCommand): void {
    switch (cmd.kind) {
      case 'terminateTask':
        this.o.pool.terminate(cmd.jobId, cmd.taskId);
        return;
      case 'shutdown':
        if (!this.draining) {
          this.o.log.info('shutdown requested by the control plane');
          this.draining = true;
          this.o.onShutdown?.();
        }
        return;
      case 'uploadServiceLogs':
        this.o.onUploadServiceLogs?.(cmd);
        return;
      case 'runJobRelease':
        this.o.jobTasks?.release(cmd);
        return;
      default: {
        const unknown: never = cmd;
        this.o.log.warn('unknown command ignored', { command: unknown });
      }
    }
  }

  /** A host that answered an empty long poll early is not polled again in a tight loop. */
  private afterPoll(req: ExchangeRequest, startedAt: number, empty: boolean): void {
    this.lastPollFree = req.freeSlots;
    const elapsed = this.now() - startedAt;
    if (!empty || req.waitMs === 0 || elapsed >= req.waitMs / 2) return;
    const floor = req.freeSlots === 0 ? req.waitMs : (this.o.minPollIntervalMs ?? 1000);
    if (elapsed >= floor) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.pump();
    }, floor - elapsed);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(t);
        this.sleepers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
