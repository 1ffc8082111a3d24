/**
 * The OData subset of Azure Batch list/get queries: `$filter` (parse, evaluate, push down to Table storage),
 * `$select` and `$expand`. Pure code, no I/O. Every error is a 400 `InvalidQueryParameterValue` BatchError
 * with values QueryParameterName / QueryParameterValue / Reason.
 */
export type { ComparisonOp, CompareExpr, FilterExpr, FilterOp, Literal, LogicalExpr, NotExpr, ODataType, StartsWithExpr } from './ast';
export type { FilterSchema, PropertySpec } from './schema';
export { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, parseFilter, parseFilterParam } from './parser';
export { matches, readPath } from './evaluate';
export type { ColumnMap, ColumnSpec, ColumnValue, TableFilter } from './table-filter';
export { MAX_TABLE_COMPARISONS, tableLiteral, toTableFilter } from './table-filter';
export { applySelect, effectiveExpand, parseExpand, parseSelect, wantsStats } from './select';
export type { SchemaName } from './schemas';
export { ENUMS, EXPANDABLE, SCHEMAS, SELECTABLE } from './schemas';
