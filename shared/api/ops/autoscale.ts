import { z } from 'zod';
import type { PoolRecord } from '../../domain/model';
import type { Runtime } from '../../runtime';
import type { Stored } from '../../storage/table';
import { disablePoolAutoScale, enablePoolAutoScale, evaluatePoolAutoScale } from '../../services/autoscale';
import { checkConditions } from '../conditions';
import { batchEtag } from '../etag';
import { validate } from '../validate';
import { emptyResponse, jsonBody, jsonResponse, metadataUrl, resourceHeaders, type ApiRequest, type ApiResponse } from '../wire';
import { param } from './common';

/**
 * POST /pools/{poolId}/enableautoscale | disableautoscale | evaluateautoscale (200 each).
 * As recorded from Azure: enable and disable answer with no body, ETag and Last-Modified of the
 * pool and DataServiceId = the action URL; evaluate answers the AutoScaleRun (formula errors are
 * inside it, still 200) with no ETag.
 */
const enableBody = z.object({ autoScaleFormula: z.string().optional(), autoScaleEvaluationInterval: z.string().optional() });
const evaluateBody = z.object({ autoScaleFormula: z.string() });

const actionUrl = (req: ApiRequest, id: string, action: string): string => `${req.origin}/pools/${id}/${action}`;
const guard = (req: ApiRequest) => (p: Stored<PoolRecord>): void => checkConditions(req, batchEtag(p.etag), p.value.lastModified, 'write');

/** A body is optional for enableautoscale only in form: `{}` still fails the "formula and/or interval" rule. */
function optionalJson(req: ApiRequest): unknown {
  return req.body.toString('utf8').trim() === '' ? {} : jsonBody(req);
}

export async function enableAutoScaleOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const id = param(req, 'poolId');
  const p = await enablePoolAutoScale(rt, id, validate(enableBody, optionalJson(req)), guard(req));
  return emptyResponse(req, 200, resourceHeaders(actionUrl(req, id, 'enableautoscale'), batchEtag(p.etag), p.value.lastModified));
}

export async function disableAutoScaleOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const id = param(req, 'poolId');
  const p = await disablePoolAutoScale(rt, id);
  return emptyResponse(req, 200, resourceHeaders(actionUrl(req, id, 'disableautoscale'), batchEtag(p.etag), p.value.lastModified));
}

export async function evaluateAutoScaleOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const id = param(req, 'poolId');
  const run = await evaluatePoolAutoScale(rt, id, validate(evaluateBody, jsonBody(req)).autoScaleFormula);
  const body = { 'odata.metadata': metadataUrl(req, 'Microsoft.Azure.Batch.Protocol.Entities.AutoScaleRun'), ...run };
  return jsonResponse(req, 200, body, { dataserviceid: actionUrl(req, id, 'evaluateautoscale') });
}

/** The autoscale actions by lower-cased name (wired in poolActionOp). */
export const AUTOSCALE_ACTIONS: Readonly<Record<string, (req: ApiRequest, rt: Runtime) => Promise<ApiResponse>>> = {
  enableautoscale: enableAutoScaleOp,
  disableautoscale: disableAutoScaleOp,
  evaluateautoscale: evaluateAutoScaleOp,
};
