import { describe, expect, it } from 'vitest';
import type { NodeRecord } from '../../shared/domain/model';
import { pickNodesToRemove } from '../../shared/services/lifecycle';

const node = (id: string, state: NodeRecord['state'], runningTaskSlotsCount = 0): NodeRecord => ({ id, state, runningTaskSlotsCount }) as NodeRecord;

describe('shrink order (pickNodesToRemove)', () => {
  const nodes = [node('busy2', 'running', 2), node('idle', 'idle'), node('dead', 'unusable'), node('busy1', 'running', 1), node('boot', 'starting')];

  it.each([
    [1, ['dead']],
    [2, ['dead', 'boot']],
    [3, ['dead', 'boot', 'idle']],
    [4, ['dead', 'boot', 'idle', 'busy1']],
    [5, ['dead', 'boot', 'idle', 'busy1', 'busy2']],
  ])('removes %i: nodes doing nothing useful first, then the least busy', (count, expected) => {
    expect([...pickNodesToRemove(nodes, count)].sort()).toEqual([...expected].sort());
  });

  it('a node running a job manager goes last, even when it is the least busy', () => {
    const keep = new Set(['idle', 'busy1']);
    expect([...pickNodesToRemove(nodes, 3, keep)].sort()).toEqual(['boot', 'busy2', 'dead']);
    expect([...pickNodesToRemove(nodes, 4, keep)].sort()).toEqual(['boot', 'busy2', 'dead', 'idle']);
  });
});
