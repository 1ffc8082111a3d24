import { BatchError, unsupportedProperty } from '../errors';
import type { PoolAddBody, PoolResizeBody } from '../api/schemas';
import { checkTaskSlots, markDeleting, newPool, startNodeRemoval, startResize, stopResize, updatePoolProperties, type PoolUpdatableProperties } from '../domain/pool';
import { startTaskOf } from '../domain/starttask';
import type { PoolPatchBody, PoolUpdatePropertiesBody, NodeRemoveBody } from '../api/pool-schemas';
import { autoScaleSpec, withInitialAutoScale } from '../domain/autoscaling';
import { ensurePoolQuota } from './quotas';
import { isKnownNodeAgentSku } from '../domain/images';
import { findVmSize } from '../domain/vmsizes';
import type { PoolRecord, PoolSpec } from '../domain/model';
import type { Runtime } from '../runtime';
import { QUEUES } from '../storage/context';
import { StorageError } from '../storage/errors';
import type { Stored } from '../storage/table';
import { withEtagRetry } from './retry';
import type { TransactionAction } from '@azure/data-tables';
import type { ServiceLogEventName } from '../events/catalog';
import { poolCreateBody, poolDeleteStartBody, poolResizeStartBody } from '../events/bodies';
import { outboxActions, POOL_OUTBOX_PREFIX } from '../events/outbox';
import { POOL_PK } from '../storage/keys';

/** The queue of pool commands (name before the storage prefix). */
export const POOL_COMMANDS_QUEUE = QUEUES.poolCommands;

/** The message that drives a pool's allocation (see services/lifecycle.ts). */
export interface PoolCommand {
  kind: 'resize' | 'delete';
  poolId: string;
  generation: number;
}

function invalid(name: string, value: string, reason: string): BatchError {
  return new BatchError('InvalidPropertyValue', 'The value provided for one of the properties in the request body is invalid.', [
    { key: 'PropertyName', value: name }, { key: 'PropertyValue', value }, { key: 'Reason', value: reason },
  ]);
}


/**
 * Certificates and application packages need the Batch account's certificate store and
 * application packages, which local nodes do not have: a non-empty list is refused (400
 * UnsupportedProperty), never silently ignored; an empty list is accepted (it asks for nothing).
 */
function checkLocalReferences(b: { certificateReferences?: unknown[]; applicationPackageReferences?: unknown[] }): void {
  if (b.certificateReferences?.length) throw unsupportedProperty('certificateReferences', 'Certificates cannot be installed on local nodes.');
  if (b.applicationPackageReferences?.length) throw unsupportedProperty('applicationPackageReferences', 'Application packages cannot be deployed to local nodes.');
}

/** Turns a validated add body into a pool spec, applying Azure's cross-property rules. */
export function poolSpecOf(b: PoolAddBody, autoscaleMinIntervalSeconds = 300): PoolSpec {
  if (!findVmSize(b.vmSize)) throw invalid('vmSize', b.vmSize, 'The specified VM size is not supported.');
  if (b.cloudServiceConfiguration) throw unsupportedProperty('cloudServiceConfiguration', 'Cloud service pools are retired; use virtualMachineConfiguration.');
  if (!b.virtualMachineConfiguration) throw new BatchError('MissingRequiredProperty', 'A property that is required for this request was not specified.', [{ key: 'PropertyName', value: 'virtualMachineConfiguration' }]);
  if (!isKnownNodeAgentSku(b.virtualMachineConfiguration.nodeAgentSKUId)) throw invalid('virtualMachineConfiguration.nodeAgentSKUId', b.virtualMachineConfiguration.nodeAgentSKUId, 'The node agent SKU is not supported (see GET /supportedimages).');
  let autoScale: ReturnType<typeof autoScaleSpec> | undefined;
  if (b.enableAutoScale) {
    if (b.targetDedicatedNodes !== undefined || b.targetLowPriorityNodes !== undefined) throw invalid('targetDedicatedNodes', String(b.targetDedicatedNodes ?? b.targetLowPriorityNodes), 'targetDedicatedNodes and targetLowPriorityNodes must not be specified when enableAutoScale is true.');
    autoScale = autoScaleSpec(b, autoscaleMinIntervalSeconds);
  } else if (b.targetDedicatedNodes === undefined && b.targetLowPriorityNodes === undefined) throw new BatchError('MissingRequiredProperty', 'A property that is required for this request was not specified.', [{ key: 'PropertyName', value: 'targetDedicatedNodes' }]);
  const startTask = b.startTask ? startTaskOf(b.startTask) : undefined;
  checkLocalReferences(b);
  const slots = b.taskSlotsPerNode ?? b.maxTasksPerNode ?? 1;
  checkTaskSlots(b.vmSize, slots);
  return {
    id: b.id,
    displayName: b.displayName,
    vmSize: b.vmSize,
    virtualMachineConfiguration: b.virtualMachineConfiguration as Record<string, unknown>,
    resizeTimeout: b.resizeTimeout ?? 'PT15M',
    targetDedicatedNodes: b.targetDedicatedNodes ?? 0,
    targetLowPriorityNodes: b.targetLowPriorityNodes ?? 0,
    enableAutoScale: autoScale !== undefined,
    ...autoScale,
    enableInterNodeCommunication: b.enableInterNodeCommunication ?? false,
    taskSlotsPerNode: slots,
    taskSchedulingPolicy: { nodeFillType: b.taskSchedulingPolicy?.nodeFillType ?? 'spread' },
    metadata: b.metadata ?? [],
    networkConfiguration: b.networkConfiguration,
    ...(startTask ? { startTask } : {}),
    ...(b.certificateReferences ? { certificateReferences: b.certificateReferences } : {}),
    userAccounts: b.userAccounts,
    targetNodeCommunicationMode: b.targetNodeCommunicationMode,
  };
}

