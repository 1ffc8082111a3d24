/**
 * Job preparation and release tasks on this node, as on an Azure Batch Linux node:
 *
 *   <root>/workitems/<jobId>/job-1/<prepId>       AZ_BATCH_JOB_PREP_DIR (stdout.txt, stderr.txt)
 *   <root>/workitems/<jobId>/job-1/<prepId>/wd    AZ_BATCH_JOB_PREP_WORKING_DIR (cwd, resource files)
 *   <root>/workitems/<jobId>/job-1/<releaseId>    the release task's directory
 *
 * Preparation: every assignment of a job with one carries it. The node runs it once, before its
 * first task of the job (tasks of the job that arrive meanwhile wait for the same run); a failed
 * run is retried up to maxTaskRetryCount times (-1: without limit). With waitForSuccess the task
 * waits; when the preparation fails for good the task is given back unrun (completion `requeue`:
 * Azure returns it to active for another node) and the job is named in `unpreparedJobs` so the
 * host hands this node no more of its tasks. Without waitForSuccess tasks start at once.
 * A restarted agent (reboot, reimage) has forgotten which jobs it prepared, so the preparation
 * runs again before the next task; with rerunOnNodeRebootAfterSuccess = false a success marker
 * (<root>/.batchplane/jobprep/<jobId>) keeps it from running again.
 * Every task of such a job gets AZ_BATCH_JOB_PREP_DIR and AZ_BATCH_JOB_PREP_WORKING_DIR.
 *
 * Release: a runJobRelease command (the job was terminated or deleted) runs the release task once
 * (after a preparation still running has ended), killed at its maxWallClockTime, no retry.
 * Both runs are reported (ExchangeRequest.jobTaskReports) until an exchange that carried the
 * latest state has been answered.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { JobPreparationSpec, JobTaskReport, JobTaskRunSpec, RunJobReleaseCommand, StartTaskReport, TaskAssignment, TaskCompletion } from '../shared/nodes/protocol';
import { taskEnvironment } from './environment';
import { isSafeId, taskLayout } from './layout';
import { runTask, taskKey, terminatedBeforeStart, type RunnerContext, type TaskRun } from './runner';

const RETRY_DELAY_MS = 500;

export interface JobTasksOptions {
  runner: RunnerContext;
  retryDelayMs?: number;
  /** A report changed (the exchange loop sends it soon). */
  onChange?: () => void;
}

interface JobEntry {
  prep?: Promise<boolean>;
  failed: boolean;
  preparation?: StartTaskReport;
  release?: StartTaskReport;
  releaseStarted: boolean;
  version: number;
  sentVersion: number;
}

export class JobTasks {
  private readonly jobs = new Map<string, JobEntry>();
  private readonly runs = new Set<TaskRun>();
  private readonly sent = new WeakMap<JobTaskReport, number>();
  private stopped = false;

  constructor(private readonly o: JobTasksOptions) {}

  /** Runs an assignment: a plain task run, or (job with a preparation task) the preparation first. */
  run(a: TaskAssignment): TaskRun {
    if (!a.jobPreparation || !isSafeId(a.jobId) || !isSafeId(a.jobPreparation.id)) return runTask(a, this.o.runner);
    return new PreparedRun(a, this, this.o.runner);
  }

  /** Reports not yet delivered (the latest state of each job that changed). */
  reports(): JobTaskReport[] {
    const out: JobTaskReport[] = [];
    for (const [jobId, e] of this.jobs) {
      if (e.version === e.sentVersion) continue;
      const r: JobTaskReport = { jobId, ...(e.preparation ? { preparation: e.preparation } : {}), ...(e.release ? { release: e.release } : {}) };
      this.sent.set(r, e.version);
      out.push(r);
    }
    return out;
  }

  hasUndelivered(): boolean {
    for (const e of this.jobs.values()) if (e.version !== e.sentVersion) return true;
    return false;
  }

