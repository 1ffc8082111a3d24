import type { Telemetry } from './types';

/** Telemetry that does nothing: local runs, tests and CI (no SDK loaded, no network). */
export const noopTelemetry: Telemetry = Object.freeze({
  kind: 'noop' as const,
  trackRequest: () => undefined,
  trackDependency: () => undefined,
  trackException: () => undefined,
  trackEvent: () => undefined,
  trackMetric: () => undefined,
  flush: () => Promise.resolve(),
});
