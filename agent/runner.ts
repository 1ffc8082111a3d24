/**
 * Runs one task assignment on this node:
 *  1. split the command line (no shell) and compute the task's directories;
 *  2. create wd (the task directory is reused on retry) and download the resource files into it;
 *  3. open stdout.txt/stderr.txt (truncated) and spawn argv[0] with cwd = wd, the task
 *     environment, and the two files as fds 1 and 2 (the output never passes through the agent);
 *     the child gets its own process group so that terminate/timeout kill the whole tree;
 *  4. on exit, build the TaskCompletion (result success iff exit code 0);
 *  5. after the process exited: upload the task's outputFiles whose condition the exit code meets
 *     (outputs.ts; a failed upload makes the result failure with FileUploadMiscError), then
 *     schedule the task directory's deletion after retentionTime (retention.ts; job tasks only).
 * maxWallClockSeconds counts from the start of step 1: SIGTERM to the group, SIGKILL after the
 * grace period, exit code 0xC000013A and failureInfo {servererror, TaskEnded} as Azure documents.
 * A terminate command does the same and reports the exit code it observes (128+signal when the
 * process died of the signal) with failureInfo {usererror, TaskEnded}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import type { TaskAssignment, TaskCompletion, TaskFailureInfo } from '../shared/nodes/protocol';
import { parseCommandLine } from './cmdline';
import { taskEnvironment, type NodeIdentity } from './environment';
import { FailureCodes, serverError, TaskFailure, userError, WALL_CLOCK_EXIT_CODE } from './failures';
import { taskLayout, UnsafeIdError, type NodeLayout, type TaskLayout } from './layout';
import type { Logger } from './log';
import { sampleProcess, type ProcStats } from './procstats';
import { uploadOutputFiles } from './outputs';
import { nodeRetention, type RetentionTimers } from './retention';

/** Process statistics are sampled every EARLY_SAMPLE_MS during a task's first EARLY_SAMPLING_FOR_MS (then by the node's periodic sampler). */
const EARLY_SAMPLE_MS = 50;
const EARLY_SAMPLING_FOR_MS = 1000;
import { downloadResourceFiles } from './resources';

export interface RunnerContext {
  identity: NodeIdentity;
  node: NodeLayout;
  /** nodeEnvironment(): PATH and LANG of every task. */
  baseEnv: Readonly<Record<string, string>>;
  /** Time between SIGTERM and SIGKILL when a task is ended (default 5000). */
  killGraceMs?: number;
  now?: () => number;
  log: Logger;
  fetch?: typeof fetch;
  /** Task directory retention timers (default: the agent process's). */
  retention?: RetentionTimers;
}

export interface TaskRun {
  readonly key: string;
  readonly assignment: TaskAssignment;
  /** Ends the task (terminate command). Safe to call at any time, any number of times. */
  terminate(): void;
  /** Takes a /proc sample of the running process (called periodically by the pool). */
  sample(): void;
  readonly done: Promise<TaskCompletion>;
}

export function taskKey(jobId: string, taskId: string): string {
  return `${jobId}/${taskId}`;
}

type EndReason = 'timeout' | 'terminate';

/** A run outside the jobs' layout (the start task, agent/starttask.ts): its directories and its whole environment. */
export interface RunPlacement {
  layout: TaskLayout;
  environment: Record<string, string>;
}

export function runTask(assignment: TaskAssignment, ctx: RunnerContext, placement?: RunPlacement): TaskRun {
  return new Run(assignment, ctx, placement);
}

class Run implements TaskRun {
  readonly key: string;
  readonly done: Promise<TaskCompletion>;
  private readonly now: () => number;
  private readonly abort = new AbortController();
  private child: ChildProcess | undefined;
  private endReason: EndReason | undefined;
  private wallTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private stats: ProcStats | undefined;
  private finished = false;
  /** Set once the task's directories and environment are known (step 3). */
  private prepared: { layout: TaskLayout; env: Record<string, string> } | undefined;

  constructor(
    readonly assignment: TaskAssignment,
    private readonly ctx: RunnerContext,
    private readonly placement?: RunPlacement,
  ) {
    this.key = taskKey(assignment.jobId, assignment.taskId);
    this.now = ctx.now ?? Date.now;
    this.done = this.run();
  }

  terminate(): void {
    this.end('terminate');
  }

  sample(): void {
    const pid = this.child?.pid;
    if (pid !== undefined && !this.finished) this.stats = sampleProcess(pid, this.stats);
  }

