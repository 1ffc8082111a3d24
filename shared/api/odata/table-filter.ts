import type { CompareExpr, ComparisonOp, FilterExpr, StartsWithExpr } from './ast';
import { canonicalToDate, hasSubMillisecond } from './datetime';

/*
 * Push-down of a parsed `$filter` to an Azure Table storage `$filter` over stored columns.
 *
 * Contract with the caller (who owns the table layout):
 * - `columns` maps a filter property (REST path, e.g. 'state', 'executionInfo/exitCode') to the stored column;
 * - a string or enum column holds the value lower-cased (Batch compares values case-insensitively, Table
 *   compares ordinally); `encode` defaults to `String(v).toLowerCase()` for those and to identity otherwise;
 * - a datetime column holds a Table DateTime (Date) with the entity's precision; int and bool columns hold
 *   the JSON number/boolean; a null/absent REST value means the column is absent.
 * Table storage treats comparisons with an absent column as false (`ne` included), and so does `matches`.
 *
 * The result selects a superset of what `matches` accepts. `exact` is true only when it selects exactly the
 * same entities, i.e. the caller may skip `matches`.
 */

export type ColumnValue = string | number | boolean | Date;
export interface ColumnSpec {
  column: string;
  encode?: (v: ColumnValue) => ColumnValue;
}
export type ColumnMap = Record<string, ColumnSpec>;
export interface TableFilter {
  filter?: string;
  exact: boolean;
}

/** Azure Table storage rejects a `$filter` with more than 15 discrete comparisons. */
export const MAX_TABLE_COMPARISONS = 15;

type Node = { kind: 'cmp'; text: string } | { kind: 'and' | 'or'; items: Node[] };
interface Pushed {
  node?: Node;
  exact: boolean;
}

const NOTHING: Pushed = { exact: false };
const lower = (v: ColumnValue): ColumnValue => String(v).toLowerCase();
const identity = (v: ColumnValue): ColumnValue => v;

/** Table OData literal for a value, or undefined when it has no safe representation. */
export function tableLiteral(v: ColumnValue): string | undefined {
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    const s = String(v);
    return Number.isFinite(v) && /^-?\d+(\.\d+)?$/.test(s) ? s : undefined;
  }
  return Number.isNaN(v.getTime()) ? undefined : `datetime'${v.toISOString()}'`;
}

/** Smallest string greater than every string that starts with `prefix`, if any. */
function prefixUpperBound(prefix: string): string | undefined {
  let p = prefix;
  while (p.length > 0) {
    const last = p.charCodeAt(p.length - 1);
    if (last < 0xffff) return p.slice(0, -1) + String.fromCharCode(last + 1);
    p = p.slice(0, -1);
  }
  return undefined;
}

function lookupColumn(columns: ColumnMap, expr: CompareExpr | StartsWithExpr): ColumnSpec | undefined {
  for (const key of [expr.property, expr.path]) {
    if (Object.prototype.hasOwnProperty.call(columns, key)) return columns[key];
  }
  return undefined;
}

function cmp(column: string, op: ComparisonOp, value: ColumnValue): Node | undefined {
  const lit = tableLiteral(value);
  return lit === undefined ? undefined : { kind: 'cmp', text: `${column} ${op} ${lit}` };
}

function encoderFor(spec: ColumnSpec, type: string): (v: ColumnValue) => ColumnValue {
  return spec.encode ?? (type === 'string' || type === 'enum' ? lower : identity);
}

