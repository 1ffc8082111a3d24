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
  /** The start task's latest run (sent with every exchange once it started; absent before). */
  startTaskInfo?: StartTaskReport;
  /** Job preparation/release runs that changed since the host last answered (agent/jobtasks.ts). */
  jobTaskReports?: JobTaskReport[];
  /** Jobs whose preparation task failed on this node (waitForSuccess): hand out none of their tasks. */
  unpreparedJobs?: string[];
}

export interface ExchangeResponse {
  /** Tasks newly assigned to this node; the agent starts them at once. */
  tasks: TaskAssignment[];
  /** Control commands for the agent. */
  commands: AgentCommand[];
  /** Completions the host has durably applied (by `jobId/taskId`); the agent may forget them. */
  acknowledged: string[];
  /**
   * Answer to a boot exchange of a pool with a start task: the agent runs it now (in
   * AZ_BATCH_NODE_STARTUP_DIR) and reports it in `startTaskInfo`. With waitForSuccess the host
   * hands out no task until the agent reports it succeeded.
   */
  startTask?: StartTaskSpec;
}

export interface StartTaskSpec {
  commandLine: string;
  resourceFiles: ResourceFileSpec[];
  /** The start task's environmentSettings. */
  environment: Record<string, string>;
  /** Retries after a failed run (-1 = unlimited). */
  maxTaskRetryCount: number;
  waitForSuccess: boolean;
  elevationLevel: 'nonadmin' | 'admin';
  scope: 'pool' | 'task';
}

/** The start task's latest run on the node (REST StartTaskInformation). */
export interface StartTaskReport {
  state: 'running' | 'completed';
  /** ISO 8601 start of the current (latest) attempt. */
  startTime: string;
  endTime?: string;
  /** Absent when the process never started. */
  exitCode?: number;
  result?: 'success' | 'failure';
  failureInfo?: TaskFailureInfo;
  retryCount: number;
  lastRetryTime?: string;
}

export type AgentCommand =
  | { kind: 'terminateTask'; jobId: string; taskId: string }
  | { kind: 'shutdown' }
  | UploadServiceLogsCommand
  | RunJobReleaseCommand;

/** Run the job's release task on this node (the job was terminated or deleted); reported in jobTaskReports. */
export interface RunJobReleaseCommand {
  kind: 'runJobRelease';
  jobId: string;
  /** The job's preparation task id (its directory is AZ_BATCH_JOB_PREP_DIR of the release). */
  preparationId: string;
  release: JobTaskRunSpec;
}

/**
 * A job's preparation or release task as the agent runs it, in
 * <root>/workitems/<jobId>/job-1/<id> (wd inside), with the job's AZ_BATCH_* variables.
 */
export interface JobTaskRunSpec {
  id: string;
  commandLine: string;
  resourceFiles: ResourceFileSpec[];
  /** The task's environmentSettings (the job's commonEnvironmentSettings do not apply, as on Azure). */
  environment: Record<string, string>;
  /** Seconds; absent = unlimited. */
  maxWallClockSeconds?: number;
  elevationLevel: 'nonadmin' | 'admin';
}

/** The job preparation task an assignment of its job carries (each of them, so any node can prepare). */
export interface JobPreparationSpec extends JobTaskRunSpec {
  /** Retries after a failed run (-1 = unlimited). */
  maxTaskRetryCount: number;
  waitForSuccess: boolean;
  rerunOnNodeRebootAfterSuccess: boolean;
}

/** The latest preparation and/or release run of one job on this node (same shape as the start task's). */
export interface JobTaskReport {
  jobId: string;
  preparation?: StartTaskReport;
  release?: StartTaskReport;
}

/**
 * Upload the agent's own log files (uploadbatchservicelogs): each named file of the agent's log
 * directory goes to `{containerUrl}/{virtualDirectoryName}/{file}` (PUT Blob with the container
 * URL's SAS). The control plane chose the files (those whose time span meets the requested range);
 * the agent uploads in the background and only logs failures (the REST call has already answered).
 */
export interface UploadServiceLogsCommand {
  kind: 'uploadServiceLogs';
  containerUrl: string;
  virtualDirectoryName: string;
  /** Base names inside the agent's log directory (no separators). */
  files: string[];
}

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
  /** Files to upload after the process exits (task outputFiles). */
  outputFiles?: OutputFileUpload[];
  /** Seconds to keep the task directory after the task completes (retentionTime); absent = 7 days. */
  retentionSeconds?: number;
  /** The job's preparation task: run once on the node before its first task of the job. */
  jobPreparation?: JobPreparationSpec;
}

/** One task outputFiles entry, as the agent needs it. */
export interface OutputFileUpload {
  /** Relative to the task working directory; `*`, `**`, `?`, `[...]`; $VAR expanded. */
  filePattern: string;
  /** Container URL with a SAS granting write access. */
  containerUrl: string;
  /** Blob name (pattern without wildcards) or virtual directory (with wildcards). */
  path?: string;
  uploadCondition: 'tasksuccess' | 'taskfailure' | 'taskcompletion';
  uploadHeaders?: { name: string; value?: string }[];
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
  /**
   * The task was not run and goes back to the queue (no retry counted): its job's preparation task
   * failed on this node (waitForSuccess). Azure: the task "will return to active and will be
   * eligible to be assigned to a different Compute Node".
   */
  requeue?: boolean;
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
  /** The file the agent's stdout/stderr go to; its directory holds the node's service logs. */
  logFile: 'BATCHPLANE_AGENT_LOG_FILE',
} as const;
