/**
 * The pool's start task on this node. The host sends it in the answer to the agent's boot
 * exchange (the node joined, or its agent restarted after a reboot/reimage); the agent runs it
 * once per boot with the task runner, in the node's startup directory as on an Azure Batch Linux
 * node:
 *
 *   <root>/startup              AZ_BATCH_NODE_STARTUP_DIR = AZ_BATCH_TASK_DIR (stdout.txt, stderr.txt)
 *   <root>/startup/wd           AZ_BATCH_TASK_WORKING_DIR (cwd; the resource files go here)
 *
 * A failed run (nonzero exit code, or resource files that cannot be downloaded) is run again up
 * to maxTaskRetryCount times (-1: without limit), after RETRY_DELAY_MS. Its latest state is sent
 * with every exchange (`startTaskInfo`); the host moves the node out of waitingforstarttask.
 * AZ_BATCH_JOB_ID and AZ_BATCH_TASK_ID are not set for a start task (as on Azure).
 */
import * as path from 'node:path';
import type { StartTaskReport, StartTaskSpec, TaskAssignment } from '../shared/nodes/protocol';
import { reservedTaskVariables } from './environment';
import { STDERR_FILE, STDOUT_FILE, type TaskLayout } from './layout';
import { runTask, type RunnerContext, type TaskRun } from './runner';

const RETRY_DELAY_MS = 500;
const START_TASK_ID = 'starttask';

export interface StartTaskOptions {
  runner: RunnerContext;
  retryDelayMs?: number;
  /** Called whenever the report changes (running → completed, each retry). */
  onChange?: (report: StartTaskReport) => void;
}

export class StartTaskRunner {
  private info: StartTaskReport | undefined;
  private current: TaskRun | undefined;
  private started = false;
  private stopped = false;
  private finished!: () => void;
  /** Resolves when the start task has completed (after its retries) or was stopped. */
  readonly done = new Promise<void>((r) => (this.finished = r));

  constructor(private readonly o: StartTaskOptions) {}

  /** The latest run, for the next exchange (undefined until the start task started). */
  report(): StartTaskReport | undefined {
    return this.info;
  }

  /** Runs the start task (once per agent process: a repeated boot answer is ignored). */
  start(spec: StartTaskSpec): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.loop(spec).finally(() => this.finished());
  }

  /** Ends a running start task (the agent is stopping); nothing more is reported. */
  stop(): void {
    this.stopped = true;
    this.current?.terminate();
    if (!this.started) this.finished();
  }

  private async loop(spec: StartTaskSpec): Promise<void> {
    const now = this.o.runner.now ?? Date.now;
    const placement = { layout: startTaskLayout(this.o.runner), environment: startTaskEnvironment(this.o.runner, spec) };
    let lastRetryTime: string | undefined;
    for (let retry = 0; ; retry++) {
      const retryFields = { retryCount: retry, ...(lastRetryTime ? { lastRetryTime } : {}) };
      this.set({ state: 'running', startTime: new Date(now()).toISOString(), ...retryFields });
      const assignment: TaskAssignment = {
        jobId: START_TASK_ID, taskId: START_TASK_ID, claim: '', retryCount: retry,
        commandLine: spec.commandLine, resourceFiles: spec.resourceFiles, environment: {}, requiredSlots: 1,
      };
      this.current = runTask(assignment, this.o.runner, placement);
      const c = await this.current.done;
      this.current = undefined;
      if (this.stopped) return;
      const last = c.result === 'success' || (spec.maxTaskRetryCount >= 0 && retry >= spec.maxTaskRetryCount);
      if (last) {
        this.set({
          state: 'completed', startTime: c.startTime, endTime: c.endTime,
          ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
          result: c.result,
          ...(c.failureInfo ? { failureInfo: c.failureInfo } : {}),
          ...retryFields,
        });
        this.o.runner.log.info('start task completed', { result: c.result, exitCode: c.exitCode, retryCount: retry });
        return;
      }
      this.o.runner.log.info('start task failed, retrying', { exitCode: c.exitCode, retryCount: retry });
      await new Promise((r) => setTimeout(r, this.o.retryDelayMs ?? RETRY_DELAY_MS));
      if (this.stopped) return;
      lastRetryTime = new Date(now()).toISOString();
    }
  }

  private set(info: StartTaskReport): void {
    this.info = info;
    this.o.onChange?.(info);
  }
}

/** The `startTask` of an exchange response, checked (absent or malformed: none). */
export function parseStartTask(v: unknown): { startTask?: StartTaskSpec } {
  if (typeof v !== 'object' || v === null) return {};
  const o = v as Record<string, unknown>;
  if (typeof o.commandLine !== 'string') return {};
  const env = typeof o.environment === 'object' && o.environment !== null ? (o.environment as Record<string, string>) : {};
  return {
    startTask: {
      commandLine: o.commandLine,
      resourceFiles: Array.isArray(o.resourceFiles) ? (o.resourceFiles as StartTaskSpec['resourceFiles']) : [],
      environment: env,
      maxTaskRetryCount: typeof o.maxTaskRetryCount === 'number' ? o.maxTaskRetryCount : 0,
      waitForSuccess: o.waitForSuccess !== false,
      elevationLevel: o.elevationLevel === 'admin' ? 'admin' : 'nonadmin',
      scope: o.scope === 'task' ? 'task' : 'pool',
    },
  };
}

export function startTaskLayout(ctx: Pick<RunnerContext, 'node'>): TaskLayout {
  const dir = ctx.node.startup;
  return { taskDir: dir, workingDir: path.join(dir, 'wd'), stdoutPath: path.join(dir, STDOUT_FILE), stderrPath: path.join(dir, STDERR_FILE) };
}

/** The start task's environment: base, HOME, its settings, then the service variables (which win). */
export function startTaskEnvironment(ctx: Pick<RunnerContext, 'baseEnv' | 'identity' | 'node'>, spec: StartTaskSpec): Record<string, string> {
  const layout = startTaskLayout(ctx);
  const env: Record<string, string> = { ...ctx.baseEnv, HOME: layout.taskDir };
  for (const [name, value] of Object.entries(spec.environment)) {
    if (name !== '' && !name.includes('=') && !name.includes('\0') && typeof value === 'string' && !value.includes('\0')) env[name] = value;
  }
  const reserved = reservedTaskVariables(ctx.identity, ctx.node, '', '', layout);
  delete reserved.AZ_BATCH_JOB_ID;
  delete reserved.AZ_BATCH_TASK_ID;
  const scope = spec.scope === 'task' ? 'Task' : 'Pool';
  reserved.AZ_BATCH_TASK_USER_IDENTITY = `${scope}${spec.elevationLevel === 'admin' ? 'Admin' : 'NonAdmin'}`;
  return Object.assign(env, reserved);
}
