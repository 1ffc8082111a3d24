/**
 * `--profile <names>`: a V8 CPU profile of the benchmark process (local Functions host, storage
 * clients, benchmark client) taken only while the named scenarios run, through node:inspector.
 * Writes bench/results/profiles/<scenario>.cpuprofile (open it in Chrome DevTools or VS Code) and
 * returns a summary: self time by package / source file, and idle time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))));
}

export async function profiled<T>(name: string, dir: string, fn: () => Promise<T>, report: (line: string) => void): Promise<T> {
  const session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: 500 });
  await post(session, 'Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await post<{ profile: CpuProfile }>(session, 'Profiler.stop');
    session.disconnect();
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    report(`  profile of ${name}: ${path.relative(process.cwd(), file)}`);
    for (const line of summarize(profile)) report(`    ${line}`);
  }
}

/** Where a frame's code lives: a package (node_modules), a repository file, or a V8/Node category. */
function bucket(url: string, fn: string): string {
  if (!url) return fn || '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').replace(/\/.*$/, '');
  return url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '');
}

export function summarize(profile: CpuProfile, top = 15): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const n = byId.get(id);
    if (!n) return;
    const key = bucket(n.callFrame.url, n.callFrame.functionName);
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [`${(total / 1e6).toFixed(1)} s sampled; self time by package / file:`, ...rows.map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`)];
}
