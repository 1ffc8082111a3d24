import type { Registrar } from '../registrar';
import type { Runtime } from '../../shared/runtime';
import { exchange, exchangeRequest } from '../../shared/services/exchange';
import { BatchError, ensureBatchError } from '../../shared/errors';
import { validate } from '../../shared/api/validate';
import type { ExchangeRequest } from '../../shared/nodes/protocol';

/**
 * The node-agent endpoint (see shared/nodes/protocol.ts). Trigger: HTTP POST from an agent.
 * Auth: the node token, not Shared Key. Idempotency: by exchangeId (see services/exchange).
 */
export function registerAgentRoutes(app: Registrar, rt: Runtime): void {
  app.http('agentExchange', {
    route: 'agent/v1/pools/{poolId}/nodes/{nodeId}/exchange',
    methods: ['POST'],
    authLevel: 'anonymous',
    handler: async (request) => {
      try {
        let body: unknown;
        try {
          body = await request.json();
        } catch {
          throw new BatchError('InvalidRequestBody', 'The exchange body is not JSON.');
        }
        const res = await exchange(rt, request.params.poolId ?? '', request.params.nodeId ?? '', request.headers.get('authorization') ?? undefined, validate(exchangeRequest, body) as ExchangeRequest);
        return { status: 200, jsonBody: res };
      } catch (err) {
        const e = ensureBatchError(err);
        if (e.status >= 500) rt.telemetry.trackException(err instanceof Error ? err : new Error(String(err)));
        return { status: e.status, jsonBody: { code: e.code, message: e.message } };
      }
    },
  });
}
