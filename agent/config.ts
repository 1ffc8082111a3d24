/** The agent's configuration, read from the environment names of AGENT_ENV (protocol.ts). */
import { AGENT_ENV } from '../shared/nodes/protocol';

export interface AgentConfig {
  /** Base URL of the control plane, e.g. http://127.0.0.1:7071 (the exchange path is appended). */
  controlUrl: string;
  /** nodeToken(accountKey, poolId, nodeId); sent as `authorization: BatchNode <token>`. */
  token: string;
  poolId: string;
  nodeId: string;
  /** The pool's taskSlotsPerNode. */
  slots: number;
  /** AZ_BATCH_NODE_ROOT_DIR: shared/, startup/ and workitems/ are created under it. */
  rootDir: string;
  accountName: string;
  accountUrl: string;
  /** AZ_BATCH_NODE_IS_DEDICATED (default true). */
  isDedicated?: boolean;
  /** Where the agent's own output goes (AGENT_ENV.logFile); its directory holds the service logs. */
  logFile?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function configFromEnv(env: Record<string, string | undefined> = process.env): AgentConfig {
  const missing: string[] = [];
  const need = (name: string): string => {
    const v = env[name];
    if (!v) missing.push(name);
    return v ?? '';
  };
  const config: AgentConfig = {
    controlUrl: need(AGENT_ENV.controlUrl),
    token: need(AGENT_ENV.token),
    poolId: need(AGENT_ENV.poolId),
    nodeId: need(AGENT_ENV.nodeId),
    rootDir: need(AGENT_ENV.rootDir),
    accountName: env[AGENT_ENV.accountName] ?? '',
    accountUrl: env[AGENT_ENV.accountUrl] ?? '',
    slots: 1,
    isDedicated: env.AZ_BATCH_NODE_IS_DEDICATED !== 'false',
    ...(env[AGENT_ENV.logFile] ? { logFile: env[AGENT_ENV.logFile] } : {}),
  };
  if (missing.length) throw new ConfigError(`Missing environment variables: ${missing.join(', ')}`);
  const slots = env[AGENT_ENV.slots];
  if (slots !== undefined && slots !== '') {
    const n = Number(slots);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${AGENT_ENV.slots} must be a positive integer, got ${JSON.stringify(slots)}`);
    config.slots = n;
  }
  try {
    new URL(config.controlUrl);
  } catch {
    throw new ConfigError(`${AGENT_ENV.controlUrl} is not a URL: ${JSON.stringify(config.controlUrl)}`);
  }
  return config;
}
