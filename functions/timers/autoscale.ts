import type { InvocationContext, Timer } from '@azure/functions';
import type { Registrar } from '../registrar';
import type { Runtime } from '../../shared/runtime';
import { everySecondsSchedule } from '../../shared/domain/schedule';
import { evaluateDuePools } from '../../shared/services/autoscale';

/** Evaluates each autoscale pool whose next evaluation time has come and applies its targets (services/autoscale). */
export function autoscaleHandler(rt: Runtime) {
  return async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const n = await evaluateDuePools(rt, (msg) => context.warn(msg));
    if (n) context.log(`autoscale: evaluated ${n} pool(s)`);
  };
}

/**
 * Trigger: every 10 seconds, or every BATCHPLANE_AUTOSCALE_MIN_INTERVAL seconds when that is
 * shorter (so the short intervals of tests are honoured); fixed at registration.
 */
export function registerAutoscaleTimer(app: Registrar, rt: Runtime): void {
  app.timer('autoscaleEvaluations', { schedule: everySecondsSchedule(Math.min(10, rt.config.autoscaleMinIntervalSeconds)), handler: autoscaleHandler(rt) });
}
