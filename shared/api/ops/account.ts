import { BatchError } from '../../errors';
import { SUPPORTED_IMAGES, type SupportedImage } from '../../domain/images';
import type { Runtime } from '../../runtime';
import { nodeJson } from '../mappers';
import { jsonResponse, metadataUrl, type ApiRequest, type ApiResponse } from '../wire';
import { notAvailable, param } from './common';
import { listArray, listPage, selectOne } from './list';
import { NODE_COLUMNS } from './columns';

export async function supportedImagesOp(req: ApiRequest, _rt: Runtime): Promise<ApiResponse> {
  return listArray(req, {
    schema: 'supportedImages',
    metadata: 'supportedimages',
    items: () => SUPPORTED_IMAGES.map((i) => ({ ...i })),
    key: (i) => imageKey(i as unknown as SupportedImage),
  });
}

const imageKey = (i: SupportedImage): string => [i.nodeAgentSKUId, i.imageReference.publisher, i.imageReference.offer, i.imageReference.sku, i.imageReference.version].join('|');

const NODE_STATES = ['creating', 'idle', 'offline', 'preempted', 'rebooting', 'reimaging', 'running', 'starting', 'startTaskFailed', 'leavingPool', 'unknown', 'unusable', 'waitingForStartTask', 'deallocated', 'deallocating', 'upgradingOS'] as const;

/** GET /nodecounts: node counts per pool and state, from the node rows (read for the pools of the page only). */
export async function poolNodeCountsOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  return listArray(req, {
    schema: 'nodeCounts',
    metadata: 'poolnodecounts',
    items: async () => (await rt.pools.all()).map((p) => ({ poolId: p.value.id })),
    key: (p) => String(p.poolId),
    finish: (page) => Promise.all(page.map((p) => nodeCountsOf(rt, String(p.poolId)))),
  });
}

async function nodeCountsOf(rt: Runtime, poolId: string): Promise<Record<string, unknown>> {
  const nodes = await rt.nodes.listByPool(poolId);
  const dedicated: Record<string, number> = Object.fromEntries(NODE_STATES.map((s) => [s, 0]));
  for (const n of nodes) {
    const key = NODE_STATES.find((s) => s.toLowerCase() === n.value.state) ?? 'unknown';
    dedicated[key] = (dedicated[key] ?? 0) + 1;
  }
  const lowPriority: Record<string, number> = Object.fromEntries(NODE_STATES.map((s) => [s, 0]));
  return { poolId, dedicated: { ...dedicated, total: nodes.length }, lowPriority: { ...lowPriority, total: 0 } };
}

export async function listNodesOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const poolId = param(req, 'poolId');
  if (!(await rt.pools.get(poolId))) throw new BatchError('PoolNotFound', 'The specified pool does not exist.');
  return listPage(req, rt, {
    schema: 'nodes',
    columns: NODE_COLUMNS,
    fetch: (f, top, cont) => rt.nodes.page(poolId, f, top, cont),
    toJson: (n) => nodeJson(req.origin, n.value),
    metadata: 'nodes',
  });
}

export async function getNodeOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const poolId = param(req, 'poolId');
  const n = await rt.nodes.get(poolId, param(req, 'nodeId'));
  if (!n) {
    if (!(await rt.pools.get(poolId))) throw new BatchError('PoolNotFound', 'The specified pool does not exist.');
    throw new BatchError('NodeNotFound', 'The specified node does not exist.');
  }
  return jsonResponse(req, 200, { 'odata.metadata': metadataUrl(req, 'nodes/@Element'), ...(await selectOne(req, 'nodes', n.value, (x) => nodeJson(req.origin, x))) });
}

/** Every route of the spec that batchplane does not serve yet answers 400 with a clear code. */
export async function notYetOp(req: ApiRequest, _rt: Runtime): Promise<ApiResponse> {
  const path = req.rawPathAndQuery.split('?')[0] ?? '';
  throw notAvailable(`${req.method} ${decodeURIComponent(path)}`);
}

export async function unknownRouteOp(_req: ApiRequest, _rt: Runtime): Promise<ApiResponse> {
  throw new BatchError('InvalidUri', 'The requested URI does not represent any resource on the server.', [], 404);
}
