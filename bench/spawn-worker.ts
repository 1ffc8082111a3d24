/**
 * The baseline's spawning loop, run in a fresh Node process started like a local agent
 * (`node --require tsx/cjs …`), so that fork/exec costs what it costs in an agent and not what it
 * costs in the benchmark process (which hosts the control plane: fork time grows with the
 * parent's RSS). Each process is started exactly as agent/runner.ts starts a task (mode 'agent'):
 * mkdir of the working directory, stdout.txt/stderr.txt opened and passed as fds 1 and 2,
 * spawn with cwd, env and `detached: true`, then 'exit'. Mode 'bare' spawns with stdio ignored.
 *
 * argv[2] is JSON {count, concurrency, root, mode}; prints JSON {startMs, endMs, rssKb} (epoch ms).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';

export interface SpawnJob {
  count: number;
  concurrency: number;
  root: string;
  mode: 'agent' | 'bare';
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`/bin/true exited with ${code}`))));
  });
}

export async function agentLike(root: string, i: number, env: NodeJS.ProcessEnv): Promise<void> {
  const dir = path.join(root, `t${i}`);
  const wd = path.join(dir, 'wd');
  await mkdir(wd, { recursive: true });
  const [o, e] = await Promise.all([open(path.join(dir, 'stdout.txt'), 'w', 0o644), open(path.join(dir, 'stderr.txt'), 'w', 0o644)]);
  let child: ChildProcess;
  try {
    child = spawn('/bin/true', [], { cwd: wd, env, stdio: ['ignore', o.fd, e.fd], detached: true });
  } finally {
    void o.close().catch(() => undefined);
    void e.close().catch(() => undefined);
  }
  await exited(child);
}

export const bare = (): Promise<void> => exited(spawn('/bin/true', [], { stdio: 'ignore', detached: true }));

export async function spawnMany(job: SpawnJob): Promise<{ startMs: number; endMs: number }> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', AZ_BATCH_TASK_ID: 'baseline' };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < job.count) {
      const i = next++;
      await (job.mode === 'agent' ? agentLike(job.root, i, env) : bare());
    }
  };
  const startMs = Date.now();
  await Promise.all(Array.from({ length: Math.min(job.concurrency, job.count) }, lane));
  return { startMs, endMs: Date.now() };
}

if (require.main === module) {
  const job = JSON.parse(process.argv[2] ?? '{}') as SpawnJob;
  spawnMany(job).then(
    (r) => process.stdout.write(`${JSON.stringify({ ...r, rssKb: Math.round(process.memoryUsage().rss / 1024) })}\n`),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
