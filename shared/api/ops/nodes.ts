import { z } from 'zod';
import { BatchError } from '../../errors';
import type { NodeRecord, TaskRecord } from '../../domain/model';
import type { Runtime } from '../../runtime';
import { odataString } from '../../storage/keys';
import { loadNode, requestRestart, setScheduling } from '../../services/node-control';
import { uploadNodeLogs } from '../../services/node-logs';
import { addNodeUser, deleteNodeUser, updateNodeUser } from '../../services/node-users';
import { nodeJson } from '../mappers';
import { ciEnum, validate } from '../validate';
import { emptyResponse, jsonBody, jsonResponse, metadataUrl, type ApiRequest, type ApiResponse } from '../wire';
import { notAvailable, param } from './common';
import { listPage, selectOne } from './list';
import { NODE_COLUMNS } from './columns';

/** The compute node operations (GET/list, reboot, reimage, scheduling, users, remote login, service logs). */

const taskOption = ciEnum(['requeue', 'terminate', 'taskcompletion', 'retaineddata']);
const rebootBody = z.object({ nodeRebootOption: taskOption.optional() });
const reimageBody = z.object({ nodeReimageOption: taskOption.optional() });
const disableBody = z.object({ nodeDisableSchedulingOption: ciEnum(['requeue', 'terminate', 'taskcompletion']).optional() });

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'The value is not a valid date-time.');
/** Linux/Windows account names: no separators, spaces or control characters; at most 64 characters (Azure states no limit for Linux). */
const userName = z.string().min(1).max(64).regex(/^[^\s/\\:@"[\]|<>+=;,?*%]+$/, 'The user name contains characters that are not allowed.');
const addUserBody = z.object({
  name: userName,
  isAdmin: z.boolean().optional(),
  expiryTime: isoTime.optional(),
  password: z.string().min(1).optional(),
  sshPublicKey: z.string().min(1).optional(),
});
const updateUserBody = z.object({ password: z.string().min(1).optional(), expiryTime: isoTime.optional(), sshPublicKey: z.string().min(1).optional() });
const uploadLogsBody = z.object({
  containerUrl: z.string().refine((s) => /^https?:\/\/[^/]+\/.+/i.test(s), 'The container URL must be an http(s) URL of a blob container, with a SAS granting write access.'),
  startTime: isoTime,
  endTime: isoTime.optional(),
});

/** An optional JSON body: empty means `{}` (the client sends none when no option is set). */
function optionalBody(req: ApiRequest): unknown {
  return req.body.toString('utf8').trim() === '' ? {} : jsonBody(req);
}

const nodeUrl = (req: ApiRequest, poolId: string, nodeId: string): string => `${req.origin}/pools/${poolId}/nodes/${nodeId}`;
const withServiceId = (url: string): Record<string, string> => ({ dataserviceid: url });

export async function listNodesOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const poolId = param(req, 'poolId');
  if (!(await rt.pools.get(poolId))) throw new BatchError('PoolNotFound', 'The specified pool does not exist.');
  return listPage(req, rt, {
    schema: 'nodes',
    columns: NODE_COLUMNS,
    fetch: (f, top, cont) => rt.nodes.page(poolId, f, top, cont),
    toJson: (n) => nodeJson(req.origin, n.value),
    metadata: 'nodes',
  });
}

export async function getNodeOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const n = await loadNode(rt, param(req, 'poolId'), param(req, 'nodeId'));
  const recent = await recentTasks(rt, req.origin, n.value);
  return jsonResponse(req, 200, { 'odata.metadata': metadataUrl(req, 'nodes/@Element'), ...(await selectOne(req, 'nodes', n.value, (x) => nodeJson(req.origin, x, recent.length ? recent : undefined))) });
}

/** How far back GET node looks for recentTasks ("tasks whose state has recently changed"). */
const RECENT_MS = 10 * 60 * 1000;
const RECENT_MAX = 20;

/**
 * recentTasks of GET node: the tasks running on the node plus those whose state changed on it in
 * the last 10 minutes, newest first, at most 20 (one filtered partition query per job of the pool;
 * not computed for list, which would cost that per node).
 */
