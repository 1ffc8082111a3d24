import type { PublishedRecord } from '../shared/events/records';

/**
 * Pure helpers of `batchplane events`: --since parsing, unwrapping event bodies, filters and the
 * one-line rendering of each service-log event.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO time (`2026-11-23T15:00:00Z`), a duration back from now (`10m`, `2h`, `90s`, `1d`) or an ISO-8601 duration (`PT10M`). */
export function parseSince(value: string, now: Date): Date {
  const v = value.trim();
  const short = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(v);
  if (short) return new Date(now.getTime() - Number(short[1]) * UNIT_MS[short[2]!]!);
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(v);
  if (iso && v.length > 1 && !/T$/i.test(v)) {
    const [, d, h, m, s] = iso;
    const ms = Number(d ?? 0) * UNIT_MS.d! + Number(h ?? 0) * UNIT_MS.h! + Number(m ?? 0) * UNIT_MS.m! + Number(s ?? 0) * 1000;
    return new Date(now.getTime() - ms);
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const t = new Date(v);
    if (!Number.isNaN(t.getTime())) return t;
  }
  throw new Error(`--since: expected an ISO time (2026-11-23T15:00:00Z) or a duration (10m, 2h, 1d, PT30M), got '${value}'`);
}

/** The records in one event body: Azure Monitor's `{ "records": [...] }`, a single record, or their JSON text/bytes. */
export function recordsOf(body: unknown): PublishedRecord[] {
  let b = body;
  if (Buffer.isBuffer(b) || b instanceof Uint8Array) b = Buffer.from(b).toString('utf8');
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b) as unknown;
    } catch {
      return [];
    }
  }
  if (!b || typeof b !== 'object') return [];
  const records = (b as { records?: unknown }).records;
  const list = Array.isArray(records) ? (records as unknown[]) : [b];
  return list.filter((r): r is PublishedRecord => !!r && typeof r === 'object' && typeof (r as PublishedRecord).operationName === 'string');
}

export interface EventFilter {
  pool?: string;
  job?: string;
  since?: Date;
}

interface Props {
  id?: string;
  jobId?: string;
  nodeInfo?: { poolId?: string; nodeId?: string };
  [k: string]: unknown;
}

/** --pool matches pool events of that pool and task events that ran on it; --job matches task events of that job. */
export function matches(r: PublishedRecord, f: EventFilter): boolean {
  const p = (r.properties ?? {}) as Props;
  const task = typeof p.jobId === 'string';
  if (f.job !== undefined && p.jobId !== f.job) return false;
  if (f.pool !== undefined && (task ? p.nodeInfo?.poolId : p.id) !== f.pool) return false;
  if (f.since && Date.parse(r.time) < f.since.getTime()) return false;
  return true;
}

function q(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

function kv(pairs: [string, unknown][]): string {
  return pairs.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${q(v)}`).join(' ');
}

function seconds(from: unknown, to: unknown): string | undefined {
  const ms = Date.parse(String(to)) - Date.parse(String(from));
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)}s` : undefined;
}

/** `2026-11-23T15:01:02.123Z PoolResizeCompleteEvent pool=p1 dedicated=2/2 lowPriority=0/0 result=Success` */
export function formatRecord(r: PublishedRecord): string {
  return `${r.time} ${r.operationName} ${details(r)}`.trimEnd();
}

function details(r: PublishedRecord): string {
  const p = (r.properties ?? {}) as Props & Record<string, unknown>;
  const x = (k: string): unknown => (p.executionInfo as Record<string, unknown> | undefined)?.[k];
  const counts = (): [string, unknown][] => [
    ['dedicated', `${String(p.currentDedicatedNodes)}/${String(p.targetDedicatedNodes)}`],
    ['lowPriority', `${String(p.currentLowPriorityNodes)}/${String(p.targetLowPriorityNodes)}`],
  ];
  const task = (): [string, unknown][] => [['job', p.jobId], ['task', p.id], ['pool', p.nodeInfo?.poolId], ['node', p.nodeInfo?.nodeId]];
  switch (r.operationName) {
    case 'PoolCreateEvent':
      return kv([['pool', p.id], ['vmSize', p.vmSize], ['dedicated', p.targetDedicatedNodes], ['lowPriority', p.targetLowPriorityNodes], ['slots', p.taskSlotsPerNode], ['autoScale', p.enableAutoScale]]);
    case 'PoolResizeStartEvent':
      return kv([['pool', p.id], ...counts(), ['deallocation', p.nodeDeallocationOption]]);
    case 'PoolResizeCompleteEvent':
      return kv([['pool', p.id], ...counts(), ['result', p.resultCode], ['took', seconds(p.startTime, p.endTime)], ['message', p.resultCode === 'Success' ? undefined : p.resultMessage]]);
    case 'PoolAutoScaleEvent': {
      const e = p.error as { code?: string; message?: string } | undefined;
      return kv([['pool', p.id], ['results', p.results], ['error', e?.code], ['message', e?.message]]);
    }
    case 'PoolDeleteStartEvent':
      return kv([['pool', p.id]]);
    case 'PoolDeleteCompleteEvent':
      return kv([['pool', p.id], ['took', seconds(p.startTime, p.endTime)]]);
    case 'TaskStartEvent':
      return kv([...task(), ['retry', x('retryCount')]]);
    case 'TaskCompleteEvent':
    case 'TaskFailEvent': {
      const f = x('failureInfo') as { code?: string } | undefined;
      return kv([...task(), ['exitCode', x('exitCode')], ['retry', x('retryCount')], ['failure', f?.code], ['took', seconds(x('startTime'), x('endTime'))]]);
    }
    case 'TaskScheduleFailEvent': {
      const e = p.schedulingError as { code?: string; message?: string } | undefined;
      return kv([...task(), ['error', e?.code], ['message', e?.message]]);
    }
    default:
      return JSON.stringify(p);
  }
}