function pushCompare(expr: CompareExpr, columns: ColumnMap): Pushed {
  const spec = lookupColumn(columns, expr);
  if (!spec) return NOTHING;
  const encode = encoderFor(spec, expr.type);
  const lit = expr.value;
  if (lit.type === 'datetime' && hasSubMillisecond(lit.value)) {
    // Stored DateTimes have millisecond precision: compare against the truncated instant, a superset.
    const floor = encode(canonicalToDate(lit.value));
    const op: ComparisonOp | undefined =
      expr.op === 'gt' || expr.op === 'ge' ? 'ge' : expr.op === 'lt' || expr.op === 'le' ? 'le' : expr.op === 'eq' ? 'eq' : undefined;
    const node = op === undefined ? undefined : cmp(spec.column, op, floor);
    return node ? { node, exact: false } : NOTHING;
  }
  const raw = lit.type === 'datetime' ? canonicalToDate(lit.value) : lit.value;
  const node = cmp(spec.column, expr.op, encode(raw));
  return node ? { node, exact: true } : NOTHING;
}

function pushStartsWith(expr: StartsWithExpr, columns: ColumnMap): Pushed {
  const spec = lookupColumn(columns, expr);
  if (!spec) return NOTHING;
  const prefix = encoderFor(spec, expr.type)(expr.prefix);
  if (typeof prefix !== 'string') return NOTHING;
  const from = cmp(spec.column, 'ge', prefix);
  const upper = prefixUpperBound(prefix);
  const to = upper === undefined ? undefined : cmp(spec.column, 'lt', upper);
  if (!from) return NOTHING;
  return { node: to ? { kind: 'and', items: [from, to] } : from, exact: true };
}

function combine(kind: 'and' | 'or', a: Node, b: Node): Node {
  const items = [a, b].flatMap((n) => (n.kind === kind ? n.items : [n]));
  return { kind, items };
}

function push(expr: FilterExpr, columns: ColumnMap): Pushed {
  switch (expr.kind) {
    case 'compare':
      return pushCompare(expr, columns);
    case 'startswith':
      return pushStartsWith(expr, columns);
    case 'not':
      return NOTHING;
    case 'and': {
      const l = push(expr.left, columns);
      const r = push(expr.right, columns);
      const exact = l.exact && r.exact;
      if (l.node && r.node) return { node: combine('and', l.node, r.node), exact };
      return { node: l.node ?? r.node, exact };
    }
    case 'or': {
      const l = push(expr.left, columns);
      const r = push(expr.right, columns);
      if (!l.node || !r.node) return NOTHING;
      return { node: combine('or', l.node, r.node), exact: l.exact && r.exact };
    }
  }
}

function count(node: Node): number {
  return node.kind === 'cmp' ? 1 : node.items.reduce((n, item) => n + count(item), 0);
}

/** Keeps at most `budget` comparisons; dropping an `and` operand (or a whole `or`) only widens the result. */
function trim(node: Node, budget: number): { node?: Node; dropped: boolean } {
  if (count(node) <= budget) return { node, dropped: false };
  if (node.kind !== 'and') return { dropped: true };
  const kept: Node[] = [];
  let left = budget;
  for (const item of node.items) {
    const t = trim(item, left);
    if (t.node) {
      kept.push(t.node);
      left -= count(t.node);
    }
  }
  const only = kept[0];
  if (only === undefined) return { dropped: true };
  return { node: kept.length === 1 ? only : { kind: 'and', items: kept }, dropped: true };
}

function render(node: Node): string {
  if (node.kind === 'cmp') return node.text;
  return node.items.map((item) => (item.kind === 'cmp' ? item.text : `(${render(item)})`)).join(` ${node.kind} `);
}

/**
 * Translates a filter to an Azure Table storage filter over stored columns. Parts that cannot be pushed down
 * (unmapped properties, `not`, `or` with an unpushable side, more than 15 comparisons) are left out and make
 * `exact` false; the caller then also applies `matches` to each row it reads.
 */
export function toTableFilter(expr: FilterExpr, columns: ColumnMap): TableFilter {
  const pushed = push(expr, columns);
  if (!pushed.node) return { exact: false };
  const t = trim(pushed.node, MAX_TABLE_COMPARISONS);
  return t.node ? { filter: render(t.node), exact: pushed.exact && !t.dropped } : { exact: false };
}
