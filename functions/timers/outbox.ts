import type { InvocationContext, Timer } from '@azure/functions';
import type { Registrar } from '../registrar';
import type { Runtime } from '../../shared/runtime';
import { publishPendingServiceLogs } from '../../shared/events/publisher';

/**
 * Trigger: every 2 seconds. Publishes pending service-log outbox rows (pools partition and job
 * partitions) to Event Hubs and blob storage (shared/events/publisher). A failing partition is
 * logged and retried on the next tick; the lease makes overlapping runs on several instances safe.
 */
export function outboxTimerHandler(rt: Runtime) {
  return async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const r = await publishPendingServiceLogs(rt);
    if (r.published) context.log(`service logs: published ${r.published} event(s)`);
    for (const f of r.failures) context.warn(`service logs: ${f.source.table}/${f.source.partitionKey} not published yet: ${String(f.error)}`);
  };
}

export function registerOutboxPublisher(app: Registrar, rt: Runtime): void {
  app.timer('serviceLogPublisher', { schedule: '*/2 * * * * *', handler: outboxTimerHandler(rt) });
}
