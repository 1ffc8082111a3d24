import type { Registrar } from './registrar';
import type { Runtime } from '../shared/runtime';
import { registerAccountRoutes } from './http/account';
import { registerAgentRoutes } from './http/agent';
import { registerJobRoutes } from './http/jobs';
import { registerNodeRoutes } from './http/nodes';
import { registerPoolRoutes } from './http/pools';
import { registerPoolCommandQueue } from './queues/pool-commands';
import { registerNodeCommandQueue } from './queues/node-commands';
import { registerNodeMonitor } from './timers/node-monitor';
import { registerJobMonitor } from './timers/job-monitor';
import { registerOutboxPublisher } from './timers/outbox';
import { registerMetricSamples } from './timers/metric-samples';
import { registerAutoscaleTimer } from './timers/autoscale';

/** The single list of every trigger of batchplane. The real host and the local host both call it. */
export function registerFunctions(app: Registrar, rt: Runtime): void {
  registerPoolRoutes(app, rt);
  registerNodeRoutes(app, rt);
  registerJobRoutes(app, rt);
  registerAgentRoutes(app, rt);
  registerAccountRoutes(app, rt);
  registerPoolCommandQueue(app, rt);
  registerNodeCommandQueue(app, rt);
  registerNodeMonitor(app, rt);
  registerJobMonitor(app, rt);
  registerOutboxPublisher(app, rt);
  registerMetricSamples(app, rt);
  registerAutoscaleTimer(app, rt);
}
