import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHostJson, parseTimeSpan } from '../../infra/local/host/host-json';
import { CollectingRegistrar } from '../../infra/local/host/registrar';

describe('local host: host.json', () => {
  it('applies the real host defaults when extensions are absent', () => {
    expect(parseHostJson({ version: '2.0' })).toEqual({
      routePrefix: 'api',
      queues: {
        batchSize: 16,
        newBatchThreshold: 8,
        maxPollingIntervalMs: 60_000,
        visibilityTimeoutMs: 0,
        maxDequeueCount: 5,
        messageEncoding: 'base64',
      },
    });
    expect(parseHostJson(undefined).routePrefix).toBe('api');
  });

  it("reads the project's host.json", () => {
    const hostJson: unknown = JSON.parse(readFileSync(join(__dirname, '../../host.json'), 'utf8'));
    expect(parseHostJson(hostJson)).toEqual({
      routePrefix: '',
      queues: {
        batchSize: 16,
        newBatchThreshold: 8,
        maxPollingIntervalMs: 2000,
        visibilityTimeoutMs: 5000,
        maxDequeueCount: 5,
        messageEncoding: 'base64',
      },
    });
  });

  it('derives newBatchThreshold from batchSize, trims the prefix, accepts ms numbers and any-case encodings', () => {
    const c = parseHostJson({
      extensions: { http: { routePrefix: '/v1/' }, queues: { batchSize: 5, maxPollingInterval: 1500, messageEncoding: 'None' } },
    });
    expect(c.routePrefix).toBe('v1');
    expect(c.queues).toMatchObject({ batchSize: 5, newBatchThreshold: 2, maxPollingIntervalMs: 1500, messageEncoding: 'none' });
  });

  it('rejects invalid values with a readable message', () => {
    expect(() => parseHostJson({ extensions: { queues: { batchSize: 64 } } })).toThrow(/batchSize/);
    expect(() => parseHostJson({ extensions: { queues: { messageEncoding: 'utf8' } } })).toThrow(/messageEncoding/);
    expect(() => parseHostJson({ extensions: { queues: { visibilityTimeout: 'soon' } } })).toThrow(/TimeSpan/);
    expect(() => parseHostJson({ extensions: { http: { routePrefix: 3 } } })).toThrow(/routePrefix/);
  });

  it('parses .NET TimeSpans', () => {
    expect(parseTimeSpan('00:00:30')).toBe(30_000);
    expect(parseTimeSpan('01:02')).toBe(3_720_000);
    expect(parseTimeSpan('1.00:00:01.5')).toBe(86_401_500);
    expect(parseTimeSpan('2')).toBe(2 * 86_400_000);
    expect(parseTimeSpan('00:61:00')).toBeUndefined();
    expect(parseTimeSpan('*/5 * * * * *')).toBeUndefined();
  });
});

describe('local host: collecting registrar', () => {
  const handler = (): object => ({});

  it('records registrations and rejects duplicates (case-insensitive) and invalid names', () => {
    const r = new CollectingRegistrar();
    r.http('getPool', { route: 'pools/{poolId}', methods: ['GET'], handler });
    r.storageQueue('commands', { queueName: 'commands', connection: 'AzureWebJobsStorage', handler });
    r.timer('tick', { schedule: '0 */5 * * * *', handler });
    expect(r.functions.map((f) => [f.kind, f.name])).toEqual([
      ['http', 'getPool'],
      ['storageQueue', 'commands'],
      ['timer', 'tick'],
    ]);
    expect(() => r.http('GetPool', { handler })).toThrow(/already registered/);
    expect(() => r.timer('1bad', { schedule: '00:00:01', handler })).toThrow(/invalid function name/);
  });
});
