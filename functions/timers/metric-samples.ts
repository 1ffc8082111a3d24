import type { InvocationContext, Timer } from '@azure/functions';
import type { Registrar } from '../registrar';
import type { Runtime } from '../../shared/runtime';
import { everySecondsSchedule } from '../../shared/domain/schedule';
import { collectSamples } from '../../shared/services/metrics';

/** Writes one autoscale metric sample per active pool (services/metrics). */
export function metricSamplesHandler(rt: Runtime) {
  return async (_timer: Timer, context: InvocationContext): Promise<void> => {
    await collectSamples(rt, (msg) => context.warn(msg));
  };
}

/** Trigger: every BATCHPLANE_METRICS_INTERVAL seconds (default 30: `*\/30 * * * * *`), fixed at registration. */
export function registerMetricSamples(app: Registrar, rt: Runtime): void {
  app.timer('metricSamples', { schedule: everySecondsSchedule(rt.config.metricsIntervalSeconds), handler: metricSamplesHandler(rt) });
}
