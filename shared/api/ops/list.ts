import type { Runtime } from '../../runtime';
import type { Page } from '../../storage/table';
import { applySelect, EXPANDABLE, matches, parseExpand, parseFilterParam, parseSelect, SCHEMAS, SELECTABLE, toTableFilter, wantsStats, type ColumnMap, type FilterExpr, type SchemaName } from '../odata';
import { listQueryOf, nextLink, type ListQuery } from '../paging';
import { jsonResponse, metadataUrl, type ApiRequest, type ApiResponse } from '../wire';
import { listBody } from './common';

type Json = Record<string, unknown>;
/** Statistics of one entity (`$expand=stats`); may read storage. */
export type StatsOf<T> = (item: T) => Json | Promise<Json>;

export interface ListSpec<T> {
  schema: SchemaName;
  /** REST paths that have a table column (pushed down to storage). */
  columns: ColumnMap;
  fetch: (tableFilter: string | undefined, top: number, continuation: string | undefined) => Promise<Page<T>>;
  /** The REST entity without `stats`. */
  toJson: (item: T) => Json;
  /** Statistics, added as `stats` only when asked for ($expand=stats, or stats in $select). */
  stats?: StatsOf<T>;
  metadata: string;
}

/** What a list or get asked for: the filter, the projection, and whether statistics are wanted. */
export interface QueryParts {
  expr?: FilterExpr;
  select?: string[];
  stats: boolean;
}

/**
 * Parses and validates `$filter`, `$select` and `$expand` for one resource (400 InvalidQueryParameterValue
 * on anything it does not accept). `$expand=stats` with a `$select` that omits stats still returns them.
 */
export function queryParts(schema: SchemaName, q: Pick<ListQuery, 'filter' | 'select' | 'expand'>): QueryParts {
  const expr = parseFilterParam(q.filter, SCHEMAS[schema]);
  const selected = parseSelect(q.select, (SELECTABLE as Record<string, readonly string[]>)[schema] ?? []);
  const expand = parseExpand(q.expand, (EXPANDABLE as Record<string, readonly string[]>)[schema] ?? []);
  const stats = wantsStats(selected, expand);
  const select = selected && stats && !selected.includes('stats') ? [...selected, 'stats'] : selected;
  return { ...(expr ? { expr } : {}), ...(select ? { select } : {}), stats };
}

/** Adds `stats` to each entity, at most 16 computations in flight. */
async function addStats<T>(rows: { item: T; json: Json }[], stats: StatsOf<T> | undefined): Promise<Json[]> {
  if (!stats) return rows.map((r) => r.json);
  const out: Json[] = new Array<Json>(rows.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < rows.length; i = next++) {
      const r = rows[i]!;
      out[i] = { ...r.json, stats: await stats(r.item) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, rows.length) }, worker));
  return out;
}

/**
 * One page of a list: $filter pushed down to Table storage where the columns allow (the rest is
 * evaluated on the page), statistics when asked, $select applied, and an absolute next link that
 * carries the query and the storage continuation.
 */
export async function listPage<T>(req: ApiRequest, _rt: Runtime, spec: ListSpec<T>): Promise<ApiResponse> {
  const q = listQueryOf(req);
  const { expr, select, stats } = queryParts(spec.schema, q);
  const tf = expr ? toTableFilter(expr, spec.columns) : { filter: undefined, exact: true };
  const page = await spec.fetch(tf.filter, q.maxResults, q.continuation);
  let rows = page.items.map((item) => ({ item, json: spec.toJson(item) }));
  if (expr && !tf.exact) rows = rows.filter((r) => matches(expr, r.json));
  const value = await addStats(rows, stats ? spec.stats : undefined);
  return jsonResponse(req, 200, listBody(metadataUrl(req, spec.metadata), value.map((i) => applySelect(i, select)), nextLink(req, q, page.continuation)));
}

/** $select and $expand on a single-entity GET (statistics computed only when asked). */
export async function selectOne<T>(req: ApiRequest, schema: SchemaName, item: T, toJson: (item: T) => Json, stats?: StatsOf<T>): Promise<Json> {
  const { select, stats: wanted } = queryParts(schema, { select: req.query.get('$select'), expand: req.query.get('$expand') });
  const json = toJson(item);
  return applySelect(wanted && stats ? { ...json, stats: await stats(item) } : json, select);
}

export interface ArraySpec {
  schema: SchemaName;
  metadata: string;
  /** Extra query parameters carried in the next link (e.g. `recursive`). */
  extraParams?: string[];
  /** Every entity of the list (REST shape, filter properties included), in any order. */
  items: (q: ListQuery) => Promise<Json[]> | Json[];
  /** Unique, stable key of an entity: the list order and the continuation. */
  key: (item: Json) => string;
  /** Completes the entities of one page (e.g. reads their counts) after filtering and paging. */
  finish?: (page: Json[]) => Promise<Json[]>;
}

/**
 * A list served from memory (supported images, node counts, files, usage metrics): filtered, sorted
 * by key, paged by key — the continuation is the last key returned, so entities added between pages
 * never make a pre-existing one repeat or disappear.
 */
export async function listArray(req: ApiRequest, spec: ArraySpec): Promise<ApiResponse> {
  const q = listQueryOf(req, spec.extraParams);
  const { expr, select } = queryParts(spec.schema, q);
  const after = q.continuation;
  const keyed = (await spec.items(q))
    .filter((i) => !expr || matches(expr, i))
    .map((item) => ({ key: spec.key(item), item }))
    .filter((k) => after === undefined || k.key > after)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const page = keyed.slice(0, q.maxResults);
  const more = keyed.length > page.length ? page[page.length - 1]?.key : undefined;
  const items = page.map((k) => k.item);
  const value = spec.finish ? await spec.finish(items) : items;
  return jsonResponse(req, 200, listBody(metadataUrl(req, spec.metadata), value.map((i) => applySelect(i, select)), nextLink(req, q, more)));
}
