import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../shared/config';
import { toEventData, eventIdOf } from '../../shared/events/eventhubs-sink';
import { parseServiceLogBlob } from '../../shared/events/blob-sink';
import { buildRecords, groupInOrder, serviceLogBlobPath, serviceLogEventId, serviceLogLine, serviceLogResourceId, type OutboxSource } from '../../shared/events/records';
import { FULL_SWEEP_MS, jobsToScan, sweepDue, SWEEP_SPREAD_MS } from '../../shared/events/publisher';
import { sampleEvent } from '../support/service-logs';

const RID = '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/BATCHPLANE-LOCAL/PROVIDERS/MICROSOFT.BATCH/BATCHACCOUNTS/BATCHPLANE';
const pools: OutboxSource = { table: 'pools', partitionKey: 'pool' };

describe('service-log records', () => {
  it('names the account resource upper-case, from the configuration (local defaults)', () => {
    const c = loadConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    expect(serviceLogResourceId(c)).toBe(RID);
    const azure = loadConfig({ AzureWebJobsStorage: 'x', BATCHPLANE_SUBSCRIPTION_ID: 'a1b2', BATCHPLANE_RESOURCE_GROUP: 'my-rg', BATCHPLANE_ACCOUNT_NAME: 'prod' });
    expect(serviceLogResourceId(azure)).toBe('/SUBSCRIPTIONS/A1B2/RESOURCEGROUPS/MY-RG/PROVIDERS/MICROSOFT.BATCH/BATCHACCOUNTS/PROD');
  });

  it('derives stable, GUID-shaped ids from source, row key and index', () => {
    const a = serviceLogEventId(pools, '~o~1', 0);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(serviceLogEventId(pools, '~o~1', 0)).toBe(a);
    const others = [serviceLogEventId(pools, '~o~1', 1), serviceLogEventId(pools, '~o~2', 0), serviceLogEventId({ table: 'tasks', partitionKey: 'pool' }, '~o~1', 0), serviceLogEventId({ table: 'pools', partitionKey: 'p' }, '~o~1', 0)];
    expect(new Set([a, ...others]).size).toBe(5);
  });

  it('builds validated Azure Monitor records in row and event order, keyed by pool or job', () => {
    const rows = [
      { rowKey: '~o~1', events: [sampleEvent('PoolCreateEvent', '2026-11-23T15:01:02.123Z', { pool: 'p1' }), sampleEvent('PoolResizeStartEvent', '2026-11-23T15:01:02.123Z', { pool: 'p1' })] },
      { rowKey: '~o~2', events: [sampleEvent('PoolDeleteStartEvent', '2026-11-23T16:00:00.000Z', { pool: 'p2' })] },
    ];
    const recs = buildRecords(pools, rows, RID);
    expect(recs.map((r) => [r.record.operationName, r.partitionKey])).toEqual([['PoolCreateEvent', 'p1'], ['PoolResizeStartEvent', 'p1'], ['PoolDeleteStartEvent', 'p2']]);
    expect(recs[2]!.id).toBe(serviceLogEventId(pools, '~o~2', 0));
    expect(Object.keys(recs[0]!.record)).toEqual(['time', 'resourceId', 'category', 'operationName', 'correlationId', 'properties']);
    expect(recs[0]!.record).toMatchObject({ time: '2026-11-23T15:01:02.123Z', resourceId: RID, category: 'ServiceLog', correlationId: recs[0]!.id });
    const job = buildRecords({ table: 'tasks', partitionKey: 'j1' }, [{ rowKey: '!o!1', events: [sampleEvent('TaskFailEvent', '2026-11-23T15:01:02.123Z', { job: 'j1', pool: 'p1' })] }], RID);
    expect(job[0]!.partitionKey).toBe('j1');
  });

  it('still publishes (as written) an event the catalog rejects, and reports it', () => {
    const onInvalid = vi.fn();
    const bad = { name: 'PoolDeleteStartEvent' as const, time: 'garbage', body: { id: 'p9', extra: 1 } };
    const unknown = { name: 'SomethingNewEvent' as never, time: '2026-11-23T15:00:00.000Z', body: { jobId: 'j3' } };
    const recs = buildRecords(pools, [{ rowKey: '~o~001763910000000000001abc', events: [bad, unknown] }], RID, onInvalid);
    expect(onInvalid).toHaveBeenCalledTimes(2);
    expect(recs[0]!.record.properties).toEqual({ id: 'p9', extra: 1 });
    expect(recs[0]!.record.time).toBe(new Date(1763910000000).toISOString());
    expect(recs.map((r) => r.partitionKey)).toEqual(['p9', 'j3']);
  });

  it('lays blobs out as Azure Monitor does: one PT1H.json per hour of event time (UTC)', () => {
    expect(serviceLogBlobPath(RID, '2026-01-02T03:59:59.999Z')).toBe(`resourceId=${RID}/y=2026/m=01/d=02/h=03/m=00/PT1H.json`);
    expect(serviceLogBlobPath(RID, '2026-11-23T23:00:00+02:00')).toBe(`resourceId=${RID}/y=2026/m=11/d=23/h=21/m=00/PT1H.json`);
    expect(() => serviceLogBlobPath(RID, 'nope')).toThrow(/invalid/);
  });

  it('writes one JSON record per line and reads blobs back', () => {
    const recs = buildRecords(pools, [{ rowKey: '~o~1', events: [sampleEvent('PoolCreateEvent', '2026-11-23T15:01:02.123Z'), sampleEvent('PoolDeleteStartEvent', '2026-11-23T15:01:03.000Z')] }], RID);
    const text = recs.map((r) => `${serviceLogLine(r.record)}\n`).join('');
    expect(text.split('\n')).toHaveLength(3);
    expect(parseServiceLogBlob(text)).toEqual(recs.map((r) => r.record));
  });

  it('sends Azure Monitor\'s {"records": [...]} body to Event Hubs, with the id as messageId and property', () => {
    const [r] = buildRecords(pools, [{ rowKey: '~o~1', events: [sampleEvent('PoolCreateEvent', '2026-11-23T15:01:02.123Z')] }], RID);
    const data = toEventData(r!);
    expect(data.body).toEqual({ records: [r!.record] });
    expect(data.messageId).toBe(r!.id);
    expect(eventIdOf({ messageId: undefined, properties: data.properties })).toBe(r!.id);
    expect(eventIdOf({ messageId: r!.id, properties: undefined })).toBe(r!.id);
  });

  it('groups in first-seen order', () => {
    expect([...groupInOrder(['b1', 'a1', 'b2', 'c1', 'a2'], (s) => s[0]!)]).toEqual([['b', ['b1', 'b2']], ['a', ['a1', 'a2']], ['c', ['c1']]]);
  });

  it('scans active jobs every tick and long-completed jobs once a minute', () => {
    const now = new Date('2026-11-23T15:00:05.000Z');
    const jobs = [
      { id: 'active', state: 'active' as const, stateTransitionTime: '2026-01-01T00:00:00Z' },
      { id: 'recent', state: 'completed' as const, stateTransitionTime: '2026-11-23T14:55:00Z' },
      { id: 'old', state: 'completed' as const, stateTransitionTime: '2026-11-23T10:00:00Z' },
    ];
    expect(jobsToScan(jobs, now)).toEqual(['active', 'recent']);
    expect(jobsToScan(jobs, new Date('2026-11-23T15:01:00.000Z'))).toEqual(['active', 'recent', 'old']);
  });

  it('spreads a full sweep over the first half of its interval, at least one partition per tick', () => {
    const half = SWEEP_SPREAD_MS;
    expect(sweepDue(0, 0)).toBe(0);
    expect(sweepDue(80, 0)).toBe(1);
    expect(sweepDue(80, -5)).toBe(1);
    expect(sweepDue(80, 2000)).toBe(Math.ceil((80 * 2000) / half));
    expect(sweepDue(80, half / 2)).toBe(40);
    expect(sweepDue(80, half)).toBe(80);
    expect(sweepDue(80, FULL_SWEEP_MS * 3)).toBe(80);
    expect(sweepDue(3, 1)).toBe(1);
    // Monotonic: a later tick is never due fewer.
    for (let t = 0; t < half; t += 700) expect(sweepDue(37, t + 700)).toBeGreaterThanOrEqual(sweepDue(37, t));
  });
});
