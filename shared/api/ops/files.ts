import { BatchError } from '../../errors';
import type { FileEntry } from '../../nodes/provider';
import type { Runtime } from '../../runtime';
import { getTask } from '../../services/tasks';
import { emptyResponse, type ApiRequest, type ApiResponse } from '../wire';
import { param } from './common';
import { listArray } from './list';

/**
 * Task and node files, served from the node through the node provider. Paths never escape the
 * node root (the provider refuses `..`, absolute paths and symlinks out of the tree).
 */
interface Target {
  poolId: string;
  nodeId: string;
  /** Directory on the node that names are relative to ('' = node root). */
  base: string;
  urlBase: string;
}

async function taskTarget(req: ApiRequest, rt: Runtime): Promise<Target> {
  const jobId = param(req, 'jobId');
  const taskId = param(req, 'taskId');
  const t = (await getTask(rt, jobId, taskId)).value;
  if (!t.nodeInfo) throw new BatchError('TaskFilesUnavailable', 'The files of the specified task are not available: the task has not run on a node yet.');
  const node = await rt.nodes.get(t.nodeInfo.poolId, t.nodeInfo.nodeId);
  if (!node) throw new BatchError('TaskFilesUnavailable', 'The files of the specified task are not available: the compute node that ran it no longer exists.');
  return { poolId: t.nodeInfo.poolId, nodeId: t.nodeInfo.nodeId, base: t.nodeInfo.taskRootDirectory, urlBase: `${req.origin}/jobs/${jobId}/tasks/${taskId}/files` };
}

async function nodeTarget(req: ApiRequest, rt: Runtime): Promise<Target> {
  const poolId = param(req, 'poolId');
  const nodeId = param(req, 'nodeId');
  if (!(await rt.pools.get(poolId))) throw new BatchError('PoolNotFound', 'The specified pool does not exist.');
  if (!(await rt.nodes.get(poolId, nodeId))) throw new BatchError('NodeNotFound', 'The specified node does not exist.');
  return { poolId, nodeId, base: '', urlBase: `${req.origin}/pools/${poolId}/nodes/${nodeId}/files` };
}

function relPath(req: ApiRequest): string {
  const p = req.params.filePath ?? '';
  if (p === '' || p.includes('\0') || p.startsWith('/') || p.split(/[\\/]/).includes('..')) throw new BatchError('FileNotFound', 'The specified file does not exist.');
  return p;
}

function fileJson(t: Target, e: FileEntry): Record<string, unknown> {
  return {
    name: e.name,
    url: `${t.urlBase}/${encodeURIComponent(e.name)}`,
    isDirectory: e.isDirectory,
    properties: { creationTime: e.creationTime, lastModified: e.lastModified, contentLength: e.contentLength, contentType: 'application/octet-stream', fileMode: e.fileMode },
  };
}

/** A file listing, in name order, paged by name (files added between pages do not shift the others). */
async function list(req: ApiRequest, rt: Runtime, target: Target): Promise<ApiResponse> {
  return listArray(req, {
    schema: 'files',
    metadata: 'files',
    extraParams: ['recursive'],
    items: async (q) => {
      const recursive = (q.extra?.recursive ?? 'false').toLowerCase() === 'true';
      const entries = (await rt.provider.files.list(target.poolId, target.nodeId, target.base, recursive)) ?? [];
      const prefix = target.base ? `${target.base}/` : '';
      return entries.map((e) => fileJson(target, { ...e, name: e.name.startsWith(prefix) ? e.name.slice(prefix.length) : e.name }));
    },
    key: (f) => String(f.name),
  });
}

