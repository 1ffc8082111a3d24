import { describe, expect, it } from 'vitest';
import type { NodeState } from '../../shared/domain/model';
import { activityState, bootedState, checkNodeOperation, restartState, stateAfterScheduling, waitsForTasks, type NodeOperation, type SchedulingState } from '../../shared/domain/node-state';

const ALL: NodeState[] = ['idle', 'rebooting', 'reimaging', 'running', 'unusable', 'creating', 'starting', 'waitingforstarttask', 'starttaskfailed', 'unknown', 'leavingpool', 'offline', 'preempted'];

/** Expected answer per state: 'ok' or the Batch error code. */
const RESTART: Record<NodeState, string> = {
  idle: 'ok', running: 'ok', offline: 'ok', starttaskfailed: 'ok', unusable: 'ok',
  rebooting: 'NodeBeingRebooted', reimaging: 'NodeBeingReimaged', creating: 'NodeBeingCreated', starting: 'NodeBeingStarted',
  leavingpool: 'OperationNotValidOnNode', waitingforstarttask: 'NodeNotReady', unknown: 'NodeNotReady', preempted: 'NodeNotReady',
};
const AGENT_OPS: Record<NodeState, string> = {
  idle: 'ok', running: 'ok', offline: 'ok', starttaskfailed: 'ok', waitingforstarttask: 'ok',
  rebooting: 'NodeBeingRebooted', reimaging: 'NodeBeingReimaged', creating: 'NodeBeingCreated', starting: 'NodeBeingStarted',
  unusable: 'NodeStateUnusable', leavingpool: 'OperationNotValidOnNode', unknown: 'NodeNotReady', preempted: 'NodeNotReady',
};

const answer = (op: NodeOperation, state: NodeState, scheduling: SchedulingState): string => {
  const v = checkNodeOperation(op, state, scheduling);
  return v.ok ? 'ok' : v.code;
};

describe('node operation rules', () => {
  it.each(ALL)('reboot and reimage from %s', (state) => {
    expect(answer('reboot', state, 'enabled')).toBe(RESTART[state]);
    expect(answer('reimage', state, 'disabled')).toBe(RESTART[state]);
  });

  it.each(ALL)('users, service logs and scheduling from %s', (state) => {
    expect(answer('users', state, 'enabled')).toBe(AGENT_OPS[state]);
    expect(answer('uploadLogs', state, 'enabled')).toBe(AGENT_OPS[state]);
    expect(answer('disableScheduling', state, 'enabled')).toBe(AGENT_OPS[state]);
    expect(answer('enableScheduling', state, 'disabled')).toBe(AGENT_OPS[state]);
  });

  it('refuses to set the scheduling state a node already has', () => {
    expect(answer('disableScheduling', 'idle', 'disabled')).toBe('NodeAlreadyInTargetSchedulingState');
    expect(answer('enableScheduling', 'running', 'enabled')).toBe('NodeAlreadyInTargetSchedulingState');
    expect(answer('enableScheduling', 'offline', 'disabled')).toBe('ok');
  });
});

describe('node state transitions', () => {
  it.each([
    ['idle', 'disabled', 'offline'],
    ['running', 'disabled', 'running'],
    ['offline', 'enabled', 'idle'],
    ['running', 'enabled', 'running'],
    ['starttaskfailed', 'disabled', 'starttaskfailed'],
    ['waitingforstarttask', 'enabled', 'waitingforstarttask'],
  ] as [NodeState, SchedulingState, NodeState][])('%s with scheduling %s → %s', (from, scheduling, to) => {
    expect(stateAfterScheduling(from, scheduling)).toBe(to);
  });

  it.each([
    ['idle', 'enabled', true, 'running'],
    ['idle', 'enabled', false, 'idle'],
    ['running', 'enabled', false, 'idle'],
    ['running', 'disabled', false, 'offline'],
    ['running', 'disabled', true, 'running'],
    ['offline', 'disabled', true, 'running'],
    ['offline', 'disabled', false, 'offline'],
    ['rebooting', 'enabled', false, 'rebooting'],
    ['reimaging', 'enabled', true, 'reimaging'],
    ['leavingpool', 'enabled', true, 'leavingpool'],
    ['waitingforstarttask', 'enabled', false, 'waitingforstarttask'],
  ] as [NodeState, SchedulingState, boolean, NodeState][])('exchange: %s (scheduling %s, busy %s) → %s', (from, scheduling, busy, to) => {
    expect(activityState(from, scheduling, busy)).toBe(to);
  });

  it('restart and boot states', () => {
    expect(restartState('reboot')).toBe('rebooting');
    expect(restartState('reimage')).toBe('reimaging');
    expect(bootedState('enabled')).toBe('idle');
    expect(bootedState('disabled')).toBe('offline');
    expect([waitsForTasks('requeue'), waitsForTasks('terminate'), waitsForTasks('taskcompletion'), waitsForTasks('retaineddata')]).toEqual([false, false, true, true]);
  });
});
