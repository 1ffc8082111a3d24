import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import { startStack, type Stack } from '../../../infra/local/stack';

export interface TestStack extends Stack {
  client: BatchServiceClient;
  dataDir: string;
  stop(): Promise<void>;
}

/** A fresh local stack (in-memory Azurite, free ports, temp data dir) and an official client. */
export async function startTestStack(env: NodeJS.ProcessEnv = {}): Promise<TestStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bp-e2e-'));
  const stack = await startStack({ port: 0, dataDir, azurite: { blobPort: 0, queuePort: 0, tablePort: 0, inMemory: true }, env: { ...process.env, ...env } });
  const client = new BatchServiceClient(new BatchSharedKeyCredentials(stack.accountName, stack.accountKey), stack.url, { noRetryPolicy: true });
  return {
    ...stack,
    client,
    dataDir,
    stop: async () => {
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A probe that never settles must not outlive the deadline: it fails naming what it waited for.
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what} (a probe did not answer in 30 s past the deadline)`)), Math.max(deadline - Date.now(), 0) + 30_000);
    });
    const v = await Promise.race([probe(), hung]).finally(() => clearTimeout(timer));
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Step markers for a long test: on failure it prints which step it was in and when each began,
 * so a rare CI timeout names its slow step.
 */
export function stepLog(testName: string, onFailed: (fn: () => void) => void): (name: string) => void {
  const t0 = Date.now();
  const steps: string[] = [];
  onFailed(() => console.warn(`${testName} steps:\n  ${steps.join('\n  ')}`));
  return (name) => void steps.push(`${Date.now() - t0} ms ${name}`);
}

/** The error code and status of a rejected client call. */
export async function errorOf(p: Promise<unknown>): Promise<{ statusCode?: number; code?: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { statusCode?: number; code?: string; body?: { code?: string } };
    return { statusCode: e.statusCode, code: e.code ?? e.body?.code };
  }
  throw new Error('expected the call to fail');
}

export const IMAGE = {
  imageReference: { publisher: 'canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts', version: 'latest' },
  nodeAgentSKUId: 'batch.node.ubuntu 22.04',
};
