import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createTelemetry, type AppInsightsModule } from '../../shared/telemetry';

const nodeRequire = createRequire(join(process.cwd(), 'package.json'));

function loadedSdkModules(): string[] {
  return Object.keys(nodeRequire.cache).filter((p) => p.includes('applicationinsights') || p.includes('@azure/monitor-opentelemetry'));
}

function exercise(t: ReturnType<typeof createTelemetry>): Promise<void> {
  t.trackRequest({ name: 'GET /pools', url: 'http://127.0.0.1/pools', durationMs: 3, resultCode: 200, success: true });
  t.trackDependency({ name: 'QueryEntities pools', dependencyType: 'Azure table', durationMs: 2, success: true });
  t.trackException(new Error('boom'), { poolId: 'p1' });
  t.trackEvent('PoolCreated', { poolId: 'p1' }, { nodes: 2 });
  t.trackMetric('RunningTasks', 5, { poolId: 'p1' });
  return t.flush();
}

describe('telemetry facade', () => {
  it('is a no-op and never loads applicationinsights when the connection string is unset', async () => {
    const loader = vi.fn(() => {
      throw new Error('must not load');
    });
    for (const env of [{}, { APPLICATIONINSIGHTS_CONNECTION_STRING: '' }, { APPLICATIONINSIGHTS_CONNECTION_STRING: '   ' }]) {
      const t = createTelemetry(env, { loadAppInsights: loader });
      expect(t.kind).toBe('noop');
      await expect(exercise(t)).resolves.toBeUndefined();
    }
    const t = createTelemetry({});
    await exercise(t);
    expect(loader).not.toHaveBeenCalled();
    expect(loadedSdkModules()).toEqual([]);
  });

  it('checks the right module cache', () => {
    // The SDK is installed (so its absence above means something) and the cache sees real loads.
    expect(nodeRequire.resolve('applicationinsights')).toContain('applicationinsights');
    nodeRequire('iso8601-duration');
    expect(Object.keys(nodeRequire.cache).some((p) => p.includes('node_modules/iso8601-duration/'))).toBe(true);
  });

  it('starts the SDK with the connection string and maps every call when it is set', async () => {
    const client = {
      trackRequest: vi.fn(),
      trackDependency: vi.fn(),
      trackException: vi.fn(),
      trackEvent: vi.fn(),
      trackMetric: vi.fn(),
      flush: vi.fn(() => Promise.resolve()),
    };
    const start = vi.fn();
    const setup = vi.fn(() => ({ start }));
    const fake = { setup, defaultClient: client } as unknown as AppInsightsModule;
    const cs = 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.invalid/';
    const t = createTelemetry({ APPLICATIONINSIGHTS_CONNECTION_STRING: cs }, { loadAppInsights: () => fake });
    expect(t.kind).toBe('appinsights');
    expect(setup).toHaveBeenCalledWith(cs);
    expect(start).toHaveBeenCalledTimes(1);
    await exercise(t);
    expect(client.trackRequest).toHaveBeenCalledWith(
      expect.objectContaining({ name: 'GET /pools', duration: 3, resultCode: '200', success: true }),
    );
    expect(client.trackDependency).toHaveBeenCalledWith(expect.objectContaining({ dependencyTypeName: 'Azure table', duration: 2 }));
    expect(client.trackException).toHaveBeenCalledWith({ exception: expect.any(Error), properties: { poolId: 'p1' } });
    expect(client.trackEvent).toHaveBeenCalledWith({ name: 'PoolCreated', properties: { poolId: 'p1' }, measurements: { nodes: 2 } });
    expect(client.trackMetric).toHaveBeenCalledWith({ name: 'RunningTasks', value: 5, properties: { poolId: 'p1' } });
    expect(client.flush).toHaveBeenCalledTimes(1);
    expect(loadedSdkModules()).toEqual([]);
  });

  it('never lets a broken client throw into the caller', async () => {
    const broken = () => {
      throw new TypeError("Cannot read properties of undefined (reading 'trackEvent')");
    };
    const client = { trackRequest: broken, trackDependency: broken, trackException: broken, trackEvent: broken, trackMetric: broken, flush: () => Promise.reject(new Error('offline')) };
    const fake = { setup: () => ({ start: () => undefined }), defaultClient: client } as unknown as AppInsightsModule;
    const t = createTelemetry({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x' }, { loadAppInsights: () => fake });
    await expect(exercise(t)).resolves.toBeUndefined();
    t.trackException('not an Error');
  });
});