async function recentTasks(rt: Runtime, origin: string, n: NodeRecord): Promise<Record<string, unknown>[]> {
  const since = new Date(rt.clock().getTime() - RECENT_MS).toISOString();
  const found: TaskRecord[] = [];
  for (const job of await rt.jobs.onPool(n.poolId)) {
    const rows = await rt.tasks.find(job.value.id, `nodeId eq ${odataString(n.id)} and (state eq 'running' or stateTransitionTime ge ${odataString(since)})`);
    found.push(...rows.map((r) => r.value));
  }
  found.sort((a, b) => b.stateTransitionTime.localeCompare(a.stateTransitionTime));
  return found.slice(0, RECENT_MAX).map((t) => ({
    taskUrl: `${origin}/jobs/${t.jobId}/tasks/${t.id}`,
    jobId: t.jobId,
    taskId: t.id,
    taskState: t.state,
    executionInfo: { ...t.executionInfo },
  }));
}

async function restartOp(req: ApiRequest, rt: Runtime, kind: 'reboot' | 'reimage'): Promise<ApiResponse> {
  const poolId = param(req, 'poolId');
  const nodeId = param(req, 'nodeId');
  const body = optionalBody(req);
  const option = kind === 'reboot' ? validate(rebootBody, body).nodeRebootOption : validate(reimageBody, body).nodeReimageOption;
  await requestRestart(rt, poolId, nodeId, kind, option ?? 'requeue');
  return emptyResponse(req, 202, withServiceId(`${nodeUrl(req, poolId, nodeId)}/${kind}`));
}

async function schedulingOp(req: ApiRequest, rt: Runtime, target: 'enabled' | 'disabled'): Promise<ApiResponse> {
  const poolId = param(req, 'poolId');
  const nodeId = param(req, 'nodeId');
  const option = target === 'disabled' ? validate(disableBody, optionalBody(req)).nodeDisableSchedulingOption : undefined;
  await setScheduling(rt, poolId, nodeId, target, option ?? 'requeue');
  return emptyResponse(req, 200, withServiceId(`${nodeUrl(req, poolId, nodeId)}/${target === 'enabled' ? 'enablescheduling' : 'disablescheduling'}`));
}

/**
 * GET …/remoteloginsettings. A local node is a process on this machine, reached on the loopback
 * address: batchplane answers 127.0.0.1 and the SSH port (22), or the RDP port (3389) for a
 * Windows image. Nothing listens there for the node itself — the node users above are not real
 * OS accounts — so the answer only keeps clients that read these settings working.
 */
async function remoteLoginOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const poolId = param(req, 'poolId');
  const nodeId = param(req, 'nodeId');
  await loadNode(rt, poolId, nodeId);
  const port = (await windowsNode(rt, poolId)) ? 3389 : 22;
  return jsonResponse(req, 200, { 'odata.metadata': metadataUrl(req, 'Microsoft.Azure.Batch.Protocol.Entities.ComputeNodeGetRemoteLoginSettingsResult'), remoteLoginIPAddress: '127.0.0.1', remoteLoginPort: port });
}

async function uploadLogsOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const poolId = param(req, 'poolId');
  const nodeId = param(req, 'nodeId');
  const raw = jsonBody(req);
  if (raw && typeof raw === 'object' && 'identityReference' in raw) {
    throw new BatchError('UnsupportedProperty', 'One of the properties specified in the request body is not supported.', [{ key: 'PropertyName', value: 'identityReference' }, { key: 'Reason', value: 'Managed identities are not available in batchplane: use a container URL with a SAS.' }]);
  }
  const body = validate(uploadLogsBody, raw);
  if (body.endTime && Date.parse(body.endTime) < Date.parse(body.startTime)) {
    throw new BatchError('InvalidPropertyValue', 'The value provided for one of the properties in the request body is invalid.', [{ key: 'PropertyName', value: 'endTime' }, { key: 'PropertyValue', value: body.endTime }, { key: 'Reason', value: 'endTime is before startTime.' }]);
  }
  const result = await uploadNodeLogs(rt, poolId, nodeId, body, req.requestId);
  return jsonResponse(req, 200, { 'odata.metadata': metadataUrl(req, 'Microsoft.Azure.Batch.Protocol.Entities.UploadBatchServiceLogsResult'), ...result });
}

