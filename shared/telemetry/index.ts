/**
 * Telemetry facade. `createTelemetry(env)` returns the no-op unless
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set; only then is `applicationinsights` loaded and
 * started (see appinsights.ts). Tests and local runs leave the variable unset.
 */
import { createAppInsightsTelemetry, type AppInsightsModule } from './appinsights';
import { noopTelemetry } from './noop';
import type { Telemetry } from './types';

export type { DependencyRecord, RequestRecord, Telemetry, TelemetryProperties } from './types';
export type { AppInsightsModule } from './appinsights';
export { noopTelemetry } from './noop';

export const CONNECTION_STRING_VARIABLE = 'APPLICATIONINSIGHTS_CONNECTION_STRING';

export function createTelemetry(env: NodeJS.ProcessEnv, deps: { loadAppInsights?: () => AppInsightsModule } = {}): Telemetry {
  const connectionString = env[CONNECTION_STRING_VARIABLE]?.trim();
  if (!connectionString) return noopTelemetry;
  return createAppInsightsTelemetry(connectionString, deps.loadAppInsights);
}
