/**
 * uploadbatchservicelogs on the node: the agent PUTs its own log files (the directory of
 * AGENT_ENV.logFile) to `{container}/{virtualDirectoryName}/{file}` as block blobs, authorised by
 * the SAS of the container URL. Only files named `<nodeId>.agent[.<n>].log` are ever read, so a
 * command cannot make the agent upload anything else.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { UploadServiceLogsCommand } from '../shared/nodes/protocol';
import type { Logger } from './log';

export interface ServiceLogUpload {
  uploaded: string[];
  failed: { file: string; error: string }[];
}

/** Whether `file` is one of this node's service log files (a base name, no separators). */
export function isServiceLogName(nodeId: string, file: string): boolean {
  const prefix = `${nodeId}.agent.`;
  return file.startsWith(prefix) && /^(\d+\.)?log$/.test(file.slice(prefix.length)) && !/[\\/]/.test(file);
}

/** The blob URL of one uploaded file: the container path + virtual directory + name, with the SAS query kept. */
export function blobUrl(containerUrl: string, virtualDirectory: string, file: string): string {
  const u = new URL(containerUrl);
  const segments = [...virtualDirectory.split('/'), file].filter((s) => s !== '').map(encodeURIComponent);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${segments.join('/')}`;
  return u.toString();
}

export async function uploadServiceLogs(
  cmd: UploadServiceLogsCommand,
  opts: { nodeId: string; logDir: string; log: Logger; fetch?: typeof fetch },
): Promise<ServiceLogUpload> {
  const doFetch = opts.fetch ?? fetch;
  const out: ServiceLogUpload = { uploaded: [], failed: [] };
  for (const file of cmd.files) {
    if (!isServiceLogName(opts.nodeId, file)) {
      out.failed.push({ file, error: 'not a service log file of this node' });
      continue;
    }
    try {
      const body = await readFile(path.join(opts.logDir, file));
      const res = await doFetch(blobUrl(cmd.containerUrl, cmd.virtualDirectoryName, file), {
        method: 'PUT',
        headers: { 'x-ms-blob-type': 'BlockBlob', 'x-ms-version': '2021-08-06', 'content-type': 'text/plain; charset=utf-8' },
        body,
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      out.uploaded.push(file);
    } catch (err) {
      out.failed.push({ file, error: (err as Error).message });
    }
  }
  opts.log[out.failed.length ? 'warn' : 'info']('service logs uploaded', { virtualDirectoryName: cmd.virtualDirectoryName, uploaded: out.uploaded.length, failed: out.failed });
  return out;
}
