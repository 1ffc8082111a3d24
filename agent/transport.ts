/**
 * One HTTP POST of an exchange, over a keep-alive agent. The outcome is classified for the loop:
 * `ok` (200 with a well-formed body), `retry` (network error, timeout, 5xx, malformed body: retry
 * the same exchange soon), `slow` (401/403 and other 4xx: log and retry the same exchange slowly).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { ExchangeRequest, ExchangeResponse } from '../shared/nodes/protocol';
import { parseStartTask } from './starttask';

export type PostOutcome =
  | { kind: 'ok'; response: ExchangeResponse }
  | { kind: 'retry' | 'slow'; status?: number; error: string };

export interface Transport {
  post(body: ExchangeRequest, timeoutMs: number, signal: AbortSignal): Promise<PostOutcome>;
  close(): void;
}

export function exchangePath(poolId: string, nodeId: string): string {
  return `/agent/v1/pools/${encodeURIComponent(poolId)}/nodes/${encodeURIComponent(nodeId)}/exchange`;
}

export function createTransport(controlUrl: string, poolId: string, nodeId: string, token: string): Transport {
  const base = new URL(controlUrl);
  const secure = base.protocol === 'https:';
  const lib = secure ? https : http;
  const agent = new lib.Agent({ keepAlive: true, maxSockets: 4, keepAliveMsecs: 10_000 });
  const path = `${base.pathname.replace(/\/+$/, '')}${exchangePath(poolId, nodeId)}`;
  const authorization = `BatchNode ${token}`;

  const post = (body: ExchangeRequest, timeoutMs: number, signal: AbortSignal): Promise<PostOutcome> =>
    new Promise((resolve) => {
      const payload = Buffer.from(JSON.stringify(body));
      let settled = false;
      const settle = (o: PostOutcome): void => {
        if (settled) return;
        settled = true;
        resolve(o);
      };
      const req = lib.request(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path,
          method: 'POST',
          agent,
          signal,
          timeout: timeoutMs,
          headers: { 'content-type': 'application/json', 'content-length': payload.length, authorization },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => settle({ kind: 'retry', error: err.message }));
          res.on('aborted', () => settle({ kind: 'retry', error: 'response aborted' }));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            if (status === 200) {
              const response = parseResponse(text);
              settle(response ? { kind: 'ok', response } : { kind: 'retry', status, error: 'malformed exchange response' });
            } else if (status >= 500 || status === 408 || status === 429) {
              settle({ kind: 'retry', status, error: `HTTP ${status}: ${text.slice(0, 200)}` });
            } else {
              settle({ kind: 'slow', status, error: `HTTP ${status}: ${text.slice(0, 200)}` });
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err) => settle({ kind: 'retry', error: err.message }));
      req.end(payload);
    });

  return { post, close: () => agent.destroy() };
}

function parseResponse(text: string): ExchangeResponse | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const tasks = o.tasks ?? [];
  const commands = o.commands ?? [];
  const acknowledged = o.acknowledged ?? [];
  if (!Array.isArray(tasks) || !Array.isArray(commands) || !Array.isArray(acknowledged)) return undefined;
  const okTask = (t: unknown): boolean => {
    if (typeof t !== 'object' || t === null) return false;
    const r = t as Record<string, unknown>;
    return typeof r.jobId === 'string' && typeof r.taskId === 'string' && typeof r.claim === 'string' && typeof r.commandLine === 'string';
  };
  if (!tasks.every(okTask)) return undefined;
  return {
    tasks: tasks.map((t: Record<string, unknown>) => ({
      ...(t as unknown as ExchangeResponse['tasks'][number]),
      resourceFiles: Array.isArray(t.resourceFiles) ? (t.resourceFiles as ExchangeResponse['tasks'][number]['resourceFiles']) : [],
      environment: typeof t.environment === 'object' && t.environment !== null ? (t.environment as Record<string, string>) : {},
      retryCount: typeof t.retryCount === 'number' ? t.retryCount : 0,
      requiredSlots: typeof t.requiredSlots === 'number' ? t.requiredSlots : 1,
    })),
    commands: commands.filter((c): c is ExchangeResponse['commands'][number] => typeof c === 'object' && c !== null && typeof (c as { kind?: unknown }).kind === 'string'),
    acknowledged: acknowledged.filter((k): k is string => typeof k === 'string'),
    ...parseStartTask(o.startTask),
  };
}