  /** The host answered an exchange that carried these reports. */
  delivered(reports: JobTaskReport[] | undefined): void {
    for (const r of reports ?? []) {
      const v = this.sent.get(r);
      const e = this.jobs.get(r.jobId);
      if (e && v !== undefined && v > e.sentVersion) e.sentVersion = v;
    }
  }

  /** Jobs whose preparation failed here (waitForSuccess): the host must not send their tasks. */
  unprepared(): string[] {
    return [...this.jobs].filter(([, e]) => e.failed).map(([id]) => id);
  }

  /** The preparation of a job on this node: true when the job's tasks may run. One run per job. */
  prepare(jobId: string, spec: JobPreparationSpec): Promise<boolean> {
    const e = this.entry(jobId);
    e.prep ??= this.runPreparation(jobId, spec, e);
    return e.prep;
  }

  /** runJobRelease: the release task, once per job. */
  release(cmd: RunJobReleaseCommand): void {
    if (!isSafeId(cmd.jobId) || !isSafeId(cmd.release.id) || !isSafeId(cmd.preparationId)) return;
    const e = this.entry(cmd.jobId);
    if (e.releaseStarted || this.stopped) return;
    e.releaseStarted = true;
    void (async () => {
      await e.prep;
      if (this.stopped) return;
      const now = this.o.runner.now ?? Date.now;
      this.set(e, 'release', { state: 'running', startTime: new Date(now()).toISOString(), retryCount: 0 });
      const c = await this.runOnce(cmd.jobId, cmd.preparationId, cmd.release, 0);
      if (this.stopped) return;
      this.set(e, 'release', completedReport(c, 0));
      this.o.runner.log.info('job release task completed', { jobId: cmd.jobId, result: c.result, exitCode: c.exitCode });
    })();
  }

  /** Ends preparation and release runs (the agent is stopping); nothing more is reported. */
  stop(): void {
    this.stopped = true;
    for (const r of this.runs) r.terminate();
  }

  /** The AZ_BATCH_JOB_PREP_* variables of the job's tasks. */
  prepVariables(jobId: string, prepId: string): Record<string, string> {
    const l = taskLayout(this.o.runner.node, jobId, prepId);
    return { AZ_BATCH_JOB_PREP_DIR: l.taskDir, AZ_BATCH_JOB_PREP_WORKING_DIR: l.workingDir };
  }

  private entry(jobId: string): JobEntry {
    let e = this.jobs.get(jobId);
    if (!e) this.jobs.set(jobId, (e = { failed: false, releaseStarted: false, version: 0, sentVersion: 0 }));
    return e;
  }

  private set(e: JobEntry, which: 'preparation' | 'release', report: StartTaskReport): void {
    e[which] = report;
    e.version++;
    this.o.onChange?.();
  }

  private markerOf(jobId: string): string {
    return path.join(this.o.runner.node.root, '.batchplane', 'jobprep', jobId);
  }

  private async runPreparation(jobId: string, spec: JobPreparationSpec, e: JobEntry): Promise<boolean> {
    const marker = this.markerOf(jobId);
    if (!spec.rerunOnNodeRebootAfterSuccess && (await stat(marker).then(() => true, () => false))) return true;
    const now = this.o.runner.now ?? Date.now;
    let lastRetryTime: string | undefined;
    for (let retry = 0; ; retry++) {
      const retryFields = { retryCount: retry, ...(lastRetryTime ? { lastRetryTime } : {}) };
      this.set(e, 'preparation', { state: 'running', startTime: new Date(now()).toISOString(), ...retryFields });
      const c = await this.runOnce(jobId, spec.id, spec, retry);
      if (this.stopped) return false;
      const last = c.result === 'success' || (spec.maxTaskRetryCount >= 0 && retry >= spec.maxTaskRetryCount);
      if (last) {
        this.set(e, 'preparation', { ...completedReport(c, retry), ...retryFields });
        this.o.runner.log.info('job preparation task completed', { jobId, result: c.result, exitCode: c.exitCode, retryCount: retry });
        if (c.result === 'success') {
          if (!spec.rerunOnNodeRebootAfterSuccess) await mkdir(path.dirname(marker), { recursive: true }).then(() => writeFile(marker, '')).catch(() => undefined);
          return true;
        }
        if (spec.waitForSuccess) e.failed = true;
        return false;
      }
      await new Promise((r) => setTimeout(r, this.o.retryDelayMs ?? RETRY_DELAY_MS));
      if (this.stopped) return false;
      lastRetryTime = new Date(now()).toISOString();
    }
  }

