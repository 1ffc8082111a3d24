/**
 * Types of the Azure Batch OData `$filter` subset. A parsed filter is a plain, JSON-serialisable tree
 * (dates travel as canonical strings), so it can be logged, cached or compared structurally.
 */
export type ODataType = 'string' | 'int' | 'bool' | 'datetime' | 'enum';
export type ComparisonOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type FilterOp = ComparisonOp | 'startswith';

export const COMPARISON_OPS: readonly ComparisonOp[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];

/**
 * A literal after type checking against the property it is compared with.
 * - `string` is used for both `string` and `enum` properties and keeps the text as written
 *   (comparison is case-insensitive, so consumers lower-case it when they compare);
 * - `datetime` holds the instant as a canonical UTC string with 7 fractional digits
 *   (`2011-05-08T08:49:37.0000000Z`, 100 ns ticks like .NET), which orders lexicographically.
 */
export type Literal =
  | { type: 'string'; value: string }
  | { type: 'int'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'datetime'; value: string };

export interface CompareExpr {
  kind: 'compare';
  op: ComparisonOp;
  /** The property name as written in the filter (also the key into a FilterSchema). */
  property: string;
  /** Path of the value in the REST JSON entity, segments separated by `/` (usually equal to `property`). */
  path: string;
  /** Declared type of the property. */
  type: ODataType;
  value: Literal;
}

export interface StartsWithExpr {
  kind: 'startswith';
  property: string;
  path: string;
  type: ODataType;
  prefix: string;
}

export interface LogicalExpr {
  kind: 'and' | 'or';
  left: FilterExpr;
  right: FilterExpr;
}

export interface NotExpr {
  kind: 'not';
  operand: FilterExpr;
}

export type FilterExpr = CompareExpr | StartsWithExpr | LogicalExpr | NotExpr;
