import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';

/** The well-known Azurite development account. */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** Directory for persisted data; omitted means in-memory persistence. */
  location?: string;
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
}

export interface RunningAzurite {
  blobPort: number;
  queuePort: number;
  tablePort: number;
  connectionString: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function connectionStringFor(ports: { blobPort: number; queuePort: number; tablePort: number }): string {
  const h = 'http://127.0.0.1';
  return (
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
    `BlobEndpoint=${h}:${ports.blobPort}/${DEV_ACCOUNT};QueueEndpoint=${h}:${ports.queuePort}/${DEV_ACCOUNT};` +
    `TableEndpoint=${h}:${ports.tablePort}/${DEV_ACCOUNT};`
  );
}

/**
 * Starts Azurite 3.35.0 as a child process on loopback, telemetry off, API-version check off.
 * Port 0 picks free ports; the real ones are parsed from Azurite's output.
 */
export async function startAzurite(opts: AzuriteOptions = {}): Promise<RunningAzurite> {
  const entry = require.resolve('azurite/dist/src/azurite.js');
  const args = [
    entry,
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    // No access-log line per request: nothing reads them, and writing them costs Azurite CPU.
    '--silent',
    '--blobHost', '127.0.0.1', '--blobPort', String(opts.blobPort ?? 0),
    '--queueHost', '127.0.0.1', '--queuePort', String(opts.queuePort ?? 0),
    '--tableHost', '127.0.0.1', '--tablePort', String(opts.tablePort ?? 0),
  ];
  if (opts.location) {
    mkdirSync(opts.location, { recursive: true });
    args.push('--location', opts.location);
  } else {
    args.push('--inMemoryPersistence');
  }
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ports: Record<string, number> = {};
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Azurite did not start in time:\n${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      for (const m of output.matchAll(/Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/g)) {
        ports[m[1]!] = Number(m[2]);
      }
      if (ports.Blob && ports.Queue && ports.Table) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code}:\n${output}`));
    });
  });
  // Ports known: stop collecting output (kept, the string would grow with every line Azurite
  // prints), but keep draining both pipes so Azurite never blocks on a full one.
  child.stdout!.removeAllListeners('data');
  child.stderr!.removeAllListeners('data');
  child.removeAllListeners('exit');
  child.stdout!.resume();
  child.stderr!.resume();
  const p = { blobPort: ports.Blob!, queuePort: ports.Queue!, tablePort: ports.Table! };
  return {
    ...p,
    connectionString: connectionStringFor(p),
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
