/**
 * The benchmark's own Azurite: the same 3.35.0 with the same flags as infra/local/azurite.ts, plus
 * `--silent` (no access-log line per request), and its output is no longer read once the ports
 * are known. infra/local/azurite.ts keeps a 'data' listener that appends every access-log line to
 * a string and re-runs the port regex over the whole string for each chunk: quadratic in the
 * number of storage requests, in the host process (replayed with one line per chunk: 1,000
 * requests 40 ms, 5,000 requests 7.5 s, 20,000 requests 91 s of CPU). In an early quick run with
 * ~5,800 storage requests it was 15% of the host's CPU; a full run makes tens of thousands.
 * `--stack-azurite` uses startStack's own launcher instead, to compare.
 */
import { spawn } from 'node:child_process';
import { connectionStringFor } from '../infra/local/azurite';

export interface BenchAzurite {
  pid: number;
  connectionString: string;
  stop(): Promise<void>;
}

export async function startSilentAzurite(): Promise<BenchAzurite> {
  const entry = require.resolve('azurite/dist/src/azurite.js');
  const args = [entry, '--disableTelemetry', '--skipApiVersionCheck', '--loose', '--silent', '--inMemoryPersistence'];
  for (const s of ['blob', 'queue', 'table']) args.push(`--${s}Host`, '127.0.0.1', `--${s}Port`, '0');
  // BENCH_AZURITE_CPU_PROF=<dir>: a V8 CPU profile of Azurite, written when it exits.
  const prof = process.env.BENCH_AZURITE_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_AZURITE_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const ports: Record<string, number> = {};
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Azurite did not start in time:\n${output}`)), 30_000);
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        for (const m of output.matchAll(/Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/g)) ports[m[1]!] = Number(m[2]);
        if (ports.Blob && ports.Queue && ports.Table) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Azurite exited with ${code}:\n${output}`));
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  // Keep draining the pipes (so Azurite never blocks on a full pipe) without keeping anything.
  child.stdout.removeAllListeners('data');
  child.stderr.removeAllListeners('data');
  child.stdout.resume();
  child.stderr.resume();
  child.removeAllListeners('exit');
  return {
    pid: child.pid ?? 0,
    connectionString: connectionStringFor({ blobPort: ports.Blob!, queuePort: ports.Queue!, tablePort: ports.Table! }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