  /** One run of a preparation or release task in its directory of the job. */
  private async runOnce(jobId: string, prepId: string, spec: JobTaskRunSpec, retry: number): Promise<TaskCompletion> {
    const ctx = this.o.runner;
    const layout = taskLayout(ctx.node, jobId, spec.id);
    const environment = taskEnvironment(ctx.baseEnv, ctx.identity, ctx.node, jobId, spec.id, layout, spec.environment);
    Object.assign(environment, this.prepVariables(jobId, prepId), { AZ_BATCH_TASK_USER_IDENTITY: spec.elevationLevel === 'admin' ? 'PoolAdmin' : 'PoolNonAdmin' });
    const a: TaskAssignment = {
      jobId, taskId: spec.id, claim: '', retryCount: retry, commandLine: spec.commandLine, resourceFiles: spec.resourceFiles, environment: {}, requiredSlots: 1,
      ...(spec.maxWallClockSeconds !== undefined ? { maxWallClockSeconds: spec.maxWallClockSeconds } : {}),
    };
    const run = runTask(a, ctx, { layout, environment });
    this.runs.add(run);
    try {
      return await run.done;
    } finally {
      this.runs.delete(run);
    }
  }
}

function completedReport(c: TaskCompletion, retry: number): StartTaskReport {
  return {
    state: 'completed', startTime: c.startTime, endTime: c.endTime,
    ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
    result: c.result,
    ...(c.failureInfo ? { failureInfo: c.failureInfo } : {}),
    retryCount: retry,
  };
}

/** A task of a job with a preparation task: waits for the node's preparation (waitForSuccess), then runs. */
class PreparedRun implements TaskRun {
  readonly key: string;
  readonly done: Promise<TaskCompletion>;
  private inner: TaskRun | undefined;
  private ended = false;
  private wake!: () => void;

  constructor(readonly assignment: TaskAssignment, jobTasks: JobTasks, ctx: RunnerContext) {
    const a = assignment;
    const spec = a.jobPreparation!;
    this.key = taskKey(a.jobId, a.taskId);
    const stopped = new Promise<undefined>((r) => (this.wake = () => r(undefined)));
    const now = ctx.now ?? Date.now;
    this.done = (async (): Promise<TaskCompletion> => {
      const prep = jobTasks.prepare(a.jobId, spec);
      const ok = spec.waitForSuccess ? await Promise.race([prep, stopped]) : true;
      if (this.ended) return terminatedBeforeStart(a, now());
      if (ok === false) {
        const t = new Date(now()).toISOString();
        return {
          jobId: a.jobId, taskId: a.taskId, claim: a.claim, startTime: t, endTime: t, result: 'failure', requeue: true,
          failureInfo: { category: 'usererror', code: 'JobPreparationTaskFailed', message: 'The job preparation task failed on this node; the task goes back to the queue.' },
        };
      }
      this.inner = runTask({ ...a, environment: { ...a.environment, ...jobTasks.prepVariables(a.jobId, spec.id) } }, ctx);
      return this.inner.done;
    })();
  }

  terminate(): void {
    this.ended = true;
    this.wake();
    this.inner?.terminate();
  }

  sample(): void {
    this.inner?.sample();
  }
}
