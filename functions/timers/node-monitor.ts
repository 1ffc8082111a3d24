import type { Registrar } from '../registrar';
import type { Runtime } from '../../shared/runtime';
import { sweepNodes } from '../../shared/services/monitor';

/** Trigger: every 5 seconds. Marks dead nodes unusable and requeues their tasks (services/monitor). */
export function registerNodeMonitor(app: Registrar, rt: Runtime): void {
  app.timer('nodeMonitor', {
    schedule: '*/5 * * * * *',
    handler: async (_timer, context) => {
      const n = await sweepNodes(rt);
      if (n) context.log(`node monitor: ${n} node(s) became unusable`);
    },
  });
}
