/**
 * Application Insights behind the telemetry facade. Only used on Azure, where
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set: the SDK is `require`d inside
 * `createAppInsightsTelemetry`, never at module load, because loading and starting it brings up
 * OpenTelemetry and calls out to IMDS and OneSettings (machine-notes §5). A telemetry call never
 * throws into the caller: a misconfigured client must not fail a request.
 */
import type * as AppInsights from 'applicationinsights';
import type { DependencyRecord, RequestRecord, Telemetry, TelemetryProperties } from './types';

/** The part of the `applicationinsights` module this facade uses. */
export interface AppInsightsModule {
  setup(connectionString: string): { start(): unknown };
  readonly defaultClient: Pick<
    AppInsights.TelemetryClient,
    'trackRequest' | 'trackDependency' | 'trackException' | 'trackEvent' | 'trackMetric' | 'flush'
  >;
}

function loadAppInsights(): AppInsightsModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberately lazy: loading the SDK must only happen when a connection string is set
  return require('applicationinsights') as typeof AppInsights;
}

function safely(f: () => unknown): void {
  try {
    void f();
  } catch {
    // Telemetry is best effort.
  }
}

export function createAppInsightsTelemetry(connectionString: string, load: () => AppInsightsModule = loadAppInsights): Telemetry {
  const ai = load();
  ai.setup(connectionString).start();
  const client = ai.defaultClient;
  return {
    kind: 'appinsights',
    trackRequest: (r: RequestRecord) =>
      safely(() =>
        client.trackRequest({
          name: r.name,
          url: r.url,
          duration: r.durationMs,
          resultCode: String(r.resultCode),
          success: r.success,
          properties: r.properties,
        }),
      ),
    trackDependency: (d: DependencyRecord) =>
      safely(() =>
        client.trackDependency({
          name: d.name,
          dependencyTypeName: d.dependencyType,
          target: d.target,
          data: d.data,
          duration: d.durationMs,
          resultCode: d.resultCode,
          success: d.success,
          properties: d.properties,
        }),
      ),
    trackException: (err: unknown, props?: TelemetryProperties) =>
      safely(() => client.trackException({ exception: err instanceof Error ? err : new Error(String(err)), properties: props })),
    trackEvent: (name: string, props?: TelemetryProperties, measurements?: Record<string, number>) =>
      safely(() => client.trackEvent({ name, properties: props, measurements })),
    trackMetric: (name: string, value: number, props?: TelemetryProperties) =>
      safely(() => client.trackMetric({ name, value, properties: props })),
    flush: async () => {
      try {
        await client.flush();
      } catch {
        // best effort
      }
    },
  };
}
