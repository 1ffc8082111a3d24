import { METRIC_NAMES, type MetricSample } from '../domain/metrics';
import { idKey, odataString, sampleKey, sampleTimeOf } from './keys';
import type { EntityTable, Row } from './table';

/**
 * The metrics table: partition = the pool's idKey, one row per sampling period, RowKey = inverted time so
 * the newest sample lists first. Each metric is its own numeric column (absent = missing sample);
 * `jobs` holds the per-job succeeded/failed baseline as JSON.
 */
export function sampleToRow(s: MetricSample): Row {
  const row: Row = { partitionKey: idKey(s.poolId), rowKey: sampleKey(s.time), jobs: JSON.stringify(s.jobTotals) };
  for (const [name, value] of Object.entries(s.values)) if (METRIC_NAMES.includes(name) && Number.isFinite(value)) row[name] = value;
  return row;
}

export function sampleFromRow(row: Record<string, unknown>): MetricSample {
  const values: Record<string, number> = {};
  for (const name of METRIC_NAMES) {
    const v = row[name];
    if (typeof v === 'number' && Number.isFinite(v)) values[name] = v;
  }
  let jobTotals: Record<string, [number, number]> = {};
  if (typeof row.jobs === 'string') {
    try {
      jobTotals = JSON.parse(row.jobs) as Record<string, [number, number]>;
    } catch {
      jobTotals = {};
    }
  }
  return { poolId: String(row.partitionKey), time: sampleTimeOf(String(row.rowKey)), values, jobTotals };
}

export class MetricRepository {
  constructor(private readonly table: EntityTable) {}

  /** Writes the sample of a period (a second writer of the same period replaces it: idempotent). */
  async put(s: MetricSample): Promise<void> {
    await this.table.upsert(sampleToRow(s), 'Replace');
  }

  /** The newest sample of a pool, if any. */
  async latest(poolId: string): Promise<MetricSample | undefined> {
    const page = await this.table.page(`PartitionKey eq ${odataString(idKey(poolId))}`, 1);
    const first = page.items[0];
    return first && sampleFromRow(first.row);
  }

  /** Samples with fromMs <= time <= toMs, newest first, without the job baselines. */
  async range(poolId: string, fromMs: number, toMs: number): Promise<MetricSample[]> {
    const filter = `PartitionKey eq ${odataString(idKey(poolId))} and RowKey ge ${odataString(sampleKey(toMs))} and RowKey le ${odataString(sampleKey(fromMs))}`;
    const rows = await this.table.all(filter, ['PartitionKey', 'RowKey', ...METRIC_NAMES]);
    return rows.map((r) => sampleFromRow(r.row));
  }

  /** Deletes the samples older than `beforeMs` (entity-group batches of 100). Returns how many. */
  async deleteBefore(poolId: string, beforeMs: number): Promise<number> {
    const filter = `PartitionKey eq ${odataString(idKey(poolId))} and RowKey gt ${odataString(sampleKey(beforeMs))}`;
    return this.deleteRows(poolId, filter);
  }

  /** Deletes every sample of a pool (pool deleted). */
  async deletePool(poolId: string): Promise<number> {
    return this.deleteRows(poolId, `PartitionKey eq ${odataString(idKey(poolId))}`);
  }

  private async deleteRows(poolId: string, filter: string): Promise<number> {
    const keys = (await this.table.all(filter, ['PartitionKey', 'RowKey'])).map((r) => r.row.rowKey);
    await this.table.transactAll(keys.map((rowKey) => ['delete', { partitionKey: idKey(poolId), rowKey }]));
    return keys.length;
  }
}
