import { randomUUID } from 'node:crypto';
import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Operation } from '../../shared/api/handler';
import { runOperation } from '../../shared/api/handler';
import { errorResponse, parseQuery, type ApiRequest, type ApiResponse } from '../../shared/api/wire';
import { BatchError } from '../../shared/errors';
import type { Runtime } from '../../shared/runtime';

/** HttpRequest (Functions) → ApiRequest (ours); keeps the raw path for Shared Key. */
export async function toApiRequest(request: HttpRequest, rt: Runtime): Promise<ApiRequest> {
  const m = /^([a-z]+:\/\/[^/?#]+)([^#]*)$/i.exec(request.url);
  const origin = m?.[1] ?? rt.config.publicUrl;
  const raw = m?.[2] || '/';
  const headers: Record<string, string> = {};
  request.headers.forEach((v, k) => (headers[k.toLowerCase()] = v));
  const body = Buffer.from(await request.arrayBuffer());
  return { method: request.method.toUpperCase(), rawPathAndQuery: raw, origin, headers, query: parseQuery(raw), params: { ...request.params }, body, requestId: randomUUID(), now: rt.clock() };
}

export function toHttpResponse(res: ApiResponse): HttpResponseInit {
  return { status: res.status, headers: res.headers, body: res.body };
}

/** One HTTP trigger serving a route: dispatch by method to a Batch operation. */
export function batchRoute(rt: Runtime, ops: Partial<Record<'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', Operation>>): HttpHandler {
  return async (request) => {
    const req = await toApiRequest(request, rt);
    const op = ops[req.method as keyof typeof ops];
    if (!op) return toHttpResponse(errorResponse(req, new BatchError('UnsupportedHttpVerb', `The resource doesn't support the specified HTTP verb ${req.method}.`)));
    return toHttpResponse(await runOperation(rt, req, op));
  };
}

/** Every route accepts every verb, so a wrong verb gets Batch's 405 UnsupportedHttpVerb. */
export const ALL_METHODS: ('GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE')[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
