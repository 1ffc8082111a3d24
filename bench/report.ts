/**
 * The one table `npm run bench` prints and the JSON it writes. Targets are shown with ✓/✗ and
 * never asserted; a failed scenario is one FAILED row and the others are reported as usual.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Metric, Target } from './support';

export interface ScenarioResult {
  name: string;
  title: string;
  status: 'ok' | 'failed';
  durationMs: number;
  metrics: Metric[];
  error?: string;
}

export interface BenchReport {
  date: string;
  startedAt: string;
  finishedAt: string;
  options: { quick: boolean; only: string[] | null };
  machine: { cpus: number; cpuModel: string; memoryMB: number; node: string; platform: string; commit: string; loadAverage: { start: number[]; end: number[] } };
  stack: { azurite: string; host: string };
  scenarios: ScenarioResult[];
  /** Diagnostics behind the table (table-call latencies of scenario 2, per-agent RSS). */
  details: Record<string, unknown>;
  hostLog: { warnings: number; errors: number; first: string[] };
  psCheck: { clean: boolean; line: string; leftovers: { pid: number; args: string }[] };
}

export function met(m: Metric): boolean | undefined {
  if (!m.target || m.value === null) return m.target ? false : undefined;
  return m.target.op === '>=' ? m.value >= m.target.value : m.value <= m.target.value;
}

const fmtTarget = (t: Target | undefined, unit: string): string => (t ? `${t.op === '>=' ? '≥' : '≤'} ${fmtNum(t.value)}${unit ? ` ${unit}` : ''}` : '');

function fmtNum(v: number): string {
  if (Math.abs(v) >= 10_000) return Math.round(v).toLocaleString('en-US');
  return String(v);
}

const fmtValue = (m: Metric): string => (m.value === null ? 'n/a' : `${fmtNum(m.value)}${m.unit ? ` ${m.unit}` : ''}`);

/** Display width, counting the one-column symbols as one. */
const width = (s: string): number => [...s].length;
const pad = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - width(s)));
const padLeft = (s: string, w: number): string => ' '.repeat(Math.max(0, w - width(s))) + s;

export function renderTable(report: BenchReport): string {
  const rows: string[][] = [];
  for (const s of report.scenarios) {
    if (s.status === 'failed') {
      rows.push([s.title, 'FAILED', '', '', '✗', (s.error ?? '').split('\n')[0]!.slice(0, 160)]);
      continue;
    }
    s.metrics.forEach((m, i) => {
      const ok = met(m);
      rows.push([i === 0 ? s.title : '', m.name, fmtValue(m), fmtTarget(m.target, m.unit), ok === undefined ? '' : ok ? '✓' : '✗', m.note ?? '']);
    });
  }
  const head = ['Scenario', 'Figure', 'Value', 'Target', '', 'Note'];
  const widths = head.map((h, c) => Math.max(width(h), ...rows.map((r) => width(r[c]!))));
  const line = (r: string[]): string =>
    r
      .map((cell, c) => (c === 2 ? padLeft(cell, widths[c]!) : pad(cell, widths[c]!)))
      .join(' │ ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('─┼─');
  const out = [line(head), rule];
  let prev = '';
  for (const r of rows) {
    if (r[0] && prev) out.push(rule);
    out.push(line(r));
    prev = r[0] || prev;
  }
  const m = report.machine;
  const targets = report.scenarios.flatMap((s) => s.metrics).filter((x) => x.target);
  const hit = targets.filter((x) => met(x)).length;
  const failed = report.scenarios.filter((s) => s.status === 'failed').map((s) => s.name);
  return [
    `batchplane bench ${report.date}${report.options.quick ? ' (--quick: 1/10 sizes)' : ''} — ${m.cpus} × ${m.cpuModel}, ${m.memoryMB} MB, Node ${m.node}, ${m.platform}, commit ${m.commit}`,
    `stack: ${report.stack.host}; storage: ${report.stack.azurite}`,
    `load average (1/5/15 min) at start ${m.loadAverage.start.join(' / ')}, at end ${m.loadAverage.end.join(' / ')} (other work on this machine shares its ${m.cpus} CPUs)`,
    '',
    ...out,
    '',
    `targets met: ${hit} of ${targets.length}${failed.length ? `; failed scenarios: ${failed.join(', ')}` : ''}; host log: ${report.hostLog.warnings} warnings, ${report.hostLog.errors} errors`,
    report.psCheck.line,
  ].join('\n');
}

/** Writes bench/results/<date><suffix>.json, latest<suffix>.json and the --json path if any. */
export function writeReport(report: BenchReport, resultsDir: string, extraPath: string | undefined): string[] {
  const suffix = `${report.options.quick ? '-quick' : ''}${report.options.only ? '-only' : ''}`;
  mkdirSync(resultsDir, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const paths = [path.join(resultsDir, `${report.date}${suffix}.json`), path.join(resultsDir, `latest${suffix}.json`)];
  if (extraPath) paths.push(path.resolve(extraPath));
  for (const p of paths) {
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return paths;
}
