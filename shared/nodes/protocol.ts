/**
 * The node-agent protocol: JSON over HTTP, always initiated by the agent (outbound only), so the
 * same agent can run on any VM. One exchange = "here is what happened on my node, give me work".
 *
 *   POST {controlUrl}/agent/v1/pools/{poolId}/nodes/{nodeId}/exchange
 *   headers: authorization: BatchNode {token}      (token = nodeToken(accountKey, poolId, nodeId))
 *   body:    ExchangeRequest      → 200 ExchangeResponse
 *
 * The host holds the request open (long poll) up to `waitMs` while there is nothing to hand out.
 * A request that fails (network, 5xx) is retried by the agent with the SAME `exchangeId` and the
 * same completions: the host treats a repeated exchangeId idempotently (completions already
 * applied are skipped; tasks already claimed for that exchangeId are handed out again).
 */

export const AGENT_PROTOCOL_VERSION = 1;

export interface ExchangeRequest {
  /** Unique per logical exchange (uuid); reused verbatim on retries of the same exchange. */
  exchangeId: string;
  /** 1 for the first send, 2+ for retries of the same exchangeId. */
  attempt: number;
  /** First exchange after the agent process started (node joins / rejoins the pool). */
  boot?: boolean;
  agentVersion: string;
  /** Task slots currently free on this node (pool taskSlotsPerNode minus slots of running tasks). */
  freeSlots: number;
  /** How long the host may hold the request when there is no work (ms, ≤ 30000). 0 = answer at once. */
  waitMs: number;
  /** Tasks that finished since the last acknowledged exchange. */
  completions: TaskCompletion[];
  /** Keys (`jobId/taskId`) of every task process the agent is running now. */
  running: string[];
  /** Resource usage of the node since the previous exchange (optional; used by autoscale metrics). */
  usage?: NodeUsage;
}

export interface ExchangeResponse {
  /** Tasks newly assigned to this node; the agent starts them at once. */
  tasks: TaskAssignment[];
  /** Control commands for the agent. */
  commands: AgentCommand[];
  /** Completions the host has durably applied (by `jobId/taskId`); the agent may forget them. */
  acknowledged: string[];
}

export type AgentCommand =
  | { kind: 'terminateTask'; jobId: string; taskId: string }
  | { kind: 'shutdown' };

export interface ResourceFileSpec {
  httpUrl?: string;
  storageContainerUrl?: string;
  autoStorageContainerName?: string;
  blobPrefix?: string;
  filePath?: string;
  /** Octal string such as "0755" (Linux). */
  fileMode?: string;
}

export interface TaskAssignment {
  jobId: string;
  taskId: string;
  /** Opaque concurrency token of the claim; echoed back in the completion. */
  claim: string;
  /** Retry number of this attempt (0 for the first run). */
  retryCount: number;
  commandLine: string;
  resourceFiles: ResourceFileSpec[];
  /** Job commonEnvironmentSettings merged with the task's environmentSettings (task wins). */
  environment: Record<string, string>;
  /** Seconds; absent = unlimited. */
  maxWallClockSeconds?: number;
  requiredSlots: number;
}

export interface TaskFailureInfo {
  category: 'usererror' | 'servererror';
  code: string;
  message: string;
  details?: { name: string; value: string }[];
}

export interface TaskCompletion {
  jobId: string;
  taskId: string;
  claim: string;
  /** ISO 8601 times measured on the node. */
  startTime: string;
  endTime: string;
  /** Absent when the process never started (e.g. resource file download failed). */
  exitCode?: number;
  result: 'success' | 'failure';
  failureInfo?: TaskFailureInfo;
  /** True when the task hit maxWallClockTime and was killed. */
  timedOut?: boolean;
  /** Measured process statistics (best effort). */
  stats?: { userCpuMs: number; kernelCpuMs: number; maxRssBytes: number; readBytes?: number; writeBytes?: number; readOps?: number; writeOps?: number };
}

export interface NodeUsage {
  cpuPercent: number;
  memoryBytes: number;
  diskBytes?: number;
  diskReadBytes?: number;
  diskWriteBytes?: number;
  diskReadOps?: number;
  diskWriteOps?: number;
  networkInBytes?: number;
  networkOutBytes?: number;
  /**
   * Lifetime figures of the agent (since its usage sampler started, `upMs` ago), for pool statistics:
   * time-weighted averages and peaks over the samples taken, and cumulative counters.
   */
  upMs?: number;
  cpuPercentAvg?: number;
  memoryBytesAvg?: number;
  memoryBytesPeak?: number;
  diskBytesAvg?: number;
  diskBytesPeak?: number;
  diskReadBytesTotal?: number;
  diskWriteBytesTotal?: number;
  diskReadOpsTotal?: number;
  diskWriteOpsTotal?: number;
  networkInBytesTotal?: number;
  networkOutBytesTotal?: number;
}

/** Environment the node provider passes to an agent process. */
export const AGENT_ENV = {
  controlUrl: 'BATCHPLANE_CONTROL_URL',
  token: 'BATCHPLANE_NODE_TOKEN',
  slots: 'BATCHPLANE_TASK_SLOTS',
  accountName: 'AZ_BATCH_ACCOUNT_NAME',
  accountUrl: 'AZ_BATCH_ACCOUNT_URL',
  poolId: 'AZ_BATCH_POOL_ID',
  nodeId: 'AZ_BATCH_NODE_ID',
  rootDir: 'AZ_BATCH_NODE_ROOT_DIR',
} as const;
