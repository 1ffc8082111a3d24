import { BatchError } from '../../errors';
import { SUPPORTED_IMAGES, type SupportedImage } from '../../domain/images';
import type { Runtime } from '../../runtime';
import type { ApiRequest, ApiResponse } from '../wire';
import { notAvailable } from './common';
import { listArray } from './list';

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

/** Every route of the spec that batchplane does not serve yet answers 400 with a clear code. */
export async function notYetOp(req: ApiRequest, _rt: Runtime): Promise<ApiResponse> {
  const path = req.rawPathAndQuery.split('?')[0] ?? '';
  throw notAvailable(`${req.method} ${decodeURIComponent(path)}`);
}

export async function unknownRouteOp(_req: ApiRequest, _rt: Runtime): Promise<ApiResponse> {
  throw new BatchError('InvalidUri', 'The requested URI does not represent any resource on the server.', [], 404);
}
