import { BatchError } from '../../errors';
import { SUPPORTED_IMAGES } from '../../domain/images';
import type { Runtime } from '../../runtime';
import { matches, parseFilterParam, SCHEMAS } from '../odata';
import { listQueryOf, nextLink } from '../paging';
import { nodeJson } from '../mappers';
import { jsonResponse, metadataUrl, type ApiRequest, type ApiResponse } from '../wire';
import { listBody, notAvailable, param } from './common';
import { listPage, selectOne } from './list';

export async function supportedImagesOp(req: ApiRequest, _rt: Runtime): Promise<ApiResponse> {
  const q = listQueryOf(req);
  const expr = parseFilterParam(q.filter, SCHEMAS.supportedImages);
  const all = SUPPORTED_IMAGES.filter((i) => !expr || matches(expr, i));
  const start = Number(q.continuation ?? 0);
  const next = start + q.maxResults < all.length ? String(start + q.maxResults) : undefined;
  return jsonResponse(req, 200, listBody(metadataUrl(req, 'supportedimages'), all.slice(start, start + q.maxResults), nextLink(req, q, next)));
}

/** GET /nodecounts: node counts per pool and state, from the node rows. */
export async function poolNodeCountsOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const q = listQueryOf(req);
  const expr = parseFilterParam(q.filter, SCHEMAS.nodeCounts);
  const pools = (await rt.pools.all()).filter((p) => !expr || matches(expr, { poolId: p.value.id }));
  const start = Number(q.continuation ?? 0);
  const slice = pools.slice(start, start + q.maxResults);
  const states = ['creating', 'idle', 'offline', 'preempted', 'rebooting', 'reimaging', 'running', 'starting', 'startTaskFailed', 'leavingPool', 'unknown', 'unusable', 'waitingForStartTask', 'deallocated', 'deallocating', 'upgradingOS'] as const;
  const value = await Promise.all(slice.map(async (p) => {
    const nodes = await rt.nodes.listByPool(p.value.id);
    const dedicated: Record<string, number> = {};
    for (const s of states) dedicated[s] = 0;
    for (const n of nodes) {
      const key = states.find((s) => s.toLowerCase() === n.value.state) ?? 'unknown';
      dedicated[key] = (dedicated[key] ?? 0) + 1;
    }
    const lowPriority: Record<string, number> = Object.fromEntries(states.map((s) => [s, 0]));
    return { poolId: p.value.id, dedicated: { ...dedicated, total: nodes.length }, lowPriority: { ...lowPriority, total: 0 } };
  }));
  const next = start + q.maxResults < pools.length ? String(start + q.maxResults) : undefined;
  return jsonResponse(req, 200, listBody(metadataUrl(req, 'poolnodecounts'), value, nextLink(req, q, next)));
}

export async function listNodesOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const poolId = param(req, 'poolId');
  if (!(await rt.pools.get(poolId))) throw new BatchError('PoolNotFound', 'The specified pool does not exist.');
  return listPage(req, rt, {
    schema: 'nodes',
    columns: { state: { column: 'state' } },
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
  return jsonResponse(req, 200, { 'odata.metadata': metadataUrl(req, 'nodes/@Element'), ...selectOne(req, 'nodes', nodeJson(req.origin, n.value)) });
}

/** Every route of the spec that batchplane does not serve yet answers 400 with a clear code. */
export async function notYetOp(req: ApiRequest, _rt: Runtime): Promise<ApiResponse> {
  const path = req.rawPathAndQuery.split('?')[0] ?? '';
  throw notAvailable(`${req.method} ${decodeURIComponent(path)}`);
}

export async function unknownRouteOp(_req: ApiRequest, _rt: Runtime): Promise<ApiResponse> {
  throw new BatchError('InvalidUri', 'The requested URI does not represent any resource on the server.', [], 404);
}
