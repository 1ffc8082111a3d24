/**
 * Compute node state rules for the node operations (reboot, reimage, disable/enable scheduling,
 * node users, service logs). Pure: no I/O. The services look the answer up here and apply it.
 *
 * Azure documents that a node can be rebooted or reimaged "only if it is in an idle or running
 * state". batchplane also accepts the states a user reboots a node to repair it (offline: scheduling
 * disabled; starttaskfailed; unusable — the seed: "Rebooting a node marked unusable … re-tries"),
 * because on a local node a restart of the agent really does repair those.
 */
import type { BatchErrorCode } from '../errors';
import type { NodeState } from './model';

export type SchedulingState = 'enabled' | 'disabled';
export type NodeOperation = 'reboot' | 'reimage' | 'disableScheduling' | 'enableScheduling' | 'users' | 'uploadLogs';
/** What happens to the tasks running on a node that is rebooted, reimaged or disabled. */
export type NodeTaskOption = 'requeue' | 'terminate' | 'taskcompletion' | 'retaineddata';

export type Verdict = { ok: true } | { ok: false; code: BatchErrorCode; message: string };

const OK: Verdict = { ok: true };
const no = (code: BatchErrorCode, message: string): Verdict => ({ ok: false, code, message });

/** States in which a node's agent is up and talking to the control plane. */
const AGENT_UP: ReadonlySet<NodeState> = new Set(['idle', 'running', 'offline', 'starttaskfailed', 'waitingforstarttask']);
/** States that a reboot or reimage may start from. */
const RESTARTABLE: ReadonlySet<NodeState> = new Set(['idle', 'running', 'offline', 'starttaskfailed', 'unusable']);

/** The 409 a node in a transitional or broken state answers (undefined: the state is not one of those). */
function busyVerdict(state: NodeState): Verdict | undefined {
  switch (state) {
    case 'creating': return no('NodeBeingCreated', 'The specified node is being created.');
    case 'starting': return no('NodeBeingStarted', 'The specified node is being started.');
    case 'rebooting': return no('NodeBeingRebooted', 'The specified node is being rebooted.');
    case 'reimaging': return no('NodeBeingReimaged', 'The specified node is being reimaged.');
    case 'unusable': return no('NodeStateUnusable', 'The state of the specified node is unusable.');
    case 'leavingpool': return no('OperationNotValidOnNode', 'The specified operation is not valid on the node: it is leaving the pool.');
    default: return undefined;
  }
}

/** Whether `op` is allowed on a node in `state` with `scheduling`, and the Batch error when not. */
export function checkNodeOperation(op: NodeOperation, state: NodeState, scheduling: SchedulingState): Verdict {
  if (op === 'reboot' || op === 'reimage') {
    if (RESTARTABLE.has(state)) return OK;
    return busyVerdict(state) ?? no('NodeNotReady', `The node cannot be ${op === 'reboot' ? 'rebooted' : 'reimaged'} in its current state (${state}).`);
  }
  if (!AGENT_UP.has(state)) return busyVerdict(state) ?? no('NodeNotReady', `The node is not ready for this operation in its current state (${state}).`);
  if (op === 'disableScheduling' && scheduling === 'disabled') return no('NodeAlreadyInTargetSchedulingState', 'The specified node is already in the target scheduling state.');
  if (op === 'enableScheduling' && scheduling === 'enabled') return no('NodeAlreadyInTargetSchedulingState', 'The specified node is already in the target scheduling state.');
  return OK;
}

/** The state a node shows while a reboot or reimage is under way. */
export function restartState(op: 'reboot' | 'reimage'): NodeState {
  return op === 'reboot' ? 'rebooting' : 'reimaging';
}

/**
 * A node's state after its scheduling state changed: an idle node with scheduling disabled is
 * `offline` (REST: "not currently running a task, and scheduling of new tasks is disabled");
 * enabling scheduling brings an offline node back to idle; other states are kept.
 */
export function stateAfterScheduling(state: NodeState, scheduling: SchedulingState): NodeState {
  if (scheduling === 'disabled' && state === 'idle') return 'offline';
  if (scheduling === 'enabled' && state === 'offline') return 'idle';
  return state;
}

/**
 * The state the exchange records for a node in service: running while it runs tasks, otherwise
 * idle — or offline when its scheduling is disabled. States outside service are kept.
 */
export function activityState(state: NodeState, scheduling: SchedulingState, busy: boolean): NodeState {
  if (state !== 'idle' && state !== 'running' && state !== 'offline') return state;
  if (busy) return 'running';
  return scheduling === 'disabled' ? 'offline' : 'idle';
}

/** The state of a node whose agent just (re)booted and is ready for work. */
export function bootedState(scheduling: SchedulingState): NodeState {
  return scheduling === 'disabled' ? 'offline' : 'idle';
}

/** Whether tasks still running on the node must be waited for before the operation proceeds. */
export function waitsForTasks(option: NodeTaskOption): boolean {
  return option === 'taskcompletion' || option === 'retaineddata';
}
