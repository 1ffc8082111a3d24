/**
 * The pool's taskSchedulingPolicy.nodeFillType as a claim policy. Nodes pull work (each exchange
 * offers the node's free slots), so the fill type decides how much of its free capacity one node
 * may fill in one exchange:
 *
 * - pack: all of it — a node is filled to its slots before another node gets work (the first
 *   node to ask takes everything that fits).
 * - spread: while other schedulable nodes of the pool are idle, a node that already runs tasks
 *   takes nothing (the idle nodes, which ask too, get the work), and an idle node only its share
 *   of the free capacity (its free slots divided among itself and the idle nodes, at least one
 *   slot), so the idle nodes asking at the same time get the rest. With no idle node left it
 *   takes all.
 *
 * A node limited by spread that claimed nothing because the next task needs more slots than its
 * share may then take its full free slots (`fallbackSlots`; the caller checks the queue head), so
 * spread never leaves a task unscheduled that a node has room for.
 */
export type NodeFillType = 'spread' | 'pack';

export interface FillView {
  fillType: NodeFillType;
  /** Free slots the node offered in this exchange. */
  freeSlots: number;
  /** Other nodes of the pool that are idle and may take work now. */
  otherIdleNodes: number;
  /** Tasks the node runs now. */
  running: number;
}

export interface FillDecision {
  /** Slots to claim first. */
  slots: number;
  /** Slots to claim when the first claim found nothing (0: no second claim). */
  fallbackSlots: number;
}

export function slotsToClaim(v: FillView): FillDecision {
  const free = Math.max(0, v.freeSlots);
  if (v.fillType === 'pack' || v.otherIdleNodes <= 0 || free === 0 || (free === 1 && v.running === 0)) return { slots: free, fallbackSlots: 0 };
  if (v.running > 0) return { slots: 0, fallbackSlots: 0 };
  const share = Math.min(free, Math.max(1, Math.ceil(free / (v.otherIdleNodes + 1))));
  return { slots: share, fallbackSlots: share < free ? free : 0 };
}