  private async run(): Promise<TaskCompletion> {
    const a = this.assignment;
    const retention = this.ctx.retention ?? nodeRetention;
    let dir: string | undefined;
    try {
      dir = this.placement ? undefined : taskLayout(this.ctx.node, a.jobId, a.taskId).taskDir;
      if (dir) retention.cancel(dir);
    } catch {
      // an unsafe id: execute() reports it
    }
    const completion = await this.afterExit(await this.execute());
    if (dir) retention.schedule(dir, a.retentionSeconds, this.now);
    return completion;
  }

  /** Step 5: output files, once the process has exited (no exit code = it never ran: nothing to upload). */
  private async afterExit(c: TaskCompletion): Promise<TaskCompletion> {
    const files = this.assignment.outputFiles;
    if (!files?.length || c.exitCode === undefined || !this.prepared) return c;
    try {
      await uploadOutputFiles(files, { taskDir: this.prepared.layout.taskDir, workingDir: this.prepared.layout.workingDir, env: this.prepared.env, exitCode: c.exitCode });
      return c;
    } catch (err) {
      const info = err instanceof TaskFailure ? err.info : userError(FailureCodes.FileUploadMiscError, `Uploading output files failed: ${String(err)}`);
      this.ctx.log.warn('output file upload failed', { task: this.key, code: info.code, message: info.message });
      return { ...c, result: 'failure', failureInfo: info };
    }
  }