/** pool add: write the pool (resizing), then enqueue the resize that allocates its nodes. */
export async function addPool(rt: Runtime, body: PoolAddBody): Promise<Stored<PoolRecord>> {
  const spec = poolSpecOf(body, rt.config.autoscaleMinIntervalSeconds);
  await ensurePoolQuota(rt);
  const pool = withInitialAutoScale(newPool(spec, rt.clock()), rt.clock(), () => parseInt(rt.ids.hex(6), 16) / 2 ** 48);
  let etag: string;
  try {
    etag = await rt.pools.insertWith(pool, poolEvents(rt, [['PoolCreateEvent', poolCreateBody(pool)], ['PoolResizeStartEvent', poolResizeStartBody(pool)]]));
  } catch (err) {
    if (err instanceof StorageError && err.isConflict) throw new BatchError('PoolExists', 'The specified pool already exists.');
    throw err;
  }
  await rt.storage.send(QUEUES.poolCommands, { kind: 'resize', poolId: pool.id, generation: pool.resizeGeneration } satisfies PoolCommand);
  return { value: pool, etag };
}

export async function getPool(rt: Runtime, id: string): Promise<Stored<PoolRecord>> {
  const p = await rt.pools.get(id);
  if (!p) throw new BatchError('PoolNotFound', 'The specified pool does not exist.');
  return p;
}

/** The outbox row for pool events (empty when service logs are off). */
export function poolEvents(rt: Runtime, events: [ServiceLogEventName, unknown][]): TransactionAction[] {
  const now = rt.clock();
  return outboxActions(rt.config.serviceLogs, POOL_PK, POOL_OUTBOX_PREFIX, events.map(([name, body]) => ({ name, time: now.toISOString(), body })), now.getTime(), rt.ids.hex(3));
}

/** Applies a guarded change to a pool (with the events it causes) and returns the new stored value. */
async function changePool(rt: Runtime, id: string, change: (p: PoolRecord) => PoolRecord, precondition?: (p: Stored<PoolRecord>) => void, events?: (before: PoolRecord, after: PoolRecord) => [ServiceLogEventName, unknown][]): Promise<Stored<PoolRecord>> {
  return withEtagRetry(async () => {
    const cur = await getPool(rt, id);
    precondition?.(cur);
    const next = change(cur.value);
    const etag = await rt.pools.updateWith(next, cur.etag, poolEvents(rt, events?.(cur.value, next) ?? []));
    return { value: next, etag };
  });
}

export async function resizePool(rt: Runtime, id: string, b: PoolResizeBody, precondition?: (p: Stored<PoolRecord>) => void): Promise<Stored<PoolRecord>> {
  const res = await changePool(rt, id, (p) => {
    const next = startResize(p, { dedicated: b.targetDedicatedNodes ?? p.targetDedicatedNodes, lowPriority: b.targetLowPriorityNodes ?? p.targetLowPriorityNodes }, b.resizeTimeout, rt.clock());
    return { ...next, nodeDeallocationOption: b.nodeDeallocationOption ?? 'requeue' };
  }, precondition, (_b, after) => [['PoolResizeStartEvent', poolResizeStartBody(after)]]);
  await rt.storage.send(QUEUES.poolCommands, { kind: 'resize', poolId: id, generation: res.value.resizeGeneration } satisfies PoolCommand);
  return res;
}

