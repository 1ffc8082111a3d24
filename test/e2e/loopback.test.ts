import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runQuickstart } from '../../examples/quickstart';
import { serviceLogResourceId } from '../../shared/events/records';
import { decodeAddress, isLoopback, startNetworkGuard } from './support/network-guard';
import { waitForPublished } from './support/service-logs';
import { IMAGE, startTestStack, waitFor, type TestStack } from './support/stack';

const nodeRequire = createRequire(join(process.cwd(), 'package.json'));
let s: TestStack | undefined;

afterAll(async () => {
  await s?.stop();
});

describe('a full local run stays on loopback', () => {
  it('reads its own addresses correctly', () => {
    expect(decodeAddress('0100007F:2710')).toBe('127.0.0.1:10000');
    expect(decodeAddress('00000000000000000000000001000000:1F90')).toBe('::1:8080');
    expect(decodeAddress('0000000000000000FFFF00000100007F:0050')).toBe('::ffff:127.0.0.1:80');
    expect(decodeAddress('00000000:0000')).toBeUndefined();
    expect(['127.0.0.1:1', '::1:2', 'localhost:3', '[::1]:4', 'unix:/tmp/x', '::ffff:127.0.0.1:5'].every(isLoopback)).toBe(true);
    expect(['10.0.0.1:443', '20.50.1.2:5671', 'login.microsoftonline.com:443', '[2001:db8::1]:443'].some(isLoopback)).toBe(false);
  });

  it('opens no connection outside loopback (host, Azurite, agents, Event Hubs) and loads no telemetry SDK', async () => {
    const guard = startNetworkGuard();
    let report;
    const ports: string[] = [];
    try {
      s = await startTestStack();
      await runQuickstart({ batchUrl: s.url, accountName: s.accountName, accountKey: s.accountKey, storage: s.storageConnectionString }, () => undefined);
      await s.client.pool.add({ id: 'lo-pool', vmSize: 'standard_a1_v2', virtualMachineConfiguration: IMAGE, targetDedicatedNodes: 1 });
      await s.client.job.add({ id: 'lo-job', poolInfo: { poolId: 'lo-pool' } });
      await s.client.task.addCollection('lo-job', [{ id: 'ok', commandLine: '/bin/true' }, { id: 'bad', commandLine: '/bin/false' }]);
      await waitFor('tasks done', async () => ((await s!.client.job.getTaskCounts('lo-job')).taskCounts.completed === 2 ? true : undefined));
      await s.client.pool.deleteMethod('lo-pool');
      const rid = serviceLogResourceId(s.rt.config);
      await waitForPublished(s.eventHubsConnectionString!, s.rt.storage.blobService, rid, ['lo-pool', 'lo-job'], 5 + 5);
      ports.push(new URL(s.url).port, /sb:\/\/[^:]+:(\d+)/.exec(s.eventHubsConnectionString!)![1]!);
      await s.stop();
      s = undefined;
    } finally {
      report = guard.stop();
    }
    // The guard saw the traffic that matters: the Batch endpoint and the Event Hubs endpoint.
    expect(report.connects).toEqual(expect.arrayContaining([`127.0.0.1:${ports[1]}`]));
    expect(report.connects.length).toBeGreaterThan(10);
    expect(report.connects.filter((c) => !isLoopback(c))).toEqual([]);
    expect(report.lookups.filter((h) => !isLoopback(h))).toEqual([]);
    if (report.samples > 0) {
      expect(report.remotes).toEqual(expect.arrayContaining([`127.0.0.1:${ports[0]}`]));
      expect([...new Set(report.remotes.filter((r) => !isLoopback(r)))]).toEqual([]);
    }
    const sdk = Object.keys(nodeRequire.cache).filter((p) => /applicationinsights|@azure[\\/]monitor-opentelemetry|@opentelemetry/.test(p));
    expect(sdk).toEqual([]);
  });
});
