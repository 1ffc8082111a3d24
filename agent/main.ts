/**
 * The node agent: one process per compute node. Run directly (`tsx agent/main.ts`) it reads its
 * configuration from the AGENT_ENV variables and runs until SIGTERM/SIGINT or a shutdown command;
 * `runAgent` runs it in-process (tests).
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { TaskCompletion } from '../shared/nodes/protocol';
import { ExchangeLoop, type ExchangeStats } from './client';
import { ConfigError, configFromEnv, type AgentConfig } from './config';
import { nodeEnvironment } from './environment';
import { nodeLayout } from './layout';
import { consoleLogger, type Logger, type LogLevel } from './log';
import { TaskPool } from './tasks';
import { StartTaskRunner } from './starttask';
import { JobTasks } from './jobtasks';
import { uploadServiceLogs } from './service-logs';
import { createTransport, type Transport } from './transport';
import { UsageSampler } from './usage';
import { AGENT_VERSION } from './version';

export type { AgentConfig } from './config';

export interface AgentDeps {
  log?: Logger;
  /** Environment the task base environment (PATH, LANG) is taken from (default process.env). */
  parentEnv?: Record<string, string | undefined>;
  transport?: Transport;
  fetch?: typeof fetch;
  idleWaitMs?: number;
  coalesceMs?: number;
  killGraceMs?: number;
  usageIntervalMs?: number;
  minPollIntervalMs?: number;
  requestSlackMs?: number;
  slowRetryMs?: number;
  /** How long stop() waits for the host to acknowledge the last completions (default 5000). */
  stopFlushMs?: number;
  now?: () => number;
  newId?: () => string;
  onTaskEvent?: (event: { kind: 'start' | 'end'; key: string }) => void;
  onCompletion?: (completion: TaskCompletion) => void;
}

export interface RunningAgent {
  /** Resolves once the agent has stopped (stop() or a shutdown command). */
  readonly done: Promise<void>;
  /** Ends running tasks, reports them (bounded by stopFlushMs) and stops exchanging. */
  stop(): Promise<void>;
  readonly stats: ExchangeStats;
}

export async function runAgent(config: AgentConfig, deps: AgentDeps = {}): Promise<RunningAgent> {
  const log = deps.log ?? consoleLogger();
  const node = nodeLayout(config.rootDir);
  await Promise.all([node.shared, node.startup, node.workitems].map((d) => mkdir(d, { recursive: true })));
  const killGraceMs = deps.killGraceMs ?? 5000;

  const runner = {
    identity: { accountName: config.accountName, accountUrl: config.accountUrl, poolId: config.poolId, nodeId: config.nodeId, isDedicated: config.isDedicated ?? true },
    node,
    baseEnv: nodeEnvironment(deps.parentEnv ?? process.env),
    killGraceMs,
    now: deps.now,
    log,
    fetch: deps.fetch,
  };
  const jobTasks = new JobTasks({ runner, onChange: () => loop.nudge() });
  const pool = new TaskPool({
    slots: config.slots,
    log,
    runner,
    run: (a) => jobTasks.run(a),
    onComplete: (c, slots) => {
      deps.onCompletion?.(c);
      loop.addCompletion(c, slots);
    },
    onTaskEvent: deps.onTaskEvent,
  });
  const startTask = new StartTaskRunner({
    runner: {
      identity: { accountName: config.accountName, accountUrl: config.accountUrl, poolId: config.poolId, nodeId: config.nodeId, isDedicated: config.isDedicated ?? true },
      node, baseEnv: nodeEnvironment(deps.parentEnv ?? process.env), killGraceMs, now: deps.now, log, fetch: deps.fetch,
    },
  });
  const usage = new UsageSampler(node.root);
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const loop: ExchangeLoop = new ExchangeLoop({
    transport: deps.transport ?? createTransport(config.controlUrl, config.poolId, config.nodeId, config.token),
    pool,
    log,
    agentVersion: AGENT_VERSION,
    idleWaitMs: deps.idleWaitMs,
    coalesceMs: deps.coalesceMs,
    usageIntervalMs: deps.usageIntervalMs,
    usage: () => usage.take(),
    minPollIntervalMs: deps.minPollIntervalMs,
    requestSlackMs: deps.requestSlackMs,
    slowRetryMs: deps.slowRetryMs,
    now: deps.now,
    newId: deps.newId,
    onShutdown: () => void stop(),
    startTask,
    jobTasks,
    onUploadServiceLogs: (cmd) => {
      if (config.logFile) void uploadServiceLogs(cmd, { nodeId: config.nodeId, logDir: path.dirname(config.logFile), log, fetch: deps.fetch });
      else log.warn('service log upload requested, but the agent has no log file', { virtualDirectoryName: cmd.virtualDirectoryName });
    },
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      loop.drain();
      pool.terminateAll();
      startTask.stop();
      jobTasks.stop();
      await Promise.race([pool.whenIdle(), delay(killGraceMs + 2000)]);
      await loop.flush(deps.stopFlushMs ?? 5000);
      loop.stop();
      log.info('agent stopped', { poolId: config.poolId, nodeId: config.nodeId });
      resolveDone();
    })();
    return stopping;
  };
  loop.start();
  log.info('agent started', { poolId: config.poolId, nodeId: config.nodeId, slots: config.slots, root: node.root, controlUrl: config.controlUrl });
  return { done, stop, stats: loop.stats };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

async function main(): Promise<void> {
  const level = (process.env.BATCHPLANE_AGENT_LOG_LEVEL ?? 'info') as LogLevel;
  const log = consoleLogger(['debug', 'info', 'warn', 'error'].includes(level) ? level : 'info');
  let config: AgentConfig;
  try {
    config = configFromEnv();
  } catch (err) {
    if (err instanceof ConfigError) {
      log.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const agent = await runAgent(config, { log });
  const onSignal = (signal: string): void => {
    log.info('signal received, stopping', { signal });
    void agent.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await agent.done;
  process.exit(0);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