async function get(req: ApiRequest, rt: Runtime, target: Target): Promise<ApiResponse> {
  const rel = relPath(req);
  const full = target.base ? `${target.base}/${rel}` : rel;
  const st = await rt.provider.files.stat(target.poolId, target.nodeId, full);
  if (!st) throw new BatchError('FileNotFound', 'The specified file does not exist.');
  const headers: Record<string, string> = {
    'ocp-creation-time': new Date(st.creationTime).toUTCString(),
    'ocp-batch-file-isdirectory': String(st.isDirectory),
    'ocp-batch-file-url': `${target.urlBase}/${encodeURIComponent(rel)}`,
    'ocp-batch-file-mode': st.fileMode ?? '0644',
    'last-modified': new Date(st.lastModified).toUTCString(),
    'content-type': 'application/octet-stream',
  };
  const since = req.headers['if-modified-since'];
  if (since && Date.parse(since) >= Math.floor(Date.parse(st.lastModified) / 1000) * 1000) return emptyResponse(req, 304, headers);
  if (req.method === 'HEAD') return { ...emptyResponse(req, 200, headers), headers: { ...emptyResponse(req, 200).headers, ...headers, 'content-length': String(st.contentLength) } };
  if (st.isDirectory) throw new BatchError('FileNotFound', 'The specified path is a directory.');
  const range = parseRange(req.headers['ocp-range'] ?? req.headers['range'], st.contentLength);
  const body = await rt.provider.files.read(target.poolId, target.nodeId, full, range);
  return { status: 200, headers: { ...emptyResponse(req, 200).headers, ...headers, 'content-length': String(body.length) }, body };
}

function parseRange(h: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!h) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === '' && m[2] === '')) throw new BatchError('InvalidRange', 'The range specified is invalid for the current size of the resource.');
  const start = m[1] === '' ? Math.max(0, size - Number(m[2])) : Number(m[1]);
  const end = m[1] === '' || m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start > end && size > 0) throw new BatchError('InvalidRange', 'The range specified is invalid for the current size of the resource.');
  return { start, end };
}

/**
 * DELETE a file, or a directory with `recursive=true` (an empty one without). A non-empty
 * directory without `recursive` "must be empty or deletion will fail": the spec names no code, so
 * batchplane answers 409 OperationInvalidForCurrentState. 200 with no body on success.
 */
async function del(req: ApiRequest, rt: Runtime, target: Target): Promise<ApiResponse> {
  const rel = relPath(req);
  const flag = (req.query.get('recursive') ?? 'false').toLowerCase();
  if (flag !== 'true' && flag !== 'false') throw new BatchError('InvalidQueryParameterValue', 'Value for one of the query parameters specified in the request URI is invalid.', [{ key: 'QueryParameterName', value: 'recursive' }, { key: 'QueryParameterValue', value: req.query.get('recursive') ?? '' }]);
  const full = target.base ? `${target.base}/${rel}` : rel;
  const outcome = await rt.provider.files.delete(target.poolId, target.nodeId, full, flag === 'true');
  if (outcome === 'notFound') throw new BatchError('FileNotFound', 'The specified file does not exist.');
  if (outcome === 'notEmpty') throw new BatchError('OperationInvalidForCurrentState', 'The specified directory is not empty: set recursive=true to delete it with its contents.');
  return emptyResponse(req, 200);
}

export const listTaskFilesOp = async (req: ApiRequest, rt: Runtime): Promise<ApiResponse> => list(req, rt, await taskTarget(req, rt));
export const getTaskFileOp = async (req: ApiRequest, rt: Runtime): Promise<ApiResponse> => get(req, rt, await taskTarget(req, rt));
export const listNodeFilesOp = async (req: ApiRequest, rt: Runtime): Promise<ApiResponse> => list(req, rt, await nodeTarget(req, rt));
export const getNodeFileOp = async (req: ApiRequest, rt: Runtime): Promise<ApiResponse> => get(req, rt, await nodeTarget(req, rt));
export const deleteTaskFileOp = async (req: ApiRequest, rt: Runtime): Promise<ApiResponse> => del(req, rt, await taskTarget(req, rt));
export const deleteNodeFileOp = async (req: ApiRequest, rt: Runtime): Promise<ApiResponse> => del(req, rt, await nodeTarget(req, rt));
