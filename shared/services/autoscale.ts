import { evaluateFormula, evaluateText, type AutoscaleInputs, type AutoscaleOutcome } from '../domain/autoscale';
import {
  applyOutcome, autoScaleRunOf, autoscaleInputs, checkEvaluable, checkFormula, disableAutoScale, enableAutoScale,
  evaluationIntervalSeconds, isEvaluationDue, nextEvaluationAfter, type AutoScaleSettings,
} from '../domain/autoscaling';
import type { AutoScaleRun, PoolRecord } from '../domain/model';
import type { ServiceLogEventName, ServiceLogEvents } from '../events/catalog';
import { poolResizeStartBody } from '../events/bodies';
import type { Runtime } from '../runtime';
import { QUEUES } from '../storage/context';
import type { Stored } from '../storage/table';
import { loadSeries } from './metrics';
import { getPool, poolEvents, type PoolCommand } from './pools';
import { withEtagRetry } from './retry';

/**
 * Autoscale of pools: enable / disable / evaluate (REST) and the periodic evaluation (timer).
 * Every evaluation is "snapshot → evaluate (pure) → apply": the pool's nodes and metric samples
 * are read, the formula is evaluated by domain/autoscale, and the outcome is written to the pool
 * with its ETag (autoScaleRun, and new targets through the same resize path as a manual resize:
 * a new resizeGeneration plus a PoolCommand on the pool-commands queue).
 *
 * Writes: the pool row (ETag-guarded, with PoolAutoScaleEvent / PoolResizeStartEvent in the outbox
 *   of the same transaction), then the PoolCommand when a resize started.
 * Idempotency: the periodic evaluation re-checks that the pool is due inside its guarded write, so
 *   two timer instances evaluate a pool once per interval; a lost PoolCommand send is repaired by
 *   the next evaluation only when the targets change (the lifecycle converges from any state).
 */

/** rand() of formulas draws from the runtime's random source. */
function randomOf(rt: Runtime): () => number {
  return () => parseInt(rt.ids.hex(6), 16) / 2 ** 48;
}

async function inputsFor(rt: Runtime, p: PoolRecord, now: Date): Promise<AutoscaleInputs> {
  const [nodes, samples] = await Promise.all([rt.nodes.listByPool(p.id), loadSeries(rt, p, now)]);
  return autoscaleInputs(p, nodes.map((n) => n.value), samples, now, randomOf(rt));
}

function autoScaleEvent(p: PoolRecord, run: AutoScaleRun): ServiceLogEvents['PoolAutoScaleEvent'] {
  return { id: p.id, timestamp: run.timestamp, formula: p.autoScaleFormula ?? '', results: run.results ?? '', ...(run.error ? { error: run.error } : {}) };
}

/** Writes an evaluated pool (guarded) with its events; sends the PoolCommand when a resize started. */
async function writeEvaluated(rt: Runtime, before: Stored<PoolRecord>, after: PoolRecord): Promise<Stored<PoolRecord>> {
  const resized = after.resizeGeneration !== before.value.resizeGeneration;
  const events: [ServiceLogEventName, unknown][] = [];
  if (after.autoScaleRun && after.autoScaleRun !== before.value.autoScaleRun) events.push(['PoolAutoScaleEvent', autoScaleEvent(after, after.autoScaleRun)]);
  if (resized) events.push(['PoolResizeStartEvent', poolResizeStartBody(after)]);
  const etag = await rt.pools.updateWith(after, before.etag, poolEvents(rt, events));
  if (resized) await rt.storage.send(QUEUES.poolCommands, { kind: 'resize', poolId: after.id, generation: after.resizeGeneration } satisfies PoolCommand);
  return { value: after, etag };
}

/** enableautoscale: validate, enable, evaluate at once and apply (one guarded write). */
export async function enablePoolAutoScale(rt: Runtime, id: string, s: AutoScaleSettings, precondition?: (p: Stored<PoolRecord>) => void): Promise<Stored<PoolRecord>> {
  return withEtagRetry(async () => {
    // 1. Snapshot and validate.
    const cur = await getPool(rt, id);
    precondition?.(cur);
    const now = rt.clock();
    const enabled = enableAutoScale(cur.value, s, now, rt.config.autoscaleMinIntervalSeconds);
    // 2. Evaluate (pure) and 3. apply.
    const outcome = evaluateText(enabled.autoScaleFormula ?? '', await inputsFor(rt, enabled, now));
    return writeEvaluated(rt, cur, applyOutcome(enabled, outcome, now));
  });
}

/** disableautoscale: the pool keeps its size; targets no longer change by themselves. */
export async function disablePoolAutoScale(rt: Runtime, id: string, precondition?: (p: Stored<PoolRecord>) => void): Promise<Stored<PoolRecord>> {
  return withEtagRetry(async () => {
    const cur = await getPool(rt, id);
    precondition?.(cur);
    const next = disableAutoScale(cur.value, rt.clock());
    if (next === cur.value) return cur;
    return { value: next, etag: await rt.pools.update(next, cur.etag) };
  });
}

/** evaluateautoscale: the run the formula would produce now; never applied. */
export async function evaluatePoolAutoScale(rt: Runtime, id: string, formula: string): Promise<AutoScaleRun> {
  const pool = (await getPool(rt, id)).value;
  checkEvaluable(pool);
  const parsed = checkFormula(formula);
  const now = rt.clock();
  const outcome: AutoscaleOutcome = evaluateFormula(parsed, await inputsFor(rt, pool, now));
  return autoScaleRunOf(outcome, now);
}

/**
 * The periodic evaluation (timer): every autoscale pool whose next evaluation time has come.
 * Returns the number of pools evaluated; one pool's failure does not stop the others.
 */
export async function evaluateDuePools(rt: Runtime, log: (msg: string) => void = () => undefined): Promise<number> {
  const now = rt.clock();
  const due = (await rt.pools.all()).filter((p) => isEvaluationDue(p.value, now));
  let n = 0;
  for (const p of due) {
    try {
      if (await evaluatePool(rt, p.value.id)) n++;
    } catch (err) {
      log(`autoscale evaluation of pool ${p.value.id} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return n;
}

/** Evaluates one pool if it is (still) due; false when another evaluation got there first. */
export async function evaluatePool(rt: Runtime, id: string): Promise<boolean> {
  return withEtagRetry(async () => {
    // 1. Snapshot: the pool (still due?), its nodes and samples.
    const cur = await rt.pools.get(id);
    const now = rt.clock();
    if (!cur || !isEvaluationDue(cur.value, now)) return false;
    const inputs = await inputsFor(rt, cur.value, now);
    // 2. Evaluate (pure).
    const outcome = evaluateText(cur.value.autoScaleFormula ?? '', inputs);
    // 3. Decide: the run, the next time on the schedule, the targets.
    const secs = evaluationIntervalSeconds(cur.value.autoScaleEvaluationInterval ?? 'PT15M', 1);
    const next = applyOutcome({ ...cur.value, nextAutoScaleEvaluation: nextEvaluationAfter(cur.value, now, secs) }, outcome, now);
    // 4. Apply (guarded) and start the resize.
    await writeEvaluated(rt, cur, next);
    return true;
  });
}
