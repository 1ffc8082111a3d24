import { describe, expect, it } from 'vitest';
import { exampleBodies } from '../../shared/events/catalog-examples';
import { EVENT_NAMES, type ServiceLogEventName } from '../../shared/events/catalog';
import type { PublishedRecord } from '../../shared/events/records';
import { defaultConnectionString, endpointOf } from '../../cli/events';
import { formatRecord, matches, parseSince, recordsOf } from '../../cli/format';
import { buildProgram } from '../../cli/main';

const T = '2026-11-23T15:01:02.123Z';
const rec = (name: ServiceLogEventName, props?: object): PublishedRecord =>
  ({ time: T, resourceId: '/SUBSCRIPTIONS/S', category: 'ServiceLog', operationName: name, correlationId: 'c', properties: props ?? exampleBodies[name] }) as PublishedRecord;

describe('batchplane events: formatting', () => {
  it.each([
    ['PoolCreateEvent', 'pool=myPool1 vmSize=Standard_F1s dedicated=2 lowPriority=2 slots=1 autoScale=false'],
    ['PoolResizeStartEvent', 'pool=myPool1 dedicated=0/2 lowPriority=0/2 deallocation=invalid'],
    ['PoolResizeCompleteEvent', 'pool=myPool1 dedicated=2/2 lowPriority=2/2 result=Success took=55.2s'],
    ['PoolDeleteStartEvent', 'pool=myPool1'],
    ['PoolDeleteCompleteEvent', 'pool=myPool1 took=20.3s'],
    ['TaskStartEvent', 'job=myJob task=myTask pool=pool-001 node=tvm-257509324_1-20160908t162728z retry=0'],
    ['TaskCompleteEvent', 'job=myJob task=myTask pool=pool-001 node=tvm-257509324_1-20160908t162728z exitCode=0 retry=0 took=96.9s'],
    ['TaskFailEvent', 'job=myJob task=myTask pool=pool-001 node=tvm-257509324_1-20160908t162728z exitCode=1 retry=2 failure=FailureExitCode took=96.9s'],
  ] as const)('%s → one readable line', (name, details) => {
    expect(formatRecord(rec(name))).toBe(`${T} ${name} ${details}`);
  });

  it('quotes values with spaces and renders every catalog event on one line', () => {
    expect(formatRecord(rec('PoolAutoScaleEvent'))).toContain('message="Autoscale evaluation failed due to insufficient sample data"');
    for (const n of EVENT_NAMES) expect(formatRecord(rec(n))).not.toContain('\n');
    const failed = rec('PoolResizeCompleteEvent', { ...exampleBodies.PoolResizeCompleteEvent, resultCode: 'AllocationTimedout', resultMessage: 'Timed out' });
    expect(formatRecord(failed)).toContain('result=AllocationTimedout took=55.2s message="Timed out"');
  });

  it('unwraps Azure Monitor bodies, single records, JSON text and bytes', () => {
    const r = rec('PoolDeleteStartEvent');
    expect(recordsOf({ records: [r, r] })).toHaveLength(2);
    expect(recordsOf(r)).toEqual([r]);
    expect(recordsOf(JSON.stringify({ records: [r] }))).toEqual([r]);
    expect(recordsOf(Buffer.from(JSON.stringify(r)))).toEqual([r]);
    expect(recordsOf('not json')).toEqual([]);
    expect(recordsOf(42)).toEqual([]);
  });

  it('filters by pool (pool events and tasks run on it), job and time', () => {
    const pool = rec('PoolCreateEvent');
    const task = rec('TaskStartEvent');
    expect([matches(pool, { pool: 'myPool1' }), matches(task, { pool: 'myPool1' }), matches(task, { pool: 'pool-001' })]).toEqual([true, false, true]);
    expect([matches(pool, { job: 'myJob' }), matches(task, { job: 'myJob' }), matches(task, { job: 'other' })]).toEqual([false, true, false]);
    expect([matches(task, { since: new Date('2026-11-23T15:00:00Z') }), matches(task, { since: new Date('2026-11-23T16:00:00Z') })]).toEqual([true, false]);
  });
});

describe('batchplane events: options', () => {
  const now = new Date('2026-11-23T15:00:00.000Z');
  it.each([
    ['10m', '2026-11-23T14:50:00.000Z'],
    ['2h', '2026-11-23T13:00:00.000Z'],
    ['90s', '2026-11-23T14:58:30.000Z'],
    ['1d', '2026-11-22T15:00:00.000Z'],
    ['PT30M', '2026-11-23T14:30:00.000Z'],
    ['2026-11-23T12:00:00Z', '2026-11-23T12:00:00.000Z'],
  ])('--since %s', (v, want) => {
    expect(parseSince(v, now).toISOString()).toBe(want);
  });

  it.each(['yesterday', '10x', 'P', 'PT', ''])('rejects --since %j', (v) => {
    expect(() => parseSince(v, now)).toThrow(/--since/);
  });

  it('defaults to the environment, else the local endpoint', () => {
    expect(defaultConnectionString({ BATCHPLANE_EVENTHUBS_CONNECTION_STRING: 'Endpoint=sb://x/;EntityPath=h' })).toBe('Endpoint=sb://x/;EntityPath=h');
    expect(defaultConnectionString({})).toBe('Endpoint=sb://127.0.0.1:5672/;SharedAccessKeyName=local;SharedAccessKey=bG9jYWw=;UseDevelopmentEmulator=true;EntityPath=batchplane-servicelogs');
    expect(defaultConnectionString({ BATCHPLANE_EVENTHUBS_PORT: '6000' })).toContain('sb://127.0.0.1:6000/');
  });

  it('finds the AMQP endpoint to check before connecting', () => {
    expect(endpointOf(defaultConnectionString({}))).toEqual({ host: '127.0.0.1', port: 5672, local: true });
    expect(endpointOf('Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v;EntityPath=h')).toEqual({ host: 'ns.servicebus.windows.net', port: 5671, local: false });
    expect(endpointOf('nonsense')).toBeUndefined();
  });

  it('declares the events command with its options', () => {
    const events = buildProgram({}).commands.find((c) => c.name() === 'events')!;
    expect(events.options.map((o) => o.long)).toEqual(['--connection-string', '--consumer-group', '--follow', '--pool', '--job', '--since', '--json']);
  });
});
