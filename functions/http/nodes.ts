import type { Registrar } from '../registrar';
import type { Runtime } from '../../shared/runtime';
import { deleteNodeFileOp, getNodeFileOp, listNodeFilesOp } from '../../shared/api/ops/files';
import { deleteUserOp, getNodeOp, listNodesOp, nodeActionOp, updateUserOp } from '../../shared/api/ops/nodes';
import { notYetOp } from '../../shared/api/ops/account';
import { ALL_METHODS, batchRoute } from './adapter';

/** Compute node routes: nodes, node operations (shared/api/ops/nodes.ts), node files and node users. */
export function registerNodeRoutes(app: Registrar, rt: Runtime): void {
  const http = (name: string, route: string, handler: ReturnType<typeof batchRoute>): void => {
    app.http(name, { route, methods: ALL_METHODS, authLevel: 'anonymous', handler });
  };
  http('nodes', 'pools/{poolId}/nodes', batchRoute(rt, { GET: listNodesOp }));
  http('node', 'pools/{poolId}/nodes/{nodeId}', batchRoute(rt, { GET: getNodeOp }));
  // reboot, reimage, disablescheduling, enablescheduling, uploadbatchservicelogs, users (POST); remoteloginsettings (GET).
  http('nodeAction', 'pools/{poolId}/nodes/{nodeId}/{action}', batchRoute(rt, { GET: nodeActionOp, POST: nodeActionOp }));
  http('nodeFiles', 'pools/{poolId}/nodes/{nodeId}/files', batchRoute(rt, { GET: listNodeFilesOp }));
  http('nodeFile', 'pools/{poolId}/nodes/{nodeId}/files/{*filePath}', batchRoute(rt, { GET: getNodeFileOp, HEAD: getNodeFileOp, DELETE: deleteNodeFileOp }));
  http('nodeUser', 'pools/{poolId}/nodes/{nodeId}/users/{userName}', batchRoute(rt, { PUT: updateUserOp, DELETE: deleteUserOp }));
  http('nodeExtension', 'pools/{poolId}/nodes/{nodeId}/extensions/{extensionName}', batchRoute(rt, { GET: notYetOp }));
}
