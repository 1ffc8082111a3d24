import type { Registrar } from '../registrar';
import type { Runtime } from '../../shared/runtime';
import { addPoolOp, deletePoolOp, getPoolOp, listPoolsOp, patchPoolOp, poolActionOp, poolExistsOp } from '../../shared/api/ops/pools';
import { ALL_METHODS, batchRoute } from './adapter';

/** Pool routes: /pools, /pools/{poolId}, /pools/{poolId}/{action}. */
export function registerPoolRoutes(app: Registrar, rt: Runtime): void {
  const http = (name: string, route: string, handler: ReturnType<typeof batchRoute>): void => {
    app.http(name, { route, methods: ALL_METHODS, authLevel: 'anonymous', handler });
  };
  http('pools', 'pools', batchRoute(rt, { GET: listPoolsOp, POST: addPoolOp }));
  http('pool', 'pools/{poolId}', batchRoute(rt, { GET: getPoolOp, HEAD: poolExistsOp, DELETE: deletePoolOp, PATCH: patchPoolOp }));
  http('poolAction', 'pools/{poolId}/{action}', batchRoute(rt, { POST: poolActionOp }));
}
