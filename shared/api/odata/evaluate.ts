import type { CompareExpr, ComparisonOp, FilterExpr } from './ast';
import { toCanonical } from './datetime';

/*
 * In-memory evaluation of a parsed filter against an entity in its REST JSON shape.
 *
 * Semantics:
 * - string and enum values compare case-insensitively (both sides lower-cased, then ordinal order);
 * - a missing or null value (or one of the wrong JSON type) makes every comparison false, `ne` included,
 *   and `startswith` false — the rule Azure Table storage applies to absent properties, so a filter pushed
 *   down to a table selects exactly the same rows (see table-filter.ts);
 * - `not` is plain boolean negation of its operand.
 */

/** Reads a `/`-separated path from a JSON object; undefined when any step is missing. */
export function readPath(entity: unknown, path: string): unknown {
  let cur: unknown = entity;
  for (const seg of path.split('/')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function order<T extends string | number>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function apply(op: ComparisonOp, c: number): boolean {
  switch (op) {
    case 'eq':
      return c === 0;
    case 'ne':
      return c !== 0;
    case 'gt':
      return c > 0;
    case 'ge':
      return c >= 0;
    case 'lt':
      return c < 0;
    case 'le':
      return c <= 0;
  }
}

/** Ordering of the entity value against the literal, or undefined when they cannot be compared. */
function compareValue(expr: CompareExpr, actual: unknown): number | undefined {
  const lit = expr.value;
  switch (lit.type) {
    case 'string':
      return typeof actual === 'string' ? order(actual.toLowerCase(), lit.value.toLowerCase()) : undefined;
    case 'int':
      return typeof actual === 'number' && Number.isFinite(actual) ? order(actual, lit.value) : undefined;
    case 'bool':
      return typeof actual === 'boolean' ? order(Number(actual), Number(lit.value)) : undefined;
    case 'datetime': {
      const c = toCanonical(actual);
      return c === undefined ? undefined : order(c, lit.value);
    }
  }
}

export function matches(expr: FilterExpr, entity: unknown): boolean {
  switch (expr.kind) {
    case 'and':
      return matches(expr.left, entity) && matches(expr.right, entity);
    case 'or':
      return matches(expr.left, entity) || matches(expr.right, entity);
    case 'not':
      return !matches(expr.operand, entity);
    case 'startswith': {
      const actual = readPath(entity, expr.path);
      return typeof actual === 'string' && actual.toLowerCase().startsWith(expr.prefix.toLowerCase());
    }
    case 'compare': {
      const c = compareValue(expr, readPath(entity, expr.path));
      return c !== undefined && apply(expr.op, c);
    }
  }
}
