/**
 * The AutoScaleRun `results` string: `name=value` pairs joined by ';' (no trailing ';').
 * Service variables come first in Azure's order ($TargetDedicatedNodes, $TargetLowPriorityNodes,
 * $NodeDeallocationOption — the recordings), then every user variable in ordinal name order (the
 * seed's sample lists $curTime, $isWeekday, $isWorkingWeekdayHour, $workHours although the formula
 * assigns them in another order). Values print as they were evaluated (a target of 3.3 prints
 * `3.3`; the applied target is rounded down separately).
 */
import { formatInterval, formatTimestamp } from './time';
import type { Value } from './types';

/**
 * A double as .NET Framework's `double.ToString()` ("G", 15 significant digits) prints it:
 * `10`, `0.5`, `3.3` (not 3.3000000000000003), `1E+15`, `1E-05`, `NaN`, `Infinity`.
 */
export function formatDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return '0';
  const [mantissa = '0', expText = '0'] = Math.abs(x).toExponential(14).split('e');
  const exp = Number(expText);
  const digits = mantissa.replace('.', '').replace(/0+$/, '') || '0';
  const sign = x < 0 ? '-' : '';
  if (exp >= 15 || exp <= -5) {
    const rest = digits.slice(1);
    const e = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    return `${sign}${digits[0]}${rest ? `.${rest}` : ''}E${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const fracPart = digits.slice(exp + 1);
  return `${sign}${intPart}${fracPart ? `.${fracPart}` : ''}`;
}

/** doubleVec prints as `[1,1,1]` (the seed: `$runningTasksSample=[1,1,1,1,1,1,1,1,1,1]`). */
export function formatValue(v: Value): string {
  switch (v.type) {
    case 'double':
      return formatDouble(v.value);
    case 'doubleVec':
      return `[${v.value.map(formatDouble).join(',')}]`;
    case 'string':
      return v.value;
    case 'timestamp':
      return formatTimestamp(v.value);
    case 'timeinterval':
      return formatInterval(v.value);
    default: {
      const never: never = v;
      return String(never);
    }
  }
}

export interface ResultsInput {
  targetDedicatedNodes: Value;
  targetLowPriorityNodes: Value;
  nodeDeallocationOption: string;
  userVariables: ReadonlyMap<string, Value>;
}

export function buildResults(r: ResultsInput): string {
  const parts = [
    `$TargetDedicatedNodes=${formatValue(r.targetDedicatedNodes)}`,
    `$TargetLowPriorityNodes=${formatValue(r.targetLowPriorityNodes)}`,
    `$NodeDeallocationOption=${r.nodeDeallocationOption}`,
  ];
  const names = [...r.userVariables.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const v = r.userVariables.get(name);
    if (v !== undefined) parts.push(`${name}=${formatValue(v)}`);
  }
  return parts.join(';');
}
