import type { Registrar } from '../registrar';
import type { Runtime } from '../../shared/runtime';
import { sweepJobs } from '../../shared/services/job-monitor';

/** Trigger: every 2 seconds. Job wall-clock limits, automatic completion, unfinished disable/enable/terminate (services/job-monitor). */
export function registerJobMonitor(app: Registrar, rt: Runtime): void {
  app.timer('jobMonitor', {
    schedule: '*/2 * * * * *',
    handler: async (_timer, context) => {
      const n = await sweepJobs(rt);
      if (n) context.log(`job monitor: ${n} job(s) changed`);
    },
  });
}
