import type { Runtime } from '../../runtime';
import type { Page } from '../../storage/table';
import { applySelect, EXPANDABLE, matches, parseExpand, parseFilterParam, parseSelect, SCHEMAS, SELECTABLE, toTableFilter, type ColumnMap, type SchemaName } from '../odata';
import { listQueryOf, nextLink } from '../paging';
import { jsonResponse, metadataUrl, type ApiRequest, type ApiResponse } from '../wire';
import { listBody } from './common';

export interface ListSpec<T> {
  schema: SchemaName;
  /** REST paths that have a table column (pushed down to storage). */
  columns: ColumnMap;
  fetch: (tableFilter: string | undefined, top: number, continuation: string | undefined) => Promise<Page<T>>;
  toJson: (item: T) => Record<string, unknown>;
  metadata: string;
}

/**
 * One page of a list: $filter pushed down to Table storage where the columns allow (the rest is
 * evaluated on the page), $select applied, and an absolute next link that carries the query and
 * the storage continuation.
 */
export async function listPage<T>(req: ApiRequest, _rt: Runtime, spec: ListSpec<T>): Promise<ApiResponse> {
  const q = listQueryOf(req);
  const expr = parseFilterParam(q.filter, SCHEMAS[spec.schema]);
  const select = parseSelect(q.select, (SELECTABLE as Record<string, readonly string[]>)[spec.schema] ?? []);
  parseExpand(q.expand, (EXPANDABLE as Record<string, readonly string[]>)[spec.schema] ?? []);
  const tf = expr ? toTableFilter(expr, spec.columns) : { filter: undefined, exact: true };
  const page = await spec.fetch(tf.filter, q.maxResults, q.continuation);
  let items = page.items.map(spec.toJson);
  if (expr && !tf.exact) items = items.filter((i) => matches(expr, i));
  return jsonResponse(req, 200, listBody(metadataUrl(req, spec.metadata), items.map((i) => applySelect(i, select)), nextLink(req, q, page.continuation)));
}

/** $select on a single-entity GET. */
export function selectOne(req: ApiRequest, schema: SchemaName, entity: Record<string, unknown>): Record<string, unknown> {
  const select = parseSelect(req.query.get('$select'), (SELECTABLE as Record<string, readonly string[]>)[schema] ?? []);
  parseExpand(req.query.get('$expand'), (EXPANDABLE as Record<string, readonly string[]>)[schema] ?? []);
  return applySelect(entity, select);
}
