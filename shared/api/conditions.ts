import { BatchError } from '../errors';
import { etagMatches } from './etag';
import type { ApiRequest } from './wire';

/**
 * If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since against a resource's Batch
 * ETag and lastModified. Reads fail with 304 ConditionNotMet, writes with 412 ConditionNotMet.
 * Returns normally when the request may proceed.
 */
export function checkConditions(req: ApiRequest, etag: string, lastModified: string, kind: 'read' | 'write'): void {
  const status = kind === 'read' ? 304 : 412;
  const fail = (): never => {
    throw new BatchError('ConditionNotMet', 'The condition specified using HTTP conditional header(s) is not met.', [], status);
  };
  const ifMatch = req.headers['if-match'];
  if (ifMatch && !etagMatches(ifMatch, etag)) throw new BatchError('ConditionNotMet', 'The condition specified using HTTP conditional header(s) is not met.', [], 412);
  const ifNone = req.headers['if-none-match'];
  if (ifNone && etagMatches(ifNone, etag)) fail();
  const modified = Math.floor(Date.parse(lastModified) / 1000);
  const since = req.headers['if-modified-since'];
  if (since && !Number.isNaN(Date.parse(since)) && modified <= Math.floor(Date.parse(since) / 1000)) fail();
  const unmod = req.headers['if-unmodified-since'];
  if (unmod && !Number.isNaN(Date.parse(unmod)) && modified > Math.floor(Date.parse(unmod) / 1000)) {
    throw new BatchError('ConditionNotMet', 'The condition specified using HTTP conditional header(s) is not met.', [], 412);
  }
}