  private async execute(): Promise<TaskCompletion> {
    const a = this.assignment;
    const startMs = this.now();
    const complete = (fields: Pick<TaskCompletion, 'result'> & Partial<TaskCompletion>): TaskCompletion => {
      this.finished = true;
      if (this.wallTimer) clearTimeout(this.wallTimer);
      if (this.killTimer) clearTimeout(this.killTimer);
      const c: TaskCompletion = {
        jobId: a.jobId,
        taskId: a.taskId,
        claim: a.claim,
        startTime: new Date(startMs).toISOString(),
        endTime: new Date(this.now()).toISOString(),
        ...fields,
      };
      if (this.stats) c.stats = this.stats;
      return c;
    };
    const failed = (failureInfo: TaskFailureInfo): TaskCompletion => complete({ result: 'failure', failureInfo });
    // Ended (terminate/timeout) before the process started: no exit code.
    const endedEarly = (): TaskCompletion =>
      complete(this.endReason === 'timeout' ? { result: 'failure', failureInfo: this.endedInfo(), timedOut: true } : { result: 'failure', failureInfo: this.endedInfo() });

    if (a.maxWallClockSeconds !== undefined && a.maxWallClockSeconds > 0) {
      const ms = Math.min(a.maxWallClockSeconds * 1000, 2 ** 31 - 1);
      this.wallTimer = setTimeout(() => this.end('timeout'), ms);
    }

    // 1. command line and directories
    const parsed = parseCommandLine(a.commandLine);
    if (!parsed.ok) return failed(userError(FailureCodes.InvalidCommandLine, parsed.message));
    let layout;
    try {
      layout = this.placement?.layout ?? taskLayout(this.ctx.node, a.jobId, a.taskId);
    } catch (err) {
      if (err instanceof UnsafeIdError) return failed(userError(FailureCodes.InvalidTaskId, err.message));
      throw err;
    }

    // 2. working directory and resource files
    try {
      await mkdir(layout.workingDir, { recursive: true });
    } catch (err) {
      return failed(serverError(FailureCodes.TaskPreparationFailed, `Creating the task directory failed: ${(err as Error).message}`));
    }
    if (a.resourceFiles.length > 0) {
      try {
        await downloadResourceFiles(a.resourceFiles, { workingDir: layout.workingDir, signal: this.abort.signal, fetch: this.ctx.fetch });
      } catch (err) {
        if (this.endReason) return endedEarly();
        if (err instanceof TaskFailure) return failed(err.info);
        return failed(userError(FailureCodes.BlobDownloadMiscError, `Downloading resource files failed: ${String(err)}`));
      }
    }
    if (this.endReason) return endedEarly();

    // 3. spawn with the output files as fds 1 and 2
    const [program, ...args] = parsed.argv;
    const env = this.placement?.environment ?? taskEnvironment(this.ctx.baseEnv, this.ctx.identity, this.ctx.node, a.jobId, a.taskId, layout, a.environment);
    this.prepared = { layout, env };
    let files: [FileHandle, FileHandle];
    try {
      files = await openOutputs(layout.stdoutPath, layout.stderrPath);
    } catch (err) {
      return failed(serverError(FailureCodes.TaskPreparationFailed, `Opening stdout.txt/stderr.txt failed: ${(err as Error).message}`));
    }
    if (this.endReason) {
      closeQuietly(files);
      return endedEarly();
    }
    let child: ChildProcess;
    try {
      child = spawn(program, args, { cwd: layout.workingDir, env, stdio: ['ignore', files[0].fd, files[1].fd], detached: true });
    } catch (err) {
      return failed(spawnFailure(err));
    } finally {
      closeQuietly(files);
    }
    this.child = child;
    // Short tasks end before the node's periodic sample: sample every 50 ms during the first second.
    const early = setInterval(() => this.sample(), EARLY_SAMPLE_MS);
    const earlyEnd = setTimeout(() => clearInterval(early), EARLY_SAMPLING_FOR_MS);

    // 4. wait for the exit
    const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: unknown }>((resolve) => {
      child.once('error', (error) => resolve({ error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    clearInterval(early);
    clearTimeout(earlyEnd);
    if ('error' in outcome) return failed(spawnFailure(outcome.error));
    if (this.endReason) this.killGroup('SIGKILL'); // leftovers of the tree
    const exitCode = outcome.code ?? 128 + (outcome.signal ? (osConstants.signals[outcome.signal] ?? 0) : 0);
    if (this.endReason === 'timeout') {
      return complete({ result: 'failure', exitCode: WALL_CLOCK_EXIT_CODE, timedOut: true, failureInfo: this.endedInfo() });
    }
    if (this.endReason === 'terminate') return complete({ result: 'failure', exitCode, failureInfo: this.endedInfo() });
    if (exitCode === 0) return complete({ result: 'success', exitCode });
    return complete({
      result: 'failure',
      exitCode,
      failureInfo: userError(FailureCodes.FailureExitCode, 'The task exited with an exit code representing a failure'),
    });
  }

  private endedInfo(): TaskFailureInfo {
    return this.endReason === 'timeout'
      ? serverError(FailureCodes.TaskEnded, 'The task exceeded its maximum wall clock time and was terminated')
      : userError(FailureCodes.TaskEnded, 'The task was terminated by request');
  }

  private end(reason: EndReason): void {
    if (this.finished || this.endReason) return;
    this.endReason = reason;
    this.ctx.log.info('ending task', { task: this.key, reason });
    this.abort.abort(new Error(`task ${reason}`));
    if (this.child?.pid !== undefined) {
      this.killGroup('SIGTERM');
      this.killTimer = setTimeout(() => this.killGroup('SIGKILL'), this.ctx.killGraceMs ?? 5000);
    }
  }

  private killGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is gone already
    }
  }
}

/** The completion of a task that was terminated while it waited for a slot. */
export function terminatedBeforeStart(a: TaskAssignment, nowMs: number): TaskCompletion {
  const t = new Date(nowMs).toISOString();
  return {
    jobId: a.jobId,
    taskId: a.taskId,
    claim: a.claim,
    startTime: t,
    endTime: t,
    result: 'failure',
    failureInfo: userError(FailureCodes.TaskEnded, 'The task was terminated by request'),
  };
}

function spawnFailure(err: unknown): TaskFailureInfo {
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ENOENT') return userError(FailureCodes.CommandProgramNotFound, `The program of the command line was not found: ${message}`);
  return userError(FailureCodes.CommandProgramStartFailed, `The program of the command line could not be started: ${message}`);
}

/** Opens (truncating) stdout.txt and stderr.txt; the fds go to the child, not through the agent. */
async function openOutputs(stdoutPath: string, stderrPath: string): Promise<[FileHandle, FileHandle]> {
  const [o, e] = await Promise.allSettled([open(stdoutPath, 'w', 0o644), open(stderrPath, 'w', 0o644)]);
  if (o.status === 'fulfilled' && e.status === 'fulfilled') return [o.value, e.value];
  if (o.status === 'fulfilled') void o.value.close().catch(() => undefined);
  if (e.status === 'fulfilled') void e.value.close().catch(() => undefined);
  throw o.status === 'rejected' ? o.reason : (e as PromiseRejectedResult).reason;
}

function closeQuietly(files: FileHandle[]): void {
  for (const f of files) void f.close().catch(() => undefined);
}
