/**
 * Link addresses and consumer start positions as the Event Hubs SDK sends them.
 *
 * Addresses: `$cbs`, `$management`, `<hub>` (publish, service picks the partition),
 * `<hub>/Partitions/<n>` (publish to a partition) and
 * `<hub>/ConsumerGroups/<group>/Partitions/<n>` (receive). A `sb://host/` or `amqp(s)://host/`
 * prefix is ignored.
 *
 * Start positions come in the source filter `apache.org:selector-filter:string`, e.g.
 * `amqp.annotation.x-opt-offset > '-1'` (earliest), `> '@latest'`,
 * `amqp.annotation.x-opt-sequence-number >= '42'` or `amqp.annotation.x-opt-enqueued-time > '<ms>'`.
 */

export type EntityAddress =
  | { kind: 'cbs' }
  | { kind: 'management' }
  | { kind: 'hub'; hub: string }
  | { kind: 'partition'; hub: string; partitionId: string }
  | { kind: 'consumer'; hub: string; consumerGroup: string; partitionId: string }
  | { kind: 'unknown'; address: string };

export function parseAddress(raw: string | undefined): EntityAddress {
  const address = (raw ?? '').replace(/^(?:sb|amqps?):\/\/[^/]*\//i, '');
  if (address === '$cbs') return { kind: 'cbs' };
  if (address === '$management') return { kind: 'management' };
  const parts = address.split('/');
  const [hub, a, b, c, d] = parts;
  if (!hub) return { kind: 'unknown', address };
  if (parts.length === 1) return { kind: 'hub', hub };
  if (parts.length === 3 && a?.toLowerCase() === 'partitions' && b) return { kind: 'partition', hub, partitionId: b };
  if (parts.length === 5 && a?.toLowerCase() === 'consumergroups' && b && c?.toLowerCase() === 'partitions' && d) {
    return { kind: 'consumer', hub, consumerGroup: b, partitionId: d };
  }
  return { kind: 'unknown', address };
}

export type StartPosition =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'offset'; offset: number; inclusive: boolean }
  | { kind: 'sequence'; sequenceNumber: number; inclusive: boolean }
  | { kind: 'enqueued'; ms: number; inclusive: boolean };

export class InvalidFilterError extends Error {
  override readonly name = 'InvalidFilterError';
}

const SELECTOR = /^\s*amqp\.annotation\.(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time)\s*(>=|>)\s*'([^']*)'\s*$/;

/** Parses a selector expression; no expression means "from the beginning". */
export function parseSelector(expression: string | undefined): StartPosition {
  if (expression === undefined || expression.trim() === '') return { kind: 'earliest' };
  const m = SELECTOR.exec(expression);
  if (!m) throw new InvalidFilterError(`Unsupported filter expression: ${expression}`);
  const [, field, op, value = ''] = m;
  const inclusive = op === '>=';
  if (field === 'x-opt-offset' && value === '@latest') return { kind: 'latest' };
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidFilterError(`Invalid ${field} value '${value}'`);
  if (field === 'x-opt-offset') return n < 0 ? { kind: 'earliest' } : { kind: 'offset', offset: n, inclusive };
  if (field === 'x-opt-sequence-number') return { kind: 'sequence', sequenceNumber: n, inclusive };
  return { kind: 'enqueued', ms: n, inclusive };
}

/** Pulls the selector string out of a remote attach `source.filter` map, however rhea decoded it. */
export function selectorOf(filter: unknown): string | undefined {
  if (filter == null || typeof filter !== 'object') return undefined;
  for (const [key, entry] of Object.entries(filter as Record<string, unknown>)) {
    if (!key.includes('selector-filter')) continue;
    let v: unknown = entry;
    for (let depth = 0; depth < 3 && v != null && typeof v === 'object' && 'value' in v; depth++) {
      v = (v as { value: unknown }).value;
    }
    if (typeof v === 'string') return v;
  }
  return undefined;
}
