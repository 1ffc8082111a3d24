import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AGENT_ENV } from './protocol';
import { LocalNodeFiles } from './local-files';
import type { NodeLaunchSpec, NodeProvider, ProviderData, ServiceLogFile } from './provider';

/**
 * Node arguments every local agent starts with. The agent's live heap is a few MB, so a 1 MB
 * young generation (V8's default grows to 16 MB) costs no measurable CPU and keeps its peak RSS
 * at ~68 MB instead of ~90–99 MB while it spawns tasks (bench scenario 2).
 */
export const AGENT_NODE_DEFAULTS: readonly string[] = ['--max-semi-space-size=1'];

/**
 * The `local` node provider: every compute node is a separate node-agent process on this machine
 * with its own AZ_BATCH_NODE_ROOT_DIR under `<dataDir>/nodes/<pool>/<node>/`. Agents run in their
 * own process group, so a crashed control plane leaves them running (like VMs); `shutdown()`
 * stops every agent this process started.
 */
export class LocalNodeProvider implements NodeProvider {
  readonly kind = 'local';
  readonly files: LocalNodeFiles;
  private readonly started = new Map<string, number>();

  constructor(private readonly dataDir: string) {
    this.files = new LocalNodeFiles((p, n) => this.rootOf(p, n));
  }

  rootOf(poolId: string, nodeId: string): string {
    return path.join(this.dataDir, 'nodes', poolId, nodeId);
  }

  async launch(spec: NodeLaunchSpec): Promise<ProviderData> {
    const root = this.rootOf(spec.poolId, spec.nodeId);
    for (const d of ['shared', 'startup', 'workitems']) mkdirSync(path.join(root, d), { recursive: true });
    const logFile = this.logFile(spec.poolId, spec.nodeId);
    const logFd = openSync(logFile, 'a');
    const agentMain = path.resolve(__dirname, '../../agent/main.ts');
    // Extra Node arguments for the agents only (e.g. --cpu-prof to profile a bench run); they come
    // after the defaults, so a later --max-semi-space-size wins.
    const nodeArgs = [...AGENT_NODE_DEFAULTS, ...(process.env.BATCHPLANE_AGENT_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)];
    const child = spawn(process.execPath, [...nodeArgs, '--require', require.resolve('tsx/cjs'), agentMain], {
      cwd: root,
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: root,
        LANG: process.env.LANG ?? 'C.UTF-8',
        [AGENT_ENV.controlUrl]: spec.controlUrl,
        [AGENT_ENV.token]: spec.token,
        [AGENT_ENV.slots]: String(spec.taskSlotsPerNode),
        [AGENT_ENV.accountName]: spec.accountName,
        [AGENT_ENV.accountUrl]: spec.accountUrl,
        [AGENT_ENV.poolId]: spec.poolId,
        [AGENT_ENV.nodeId]: spec.nodeId,
        [AGENT_ENV.rootDir]: root,
        [AGENT_ENV.logFile]: logFile,
      },
    });
    closeSync(logFd);
    child.unref();
    const pid = child.pid ?? 0;
    this.started.set(`${spec.poolId}/${spec.nodeId}`, pid);
    writeFileSync(this.pidFile(spec.poolId, spec.nodeId), String(pid));
    return { pid, root };
  }

  async remove(poolId: string, nodeId: string, data: ProviderData): Promise<void> {
    const pid = Number(data.pid ?? this.started.get(`${poolId}/${nodeId}`) ?? 0);
    this.started.delete(`${poolId}/${nodeId}`);
    if (pid > 0) await stopProcessGroup(pid);
    rmSync(this.pidFile(poolId, nodeId), { force: true });
  }

  /**
   * Reboot / reimage of a local node: the agent's process group is stopped (its tasks die with it,
   * as on a VM that restarts), its log is rotated (`<node>.agent.<n>.log`, kept: service logs
   * survive a restart), a reimage empties the node root (a reinstalled OS keeps none of the node's
   * files; the agent recreates shared/, startup/ and workitems/), and the agent starts again.
   */
  async restart(spec: NodeLaunchSpec, data: ProviderData, options: { wipe: boolean }): Promise<ProviderData> {
    await this.remove(spec.poolId, spec.nodeId, data);
    const current = this.logFile(spec.poolId, spec.nodeId);
    if (existsSync(current)) renameSync(current, path.join(path.dirname(current), `${spec.nodeId}.agent.${this.rotatedLogs(spec.poolId, spec.nodeId).length + 1}.log`));
    if (options.wipe) rmSync(this.rootOf(spec.poolId, spec.nodeId), { recursive: true, force: true });
    return this.launch(spec);
  }

  async serviceLogs(poolId: string, nodeId: string): Promise<ServiceLogFile[]> {
    const names = [...this.rotatedLogs(poolId, nodeId).map((r) => r.name), `${nodeId}.agent.log`];
    const out: ServiceLogFile[] = [];
    for (const name of names) {
      const st = await stat(path.join(this.dataDir, 'nodes', poolId, name)).catch(() => undefined);
      if (st?.isFile()) out.push({ name, creationTime: st.birthtime.toISOString(), lastModified: st.mtime.toISOString() });
    }
    return out;
  }

  /** Rotated logs of a node, in rotation order. */
  private rotatedLogs(poolId: string, nodeId: string): { name: string; n: number }[] {
    const dir = path.join(this.dataDir, 'nodes', poolId);
    if (!existsSync(dir)) return [];
    const prefix = `${nodeId}.agent.`;
    return readdirSync(dir)
      .filter((f) => f.startsWith(prefix) && /^\d+\.log$/.test(f.slice(prefix.length)))
      .map((name) => ({ name, n: Number(name.slice(prefix.length, -'.log'.length)) }))
      .sort((a, b) => a.n - b.n);
  }

  private logFile(poolId: string, nodeId: string): string {
    return path.join(this.dataDir, 'nodes', poolId, `${nodeId}.agent.log`);
  }

  isAlive(data: ProviderData): boolean | undefined {
    const pid = Number(data.pid ?? 0);
    if (!pid) return undefined;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  private pidFile(poolId: string, nodeId: string): string {
    return path.join(this.dataDir, 'nodes', poolId, `${nodeId}.pid`);
  }

  /** Stops every agent of this data directory (pid files), including agents an earlier process started. */
  async shutdown(): Promise<void> {
    const pids = new Set(this.started.values());
    this.started.clear();
    const dir = path.join(this.dataDir, 'nodes');
    if (existsSync(dir)) {
      for (const pool of readdirSync(dir)) {
        for (const f of readdirSync(path.join(dir, pool)).filter((n) => n.endsWith('.pid'))) {
          const pid = Number(readFileSync(path.join(dir, pool, f), 'utf8'));
          if (pid > 0) pids.add(pid);
        }
      }
    }
    await Promise.all([...pids].map((pid) => stopProcessGroup(pid)));
  }
}

/** SIGTERM the agent's process group (agent and its tasks), SIGKILL after 3 s. */
export async function stopProcessGroup(pid: number): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(-pid, s);
    } catch {
      try {
        process.kill(pid, s);
      } catch {
        /* already gone */
      }
    }
  };
  if (!alive()) return;
  signal('SIGTERM');
  for (let i = 0; i < 60 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
  if (alive()) signal('SIGKILL');
}