export async function stopPoolResize(rt: Runtime, id: string, precondition?: (p: Stored<PoolRecord>) => void): Promise<Stored<PoolRecord>> {
  const res = await changePool(rt, id, (p) => stopResize(p, rt.clock()), precondition);
  await rt.storage.send(QUEUES.poolCommands, { kind: 'resize', poolId: id, generation: res.value.resizeGeneration } satisfies PoolCommand);
  return res;
}

/** pool delete: mark deleting (202), then the lifecycle handler removes the nodes and the pool. */
export async function deletePool(rt: Runtime, id: string, precondition?: (p: Stored<PoolRecord>) => void): Promise<void> {
  const res = await changePool(rt, id, (p) => (p.state === 'deleting' ? p : markDeleting(p, rt.clock())), precondition, (before) => (before.state === 'deleting' ? [] : [['PoolDeleteStartEvent', poolDeleteStartBody(before)]]));
  await rt.storage.send(QUEUES.poolCommands, { kind: 'delete', poolId: id, generation: res.value.resizeGeneration } satisfies PoolCommand);
}

/**
 * PATCH (replace false) and updateproperties (replace true). A changed start task reaches a node
 * when it next boots (joins, reboots or is reimaged), as in Azure; running nodes keep theirs.
 */
export async function updatePool(rt: Runtime, id: string, body: PoolPatchBody | PoolUpdatePropertiesBody, replace: boolean, precondition?: (p: Stored<PoolRecord>) => void): Promise<Stored<PoolRecord>> {
  checkLocalReferences(body);
  const change: Partial<PoolUpdatableProperties> = {
    ...(body.startTask ? { startTask: startTaskOf(body.startTask) } : {}),
    ...(body.metadata ? { metadata: body.metadata } : {}),
    ...(body.certificateReferences ? { certificateReferences: body.certificateReferences } : {}),
    ...(body.applicationPackageReferences ? { applicationPackageReferences: body.applicationPackageReferences } : {}),
    ...(body.targetNodeCommunicationMode ? { targetNodeCommunicationMode: body.targetNodeCommunicationMode } : {}),
  };
  const res = await changePool(rt, id, (p) => updatePoolProperties(p, change, replace, rt.clock()), precondition);
  rt.cache.delete(`pool:${id}`);
  return res;
}

/** removenodes: at most 100 named nodes of a steady pool; the lifecycle removes them (202). */
export async function removePoolNodes(rt: Runtime, id: string, body: NodeRemoveBody, precondition?: (p: Stored<PoolRecord>) => void): Promise<Stored<PoolRecord>> {
  if (body.nodeList.length > MAX_REMOVE_NODES) {
    throw new BatchError('RequestBodyTooLarge', `The number of nodes to remove exceeds the maximum of ${MAX_REMOVE_NODES}.`, [{ key: 'MaxLimit', value: String(MAX_REMOVE_NODES) }]);
  }
  const ids = [...new Set(body.nodeList)];
  const cur = await getPool(rt, id);
  precondition?.(cur);
  startNodeRemoval(cur.value, [], { deallocation: 'requeue' }, rt.clock()); // state checks (409) before the node lookups
  // Every named node must be in the pool (404 NodeNotFound otherwise, and nothing changes).
  const nodes = new Map((await rt.nodes.listByPool(id)).map((n) => [n.value.id, n.value]));
  const named = ids.map((nodeId) => {
    const n = nodes.get(nodeId);
    if (!n) throw new BatchError('NodeNotFound', 'The specified node does not exist.', [{ key: 'NodeId', value: nodeId }]);
    return n;
  });
  const out = await changePool(rt, id, (p) => startNodeRemoval(p, named, { resizeTimeout: body.resizeTimeout, deallocation: body.nodeDeallocationOption ?? 'requeue' }, rt.clock()), precondition, (_b, after) => [['PoolResizeStartEvent', poolResizeStartBody(after)]]);
  await rt.storage.send(QUEUES.poolCommands, { kind: 'resize', poolId: id, generation: out.value.resizeGeneration } satisfies PoolCommand);
  return out;
}

export const MAX_REMOVE_NODES = 100;
