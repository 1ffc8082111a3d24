import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildRecords, type OutboxSource, type SinkRecord } from '../../shared/events/records';
import type { ServiceLogSink } from '../../shared/events/sinks';
import { sampleEvent } from '../support/service-logs';

/**
 * The ServiceLogSink contract (see shared/events/sinks.ts). Runs against the recording sink in
 * the unit project and against the Event Hubs and blob sinks in the integration project.
 */
export interface SinkHarness {
  sink: ServiceLogSink;
  /** The resource id records are built with (unique per harness where storage is shared). */
  resourceId: string;
  /** What the sink holds among `ids`, in stored order (per partition / blob), with partition keys. */
  readBack(ids: Set<string>): Promise<{ id: string; partitionKey: string }[]>;
}

const window = (): { from: Date; to: Date } => ({ from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) });

/** Pool events of three pools interleaved, plus task events of one job: several partition keys. */
export function contractRecords(resourceId: string, rows = 4): SinkRecord[] {
  const tag = randomUUID().slice(0, 8);
  const pools: OutboxSource = { table: 'pools', partitionKey: 'pool' };
  const jobs: OutboxSource = { table: 'tasks', partitionKey: `job-${tag}` };
  const now = Date.now();
  const poolRows = Array.from({ length: rows }, (_, i) => ({
    rowKey: `~o~${String(now + i).padStart(15, '0')}000000${tag}`,
    events: [0, 1, 2].map((p) => sampleEvent(p === 1 ? 'PoolResizeStartEvent' : 'PoolResizeCompleteEvent', new Date(now + i).toISOString(), { pool: `p${p}-${tag}` })),
  }));
  const taskRows = Array.from({ length: rows }, (_, i) => ({
    rowKey: `!o!${String(now + i).padStart(15, '0')}000000${tag}`,
    events: [sampleEvent('TaskStartEvent', new Date(now + i).toISOString(), { job: `job-${tag}`, task: `t${i}` })],
  }));
  return [...buildRecords(pools, poolRows, resourceId), ...buildRecords(jobs, taskRows, resourceId)];
}

function byKey(list: { id: string; partitionKey: string }[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of list) m.set(r.partitionKey, [...(m.get(r.partitionKey) ?? []), r.id]);
  return m;
}

export function describeServiceLogSink(name: string, make: () => Promise<SinkHarness>): void {
  describe(`${name}: ServiceLogSink contract`, () => {
    it('writes every record exactly once, in order per partition key', async () => {
      const h = await make();
      const records = contractRecords(h.resourceId);
      await h.sink.write(records);
      const back = await h.readBack(new Set(records.map((r) => r.id)));
      expect(back.map((b) => b.id).sort()).toEqual(records.map((r) => r.id).sort());
      expect(byKey(back)).toEqual(byKey(records));
    });

    it('written() names exactly the records it holds', async () => {
      const h = await make();
      const records = contractRecords(h.resourceId);
      const [first, rest] = [records.slice(0, 5), records.slice(5)];
      await h.sink.write(first);
      const held = await h.sink.written(records, window());
      expect([...held].sort()).toEqual(first.map((r) => r.id).sort());
      expect(rest.some((r) => held.has(r.id))).toBe(false);
    });

    it('written() of records never written is empty, and an empty write is a no-op', async () => {
      const h = await make();
      const records = contractRecords(h.resourceId, 1);
      await h.sink.write([]);
      expect((await h.sink.written(records, window())).size).toBe(0);
      expect((await h.sink.written([], window())).size).toBe(0);
    });

    it('keeps working after close()', async () => {
      const h = await make();
      const a = contractRecords(h.resourceId, 1);
      await h.sink.write(a);
      await h.sink.close();
      const b = contractRecords(h.resourceId, 1);
      await h.sink.write(b);
      const back = await h.readBack(new Set([...a, ...b].map((r) => r.id)));
      expect(back).toHaveLength(a.length + b.length);
      await h.sink.close();
    });
  });
}
