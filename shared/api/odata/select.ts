import { invalidQuery } from './errors';

/*
 * `$select` and `$expand`. Both are comma-separated lists of top-level REST property names (case-sensitive,
 * whitespace around items allowed: `id, state`). Batch only expands `stats`, and `stats` named in `$select`
 * has the same effect as `$expand=stats`.
 */

function parseList(param: '$select' | '$expand', text: string, allowed: readonly string[]): string[] {
  const out: string[] = [];
  let pos = 0;
  for (const raw of text.split(',')) {
    const item = raw.trim();
    const at = pos + (raw.length - raw.trimStart().length) + 1;
    if (item === '') throw invalidQuery(param, text, 'empty property name in the list', at);
    if (!allowed.includes(item)) {
      const hint = allowed.find((a) => a.toLowerCase() === item.toLowerCase());
      const reason = hint === undefined
        ? `the property '${item}' is not supported in ${param} for this resource`
        : `the property '${item}' is not supported in ${param} for this resource (property names are case-sensitive: '${hint}')`;
      throw invalidQuery(param, text, reason, at);
    }
    if (!out.includes(item)) out.push(item);
    pos += raw.length + 1;
  }
  return out;
}

/**
 * Parses `$select`. Absent or blank → undefined (every property). Unknown names → 400
 * InvalidQueryParameterValue naming `$select`.
 */
export function parseSelect(text: string | undefined, allowed: readonly string[]): string[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  return parseList('$select', text, allowed);
}

/** Parses `$expand` (Batch allows only `stats`, and only on pools, jobs, job schedules and tasks). */
export function parseExpand(text: string | undefined, allowed: readonly string[]): string[] {
  if (text === undefined || text.trim() === '') return [];
  return parseList('$expand', text, allowed);
}

/**
 * What to expand once `$select` is taken into account: `$expand` items plus every expandable property
 * named in `$select` (`$select=id,stats` ≡ `$select=id,stats&$expand=stats`).
 */
export function effectiveExpand(
  select: readonly string[] | undefined,
  expand: readonly string[],
  expandable: readonly string[] = ['stats'],
): string[] {
  const out = [...expand];
  for (const s of select ?? []) if (expandable.includes(s) && !out.includes(s)) out.push(s);
  return out;
}

/** True when statistics must be included in the response (`$expand=stats` or `stats` in `$select`). */
export function wantsStats(select: readonly string[] | undefined, expand: readonly string[]): boolean {
  return expand.includes('stats') || (select?.includes('stats') ?? false);
}

/**
 * Projects an entity onto the selected top-level properties; unselected properties are absent from the
 * result (not null). Without a select, returns a shallow copy. Property order follows the entity.
 */
export function applySelect<T extends object>(entity: T, select: readonly string[] | undefined): Partial<T> {
  if (select === undefined) return { ...entity };
  const out: Partial<T> = {};
  for (const key of Object.keys(entity) as (keyof T & string)[]) {
    if (select.includes(key) && entity[key] !== undefined) out[key] = entity[key];
  }
  return out;
}
