import type { Registrar } from '../registrar';
import type { Runtime } from '../../shared/runtime';
import { getNodeOp, listNodesOp, notYetOp } from '../../shared/api/ops/account';
import { getNodeFileOp, listNodeFilesOp } from '../../shared/api/ops/files';
import { ALL_METHODS, batchRoute } from './adapter';

/** Compute node routes, node files, and the node operations not served yet. */
export function registerNodeRoutes(app: Registrar, rt: Runtime): void {
  const http = (name: string, route: string, handler: ReturnType<typeof batchRoute>): void => {
    app.http(name, { route, methods: ALL_METHODS, authLevel: 'anonymous', handler });
  };
  http('nodes', 'pools/{poolId}/nodes', batchRoute(rt, { GET: listNodesOp }));
  http('node', 'pools/{poolId}/nodes/{nodeId}', batchRoute(rt, { GET: getNodeOp }));
  http('nodeAction', 'pools/{poolId}/nodes/{nodeId}/{action}', batchRoute(rt, { GET: notYetOp, POST: notYetOp }));
  http('nodeFiles', 'pools/{poolId}/nodes/{nodeId}/files', batchRoute(rt, { GET: listNodeFilesOp }));
  http('nodeFile', 'pools/{poolId}/nodes/{nodeId}/files/{*filePath}', batchRoute(rt, { GET: getNodeFileOp, HEAD: getNodeFileOp, DELETE: notYetOp }));
  http('nodeUser', 'pools/{poolId}/nodes/{nodeId}/users/{userName}', batchRoute(rt, { PUT: notYetOp, DELETE: notYetOp }));
  http('nodeExtension', 'pools/{poolId}/nodes/{nodeId}/extensions/{extensionName}', batchRoute(rt, { GET: notYetOp }));
}
