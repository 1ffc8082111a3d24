import { BatchError, ensureBatchError } from '../errors';
import type { Account } from './sharedkey';

/** A Batch REST request, independent of the HTTP framework that carried it. */
export interface ApiRequest {
  method: string;
  /** The raw request target (path + query) exactly as received. */
  rawPathAndQuery: string;
  /** `scheme://host[:port]` as the client addressed us (for absolute links). */
  origin: string;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** Query parameters by lower-cased name (Batch treats names case-insensitively). */
  query: Map<string, string>;
  params: Record<string, string>;
  body: Buffer;
  requestId: string;
  now: Date;
  account?: Account;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export const SUPPORTED_API_VERSIONS = new Set(['2022-10-01.16.0', '2023-05-01.17.0', '2023-11-01.18.0', '2024-02-01.19.0', '2024-07-01.20.0', '2025-06-01.21.0']);

export function parseQuery(rawPathAndQuery: string): Map<string, string> {
  const q = rawPathAndQuery.indexOf('?');
  const out = new Map<string, string>();
  if (q < 0) return out;
  for (const [k, v] of new URLSearchParams(rawPathAndQuery.slice(q + 1))) if (!out.has(k.toLowerCase())) out.set(k.toLowerCase(), v);
  return out;
}

/** Missing api-version → 400 MissingRequiredQueryParameter; an unknown one → 400 UnsupportedRequestVersion. */
export function checkApiVersion(req: ApiRequest): void {
  const v = req.query.get('api-version');
  if (!v) throw new BatchError('MissingRequiredQueryParameter', 'A query parameter that\'s mandatory for this request is not specified.', [{ key: 'QueryParameterName', value: 'api-version' }]);
  if (!SUPPORTED_API_VERSIONS.has(v)) throw new BatchError('UnsupportedRequestVersion', 'The specified api version is not supported.', [{ key: 'QueryParameterName', value: 'api-version' }, { key: 'QueryParameterValue', value: v }]);
}

/** Parses a JSON request body; malformed → 400 InvalidRequestBody. */
export function jsonBody(req: ApiRequest): unknown {
  const text = req.body.toString('utf8').trim();
  if (text === '') throw new BatchError('InvalidRequestBody', 'The specified Request Body is not syntactically valid.', [{ key: 'Reason', value: 'The request body is empty.' }]);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BatchError('InvalidRequestBody', 'The specified Request Body is not syntactically valid.', [{ key: 'Reason', value: String((err as Error).message) }]);
  }
}

function baseHeaders(req: ApiRequest): Record<string, string> {
  const h: Record<string, string> = { 'request-id': req.requestId, dataserviceversion: '3.0' };
  const crid = req.headers['client-request-id'];
  if (crid && (req.headers['return-client-request-id'] ?? '').toLowerCase() === 'true') h['client-request-id'] = crid;
  return h;
}

export function metadataUrl(req: ApiRequest, fragment: string): string {
  return `${req.origin}/$metadata#${fragment}`;
}

export function jsonResponse(req: ApiRequest, status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return {
    status,
    headers: { ...baseHeaders(req), 'content-type': 'application/json;odata=minimalmetadata', ...headers },
    body: JSON.stringify(body),
  };
}

export function emptyResponse(req: ApiRequest, status: number, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { ...baseHeaders(req), 'content-length': '0', ...headers } };
}

/** Headers of a write that changed one resource. */
export function resourceHeaders(url: string, etag: string, lastModified: string, location = false): Record<string, string> {
  const h: Record<string, string> = { etag, 'last-modified': new Date(lastModified).toUTCString(), dataserviceid: url };
  if (location) h.location = url;
  return h;
}

/** The flat Batch error body (never `odata.error`-wrapped). */
export function errorResponse(req: ApiRequest, err: unknown): ApiResponse {
  const e = ensureBatchError(err);
  const body = {
    'odata.metadata': metadataUrl(req, 'Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element'),
    code: e.code,
    message: { lang: 'en-US', value: `${e.message}\nRequestId:${req.requestId}\nTime:${req.now.toISOString()}` },
    ...(e.values.length ? { values: e.values } : {}),
  };
  if (req.method === 'HEAD') return emptyResponse(req, e.status, { 'x-ms-error-code': e.code });
  return jsonResponse(req, e.status, body);
}

export function isBatchError(err: unknown): err is BatchError {
  return err instanceof BatchError;
}
