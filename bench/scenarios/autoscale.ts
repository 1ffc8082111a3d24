/**
 * Scenario 7: the seed's example formulas (test/support/autoscale-seed-formulas.ts, shared with the exact-results unit test)
 * evaluated for 100 pools, each with 1 day of 30-second samples (2,880 per metric) of every metric
 * the formulas read → evaluations/s (one evaluation = one formula on one pool). Pure, in-process:
 * formulas are parsed once (as a pool stores its formula); parse + evaluate is reported too.
 */
import type { AutoscaleInputs, Formula, Sample } from '../../shared/domain/autoscale';
import { evaluateFormula, evaluateText, parseFormula } from '../../shared/domain/autoscale';
import type { BenchContext, Metric, Scenario } from '../support';
import { now, round } from '../support';
import { SEED_FORMULAS } from '../../test/support/autoscale-seed-formulas';


const METRICS = ['ActiveTasks', 'RunningTasks', 'PendingTasks', 'CPUPercent', 'PreemptedNodeCount'];
const SAMPLES_PER_DAY = 2880;
const NOW = Date.parse('2024-01-15T12:00:00.000Z'); // a Monday, inside working hours

/** One pool's inputs: 1 day of 30 s samples of every metric, pseudo-random but deterministic. */
function poolInputs(pool: number): AutoscaleInputs {
  let seed = pool * 7919 + 1;
  const rand = (): number => {
    seed = (seed * 48271) % 2147483647;
    return seed / 2147483647;
  };
  const samples: Record<string, Sample[]> = {};
  for (const m of METRICS) {
    const scale = m === 'CPUPercent' ? 1 : 50;
    samples[m] = Array.from({ length: SAMPLES_PER_DAY }, (_, i) => ({ time: new Date(NOW - (i + 1) * 30_000), value: Math.floor(rand() * scale * 100) / 100 }));
  }
  const dedicated = 1 + (pool % 10);
  return {
    now: new Date(NOW),
    random: rand,
    samples,
    current: { dedicatedNodes: dedicated, lowPriorityNodes: 0, preemptedNodes: 0, taskSlotsPerNode: 4, targetDedicatedNodes: dedicated, targetLowPriorityNodes: 0 },
  };
}

export const autoscale: Scenario = {
  name: 'autoscale',
  title: '7. Autoscale: seed formulas, 1 day of samples',
  async run(ctx: BenchContext): Promise<Metric[]> {
    const pools = ctx.quick ? 10 : 100;
    const minMs = ctx.quick ? 500 : 3000;
    const inputs = Array.from({ length: pools }, (_, p) => poolInputs(p));
    const texts = Object.values(SEED_FORMULAS);
    const parsed: Formula[] = texts.map((t) => parseFormula(t));
    let errors = 0;
    for (const f of parsed) for (const i of inputs) if (evaluateFormula(f, i).error) errors++;

    let evaluations = 0;
    const t0 = now();
    do {
      for (const i of inputs) for (const f of parsed) evaluateFormula(f, i);
      evaluations += inputs.length * parsed.length;
    } while (now() - t0 < minMs);
    const evalMs = now() - t0;

    let texted = 0;
    const t1 = now();
    do {
      for (const i of inputs) for (const t of texts) evaluateText(t, i);
      texted += inputs.length * texts.length;
    } while (now() - t1 < minMs / 3);
    const textMs = now() - t1;

    // Machine reference, same run: plain-JS scans of one pool's samples (every metric, every
    // sample, time-window test and sum), the least an evaluation without an index must do.
    let scans = 0;
    let sink = 0;
    const since = NOW - 15 * 60_000;
    const t2 = now();
    do {
      for (const i of inputs) {
        for (const list of Object.values(i.samples)) for (const x of list) if (x.time.getTime() >= since) sink += x.value;
      }
      scans += inputs.length;
    } while (now() - t2 < minMs / 3);
    const scanPerSec = (scans * 1000) / (now() - t2);
    if (Number.isNaN(sink)) throw new Error('unreachable');

    const perSec = (evaluations * 1000) / evalMs;
    ctx.progress(`  autoscale: ${round(perSec)} evaluations/s`);
    const metrics: Metric[] = [
      { name: `evaluations/s (${texts.length} formulas × ${pools} pools, ${SAMPLES_PER_DAY} samples × ${METRICS.length} metrics)`, value: round(perSec), unit: '/s', note: `${round(1e6 / perSec, 1)} µs per evaluation` },
      { name: 'parse + evaluate /s', value: round((texted * 1000) / textMs), unit: '/s' },
      { name: 'ratio to a plain scan of one pool’s samples', value: round(perSec / scanPerSec, 2), unit: '×', note: `machine reference: ${round(scanPerSec)} scans/s (${METRICS.length} × ${SAMPLES_PER_DAY} samples)` },
    ];
    if (errors > 0) metrics.push({ name: 'evaluations with an error', value: errors, unit: '', note: 'expected 0' });
    return metrics;
  },
};
