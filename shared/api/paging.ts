import { z } from 'zod';
import { BatchError } from '../errors';
import type { ApiRequest } from './wire';

/** What a list request asked for; carried inside the opaque $skiptoken of the next link. */
export interface ListQuery {
  filter?: string;
  select?: string;
  expand?: string;
  maxResults: number;
  /** Storage continuation (opaque to us too). */
  continuation?: string;
  /** List-specific extras (e.g. `recursive` for file lists). */
  extra?: Record<string, string>;
}

export function maxResultsOf(req: ApiRequest): number {
  const raw = req.query.get('maxresults');
  if (raw === undefined) return 1000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new BatchError('InvalidQueryParameterValue', 'Value for one of the query parameters specified in the request URI is invalid.', [
      { key: 'QueryParameterName', value: 'maxresults' },
      { key: 'QueryParameterValue', value: raw },
      { key: 'Reason', value: 'MaxResults cannot be less than 1 or more than 1000' },
    ]);
  }
  return n;
}

const skipToken = z.object({
  filter: z.string().optional(),
  select: z.string().optional(),
  expand: z.string().optional(),
  maxResults: z.number().int().min(1).max(1000),
  continuation: z.string().optional(),
  extra: z.record(z.string(), z.string()).optional(),
});

/** Reads the list query, from $skiptoken when following a next link. */
export function listQueryOf(req: ApiRequest, extraNames: string[] = []): ListQuery {
  const token = req.query.get('$skiptoken');
  if (token) {
    try {
      return skipToken.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
    } catch {
      throw new BatchError('InvalidQueryParameterValue', 'Value for one of the query parameters specified in the request URI is invalid.', [{ key: 'QueryParameterName', value: '$skiptoken' }]);
    }
  }
  const extra: Record<string, string> = {};
  for (const n of extraNames) {
    const v = req.query.get(n);
    if (v !== undefined) extra[n] = v;
  }
  return { filter: req.query.get('$filter'), select: req.query.get('$select'), expand: req.query.get('$expand'), maxResults: maxResultsOf(req), extra };
}

/** The absolute next link carrying the whole query and the storage continuation. */
export function nextLink(req: ApiRequest, q: ListQuery, continuation: string | undefined): string | undefined {
  if (!continuation) return undefined;
  const path = req.rawPathAndQuery.split('?')[0];
  const token = Buffer.from(JSON.stringify({ ...q, continuation })).toString('base64url');
  return `${req.origin}${path}?api-version=${encodeURIComponent(req.query.get('api-version') ?? '')}&$skiptoken=${token}`;
}