/** POST/GET pools/{p}/nodes/{n}/{action}: dispatch by the action segment (case-insensitive, as routes are). */
export async function nodeActionOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const action = param(req, 'action').toLowerCase();
  const post: Record<string, () => Promise<ApiResponse>> = {
    reboot: () => restartOp(req, rt, 'reboot'),
    reimage: () => restartOp(req, rt, 'reimage'),
    disablescheduling: () => schedulingOp(req, rt, 'disabled'),
    enablescheduling: () => schedulingOp(req, rt, 'enabled'),
    uploadbatchservicelogs: () => uploadLogsOp(req, rt),
    users: () => addUserOp(req, rt),
  };
  const get: Record<string, () => Promise<ApiResponse>> = { remoteloginsettings: () => remoteLoginOp(req, rt) };
  const table = req.method === 'POST' ? post : req.method === 'GET' ? get : {};
  const run = table[action];
  if (run) return run();
  if (post[action] || get[action]) throw new BatchError('UnsupportedHttpVerb', `The resource doesn't support the specified HTTP verb ${req.method}.`);
  // Spec routes batchplane does not serve: node extensions, and the RDP file of retired cloud-service pools.
  if (req.method === 'GET' && (action === 'extensions' || action === 'rdp')) throw notAvailable(`GET /pools/${param(req, 'poolId')}/nodes/${param(req, 'nodeId')}/${action}`);
  throw new BatchError('InvalidUri', 'The requested URI does not represent any resource on the server.', [], 404);
}

/** Whether the pool's nodes run Windows (its node agent SKU), which changes the user rules and the login port. */
async function windowsNode(rt: Runtime, poolId: string): Promise<boolean> {
  const pool = await rt.pools.get(poolId);
  return /windows/i.test(String((pool?.value.virtualMachineConfiguration as { nodeAgentSKUId?: unknown } | undefined)?.nodeAgentSKUId ?? ''));
}

/** Windows nodes need a password and take no SSH key (REST ComputeNodeUser). */
async function checkCredentials(rt: Runtime, poolId: string, body: { password?: string; sshPublicKey?: string }): Promise<void> {
  if (!(await windowsNode(rt, poolId))) return;
  if (body.sshPublicKey !== undefined) throw new BatchError('InvalidPropertyValue', 'The value provided for one of the properties in the request body is invalid.', [{ key: 'PropertyName', value: 'sshPublicKey' }, { key: 'Reason', value: 'sshPublicKey can be specified only for Linux compute nodes.' }]);
  if (body.password === undefined) throw new BatchError('MissingRequiredProperty', 'A property that is required for this request was not specified.', [{ key: 'PropertyName', value: 'password' }]);
}

async function addUserOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const poolId = param(req, 'poolId');
  const nodeId = param(req, 'nodeId');
  const body = validate(addUserBody, jsonBody(req));
  await loadNode(rt, poolId, nodeId);
  await checkCredentials(rt, poolId, body);
  await addNodeUser(rt, poolId, nodeId, body);
  const url = `${nodeUrl(req, poolId, nodeId)}/users/${body.name}`;
  return emptyResponse(req, 201, { dataserviceid: url, location: url });
}

export async function updateUserOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const poolId = param(req, 'poolId');
  const nodeId = param(req, 'nodeId');
  const name = param(req, 'userName');
  const body = validate(updateUserBody, jsonBody(req));
  await loadNode(rt, poolId, nodeId);
  await checkCredentials(rt, poolId, body);
  await updateNodeUser(rt, poolId, nodeId, name, body);
  return emptyResponse(req, 200, withServiceId(`${nodeUrl(req, poolId, nodeId)}/users/${name}`));
}

export async function deleteUserOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const poolId = param(req, 'poolId');
  const nodeId = param(req, 'nodeId');
  await deleteNodeUser(rt, poolId, nodeId, param(req, 'userName'));
  return emptyResponse(req, 200);
}
