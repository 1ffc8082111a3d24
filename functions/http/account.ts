import type { Registrar } from '../registrar';
import type { Runtime } from '../../shared/runtime';
import { notYetOp, poolNodeCountsOp, supportedImagesOp, unknownRouteOp } from '../../shared/api/ops/account';
import { poolUsageMetricsOp } from '../../shared/api/ops/usage';
import { ALL_METHODS, batchRoute } from './adapter';

/** Account-level routes, the spec's routes not served yet, and the catch-all. */
export function registerAccountRoutes(app: Registrar, rt: Runtime): void {
  const http = (name: string, route: string, handler: ReturnType<typeof batchRoute>): void => {
    app.http(name, { route, methods: ALL_METHODS, authLevel: 'anonymous', handler });
  };
  http('supportedImages', 'supportedimages', batchRoute(rt, { GET: supportedImagesOp }));
  http('nodeCounts', 'nodecounts', batchRoute(rt, { GET: poolNodeCountsOp }));
  http('poolUsageMetrics', 'poolusagemetrics', batchRoute(rt, { GET: poolUsageMetricsOp }));
  const later = batchRoute(rt, { GET: notYetOp, HEAD: notYetOp, POST: notYetOp, PUT: notYetOp, PATCH: notYetOp, DELETE: notYetOp });
  for (const [name, route] of [
    ['lifetimePoolStats', 'lifetimepoolstats'], ['lifetimeJobStats', 'lifetimejobstats'],
    ['applications', 'applications'], ['application', 'applications/{applicationId}'],
    ['jobSchedules', 'jobschedules'], ['jobSchedule', 'jobschedules/{jobScheduleId}'], ['jobScheduleAction', 'jobschedules/{jobScheduleId}/{action}'],
    ['certificates', 'certificates'],
  ] as const) http(name, route, later);
  http('catchAll', '{*path}', batchRoute(rt, { GET: routeOrUnknown, HEAD: routeOrUnknown, POST: routeOrUnknown, PUT: routeOrUnknown, PATCH: routeOrUnknown, DELETE: routeOrUnknown }));
}

/** Certificate paths carry `(thumbprintAlgorithm=…,thumbprint=…)`; they are spec routes not served yet. */
const routeOrUnknown: typeof notYetOp = (req, rt) => (/^\/certificates\(/i.test(req.rawPathAndQuery) ? notYetOp(req, rt) : unknownRouteOp(req, rt));
