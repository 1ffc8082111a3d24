/**
 * A timing probe on the control plane's table calls, installed from outside (no source change):
 * each EntityTable instance of `rt.storage.tables` gets its methods wrapped to record a duration
 * per `<table>.<method>`, and the number of actions of every transaction. Used by scenario 2 to
 * show where an exchange's time goes; the figures also go to the JSON report.
 */
import type { StorageContext } from '../shared/storage/context';
import { percentile, round } from './support';

const METHODS = ['get', 'create', 'update', 'upsert', 'delete', 'page', 'transact'] as const;

export interface ProbeStats {
  calls: number;
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
  totalMs: number;
  /** transact only: mean actions per transaction. */
  meanActions?: number;
}

export class StorageProbe {
  private samples = new Map<string, number[]>();
  private actions: number[] = [];

  constructor(storage: StorageContext) {
    for (const [name, table] of Object.entries(storage.tables)) {
      const t = table as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
      for (const m of METHODS) {
        const original = t[m]!.bind(table);
        t[m] = async (...args: unknown[]): Promise<unknown> => {
          const a = performance.now();
          try {
            return await original(...args);
          } finally {
            this.record(`${name}.${m}${m === 'page' && name === 'tasks' ? `[${kindOf(String(args[0]))}]` : ''}`, performance.now() - a);
            if (m === 'transact' && Array.isArray(args[0])) {
              this.actions.push(args[0].length);
              if (name === 'tasks') this.record(`tasks.transact[${txKindOf(args[0] as [string, { rowKey: string }][])}]`, 0);
            }
          }
        };
      }
    }
  }

  private record(key: string, ms: number): void {
    const list = this.samples.get(key) ?? [];
    list.push(ms);
    this.samples.set(key, list);
  }

  reset(): void {
    this.samples.clear();
    this.actions = [];
  }

  snapshot(): Record<string, ProbeStats> {
    const out: Record<string, ProbeStats> = {};
    for (const [key, list] of [...this.samples].sort((a, b) => b[1].length - a[1].length)) {
      const total = list.reduce((s, v) => s + v, 0);
      out[key] = { calls: list.length, p50Ms: round(percentile(list, 50)), p95Ms: round(percentile(list, 95)), meanMs: round(total / list.length), totalMs: round(total, 0) };
    }
    const all = [...this.samples].filter(([k]) => k.endsWith('.transact')).flatMap(([, v]) => v);
    if (all.length) {
      const total = all.reduce((s, v) => s + v, 0);
      out['*.transact'] = {
        calls: all.length, p50Ms: round(percentile(all, 50)), p95Ms: round(percentile(all, 95)), meanMs: round(total / all.length), totalMs: round(total, 0),
        meanActions: round(this.actions.reduce((s, v) => s + v, 0) / Math.max(1, this.actions.length), 1),
      };
    }
    return out;
  }
}

/** What a tasks-table query reads, from its RowKey range (keys.ts): counters, chunks, outbox, status rows or task rows. */
function kindOf(filter: string): string {
  for (const [prefix, kind] of [["'!c!'", 'counters'], ["'!q!", 'chunks'], ["'!l!'", 'outbox'], ["'!p!'", 'job-task status'], ["'!~'", 'task rows']] as const) if (filter.includes(prefix)) return kind;
  return 'other';
}

/** What a tasks-table transaction does: adds tasks, claims (advances a chunk), or only completes/changes tasks. */
function txKindOf(actions: [string, { rowKey: string }][]): string {
  if (actions.some(([op, row]) => op === 'create' && !row.rowKey.startsWith('!'))) return 'add';
  if (actions.some(([op, row]) => op === 'update' && row.rowKey.startsWith('!q!'))) return 'claim';
  if (actions.some(([op, row]) => op === 'delete' && row.rowKey.startsWith('!q!'))) return 'chunk drop';
  return 'complete/other';
}
