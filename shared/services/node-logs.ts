import type { Runtime } from '../runtime';
import type { ServiceLogFile } from '../nodes/provider';
import { assertNodeAllows, loadNode, sendNodeCommands } from './node-control';

export interface UploadLogsRequest {
  containerUrl: string;
  startTime: string;
  endTime?: string;
}

export interface UploadLogsResult {
  virtualDirectoryName: string;
  numberOfFilesUploaded: number;
}

/**
 * The log files that hold messages of [start, end]: every file whose span (creation → last write)
 * meets the range. As on Azure, whole files are uploaded, so more than the range may come along.
 */
export function logsInRange(files: ServiceLogFile[], start: string, end?: string): ServiceLogFile[] {
  const from = Date.parse(start);
  const to = end ? Date.parse(end) : Number.POSITIVE_INFINITY;
  return files.filter((f) => Date.parse(f.lastModified) >= from && Date.parse(f.creationTime) <= to);
}

/**
 * POST …/uploadbatchservicelogs: picks the node agent's log files for the time range and tells
 * the agent to upload them to `{container}/{virtualDirectoryName}/`. Like Azure, the answer comes
 * at once with the number of files that WILL be uploaded; the agent uploads in the background
 * (within a second or so: the command wakes its long poll). The virtual directory is
 * `{account}/{pool id, lower case}/{node id}/{request id}`, unique per request as on Azure.
 */
export async function uploadNodeLogs(rt: Runtime, poolId: string, nodeId: string, req: UploadLogsRequest, requestId: string): Promise<UploadLogsResult> {
  const node = await loadNode(rt, poolId, nodeId);
  assertNodeAllows(node.value, 'uploadLogs');
  const files = logsInRange(await rt.provider.serviceLogs(poolId, nodeId), req.startTime, req.endTime);
  const virtualDirectoryName = `${rt.config.accountName}/${poolId.toLowerCase()}/${nodeId}/${requestId}`;
  if (files.length) await sendNodeCommands(rt, poolId, nodeId, [{ kind: 'uploadServiceLogs', containerUrl: req.containerUrl, virtualDirectoryName, files: files.map((f) => f.name) }]);
  return { virtualDirectoryName, numberOfFilesUploaded: files.length };
}
