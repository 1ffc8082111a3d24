import type { Runtime } from '../runtime';
import { authenticate } from './sharedkey';
import { checkApiVersion, errorResponse, type ApiRequest, type ApiResponse } from './wire';

/** A Batch REST operation: parse and validate the request, call one service, map the result. */
export type Operation = (req: ApiRequest, rt: Runtime) => Promise<ApiResponse>;

/**
 * Runs one operation with the checks every Batch request gets: Shared Key (the account comes from
 * the Authorization header), api-version, and the mapping of every error to the flat Batch error
 * body. Nothing escapes as a 500 page: unknown errors become InternalError without a stack.
 */
export async function runOperation(rt: Runtime, req: ApiRequest, op: Operation): Promise<ApiResponse> {
  try {
    req.account = authenticate(req, [{ name: rt.config.accountName, key: rt.config.accountKey }], req.now);
    checkApiVersion(req);
    return await op(req, rt);
  } catch (err) {
    const res = errorResponse(req, err);
    if (res.status >= 500) rt.telemetry.trackException(err instanceof Error ? err : new Error(String(err)), { path: req.rawPathAndQuery });
    return res;
  }
}
