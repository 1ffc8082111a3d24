import type { ComparisonOp, FilterOp, ODataType } from './ast';
import { COMPARISON_OPS } from './ast';

export interface PropertySpec {
  type: ODataType;
  /**
   * Operators the property accepts. Default: every comparison for `string`, `int` and `datetime`;
   * `eq`/`ne` for `bool` and `enum`. `startswith` is only accepted (on strings) when listed here.
   */
  ops?: FilterOp[];
  /** Allowed values of an `enum` property (lower case; matched case-insensitively). */
  values?: string[];
  /**
   * Where the value lives in the REST JSON entity when that differs from the property name
   * (Azure documents `lastModifiedTime` as filterable on tasks while the entity property is `lastModified`).
   */
  path?: string;
}

/** Filterable properties of one list operation, keyed by the property name used in `$filter` (REST path). */
export type FilterSchema = Record<string, PropertySpec>;

const ORDERING: readonly ComparisonOp[] = COMPARISON_OPS;
const EQUALITY: readonly ComparisonOp[] = ['eq', 'ne'];

export function allowedOps(spec: PropertySpec): readonly FilterOp[] {
  if (spec.ops) return spec.ops;
  return spec.type === 'bool' || spec.type === 'enum' ? EQUALITY : ORDERING;
}

export function isAllowed(spec: PropertySpec, op: FilterOp): boolean {
  const ops = allowedOps(spec);
  if (op === 'startswith') return spec.type === 'string' && ops.includes('startswith');
  return ops.includes(op);
}

/** Own-property lookup (a schema is a plain object: `constructor` or `__proto__` must not resolve). */
export function lookupProperty(schema: FilterSchema, name: string): PropertySpec | undefined {
  return Object.prototype.hasOwnProperty.call(schema, name) ? schema[name] : undefined;
}
