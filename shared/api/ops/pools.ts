import { BatchError } from '../../errors';
import type { PoolRecord } from '../../domain/model';
import type { Runtime } from '../../runtime';
import type { Stored } from '../../storage/table';
import { addPool, deletePool, getPool, removePoolNodes, resizePool, stopPoolResize, updatePool } from '../../services/pools';
import { nodeRemove, poolPatch, poolUpdateProperties } from '../pool-schemas';
import { checkConditions } from '../conditions';
import { batchEtag } from '../etag';
import { poolJson } from '../mappers';
import { poolAdd, poolResize } from '../schemas';
import { validate } from '../validate';
import { emptyResponse, jsonBody, jsonResponse, metadataUrl, resourceHeaders, type ApiRequest, type ApiResponse } from '../wire';
import { param } from './common';
import { listPage, selectOne } from './list';
import { POOL_COLUMNS } from './columns';
import { poolStats } from '../../services/usage';
import { AUTOSCALE_ACTIONS } from './autoscale';

const url = (req: ApiRequest, id: string): string => `${req.origin}/pools/${id}`;
const guard = (req: ApiRequest) => (p: Stored<PoolRecord>): void => checkConditions(req, batchEtag(p.etag), p.value.lastModified, 'write');

export async function addPoolOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const p = await addPool(rt, validate(poolAdd, jsonBody(req)));
  return emptyResponse(req, 201, resourceHeaders(url(req, p.value.id), batchEtag(p.etag), p.value.lastModified, true));
}

export async function getPoolOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const p = await getPool(rt, param(req, 'poolId'));
  const etag = batchEtag(p.etag);
  checkConditions(req, etag, p.value.lastModified, 'read');
  const body = { 'odata.metadata': metadataUrl(req, 'pools/@Element'), ...(await selectOne(req, 'pools', p, (x) => poolJson(req.origin, x.value, x.etag), (x) => poolStats(rt, x.value, url(req, x.value.id)))) };
  return jsonResponse(req, 200, body, { etag, 'last-modified': new Date(p.value.lastModified).toUTCString() });
}

export async function poolExistsOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const p = await rt.pools.get(param(req, 'poolId'));
  if (!p) throw new BatchError('PoolNotFound', 'The specified pool does not exist.');
  checkConditions(req, batchEtag(p.etag), p.value.lastModified, 'read');
  return emptyResponse(req, 200, { etag: batchEtag(p.etag), 'last-modified': new Date(p.value.lastModified).toUTCString() });
}

export async function listPoolsOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  return listPage(req, rt, {
    schema: 'pools',
    columns: POOL_COLUMNS,
    fetch: (f, top, cont) => rt.pools.list(f, top, cont),
    toJson: (p) => poolJson(req.origin, p.value, p.etag),
    stats: (p) => poolStats(rt, p.value, url(req, p.value.id)),
    metadata: 'pools',
  });
}

export async function deletePoolOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  await deletePool(rt, param(req, 'poolId'), guard(req));
  return emptyResponse(req, 202);
}

export async function resizePoolOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const id = param(req, 'poolId');
  const p = await resizePool(rt, id, validate(poolResize, jsonBody(req)), guard(req));
  return emptyResponse(req, 202, resourceHeaders(url(req, id), batchEtag(p.etag), p.value.lastModified));
}

export async function stopResizeOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const id = param(req, 'poolId');
  const p = await stopPoolResize(rt, id, guard(req));
  return emptyResponse(req, 202, resourceHeaders(url(req, id), batchEtag(p.etag), p.value.lastModified));
}

/** PATCH /pools/{poolId}: only the properties given change (200). */
export async function patchPoolOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const id = param(req, 'poolId');
  const p = await updatePool(rt, id, validate(poolPatch, jsonBody(req)), false, guard(req));
  return emptyResponse(req, 200, resourceHeaders(url(req, id), batchEtag(p.etag), p.value.lastModified));
}

/** POST /pools/{poolId}/updateproperties: replaces the updatable properties (204, as the spec and the recordings). */
export async function updatePropertiesOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const id = param(req, 'poolId');
  const p = await updatePool(rt, id, validate(poolUpdateProperties, jsonBody(req)), true, guard(req));
  return emptyResponse(req, 204, resourceHeaders(url(req, id), batchEtag(p.etag), p.value.lastModified));
}

/** POST /pools/{poolId}/removenodes (202). */
export async function removeNodesOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const id = param(req, 'poolId');
  const p = await removePoolNodes(rt, id, validate(nodeRemove, jsonBody(req)), guard(req));
  return emptyResponse(req, 202, resourceHeaders(url(req, id), batchEtag(p.etag), p.value.lastModified));
}

/** POST /pools/{poolId}/{action} */
export async function poolActionOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const action = param(req, 'action').toLowerCase();
  if (action === 'resize') return resizePoolOp(req, rt);
  if (action === 'stopresize') return stopResizeOp(req, rt);
  const autoscale = Object.hasOwn(AUTOSCALE_ACTIONS, action) ? AUTOSCALE_ACTIONS[action] : undefined;
  if (autoscale) return autoscale(req, rt);
  if (action === 'updateproperties') return updatePropertiesOp(req, rt);
  if (action === 'removenodes') return removeNodesOp(req, rt);
  throw new BatchError('InvalidUri', 'The requested URI does not represent any resource on the server.');
}
