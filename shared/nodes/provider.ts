/**
 * The node-provider port: how the control plane gets compute nodes. The `local` provider runs each
 * node as a node-agent process on this machine; a cloud provider would create VMs. Providers only
 * start and stop agents; everything else goes through the agent protocol.
 */
export interface NodeLaunchSpec {
  poolId: string;
  nodeId: string;
  vmSize: string;
  taskSlotsPerNode: number;
  /** Secret the agent presents on every exchange. */
  token: string;
  /** Base URL of the control plane the agent talks to. */
  controlUrl: string;
  accountName: string;
  accountUrl: string;
}

export type ProviderData = Record<string, string | number>;

export interface FileEntry {
  /** Path relative to the directory listed, with '/' separators. */
  name: string;
  isDirectory: boolean;
  contentLength: number;
  creationTime: string;
  lastModified: string;
  fileMode?: string;
}

export interface NodeFiles {
  /** Lists a directory (relative to the node root); undefined when it does not exist. */
  list(poolId: string, nodeId: string, dir: string, recursive: boolean): Promise<FileEntry[] | undefined>;
  /** Stats one file or directory; undefined when missing or outside the node root. */
  stat(poolId: string, nodeId: string, path: string): Promise<FileEntry | undefined>;
  /** Reads [start, end] (inclusive) of a file. */
  read(poolId: string, nodeId: string, path: string, range?: { start: number; end: number }): Promise<Buffer>;
  /** Deletes a file or directory (a non-empty directory only when recursive); never outside the node root. */
  delete(poolId: string, nodeId: string, path: string, recursive: boolean): Promise<DeleteOutcome>;
}

export type DeleteOutcome = 'deleted' | 'notFound' | 'notEmpty';

/** One service log file of a node (the node agent's own logs). */
export interface ServiceLogFile {
  /** Base name inside the agent's log directory. */
  name: string;
  /** When the file was started and last written (ISO 8601). */
  creationTime: string;
  lastModified: string;
}

export interface NodeProvider {
  readonly kind: string;
  launch(spec: NodeLaunchSpec): Promise<ProviderData>;
  /** Stops the node's agent and frees the node (idempotent). */
  remove(poolId: string, nodeId: string, data: ProviderData): Promise<void>;
  /**
   * Reboot or reimage: stops the node's agent (and everything it runs), then starts it again with
   * the same identity; `wipe` (reimage) first empties the node's root directory. Returns the new
   * provider data.
   */
  restart(spec: NodeLaunchSpec, data: ProviderData, options: { wipe: boolean }): Promise<ProviderData>;
  /** The node agent's log files, oldest first (uploadbatchservicelogs). */
  serviceLogs(poolId: string, nodeId: string): Promise<ServiceLogFile[]>;
  /** Cheap liveness probe when the provider can tell (local: the process exists); undefined = unknown. */
  isAlive(data: ProviderData): boolean | undefined;
  readonly files: NodeFiles;
  /** Stops every node this provider started in this process (local: Ctrl-C leaves no orphans). */
  shutdown(): Promise<void>;
}
