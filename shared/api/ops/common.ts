import { BatchError } from '../../errors';
import type { ApiRequest } from '../wire';

export function param(req: ApiRequest, name: string): string {
  const v = req.params[name];
  if (v === undefined || v === '') throw new BatchError('InvalidUri', 'The requested URI does not represent any resource on the server.');
  return v;
}

export function notAvailable(what: string): BatchError {
  return new BatchError('OperationNotSupported', `${what} is not available yet in batchplane.`);
}

/** A list page: `{odata.metadata, value, odata.nextLink?}`. */
export function listBody(metadata: string, value: unknown[], next: string | undefined): Record<string, unknown> {
  return { 'odata.metadata': metadata, value, ...(next ? { 'odata.nextLink': next } : {}) };
}
