import { describe, expect, it } from 'vitest';
import { checkConditions } from '../../shared/api/conditions';
import { batchEtag, etagMatches } from '../../shared/api/etag';
import { listQueryOf, maxResultsOf, nextLink, type ListQuery } from '../../shared/api/paging';
import { SUPPORTED_API_VERSIONS, checkApiVersion, emptyResponse, errorResponse, jsonBody, jsonResponse, parseQuery, type ApiRequest } from '../../shared/api/wire';
import { BatchError } from '../../shared/errors';

const ORIGIN = 'http://127.0.0.1:7071';
const NOW = new Date('2024-04-11T19:04:59.123Z');

function request(rawPathAndQuery: string, headers: Record<string, string> = {}, method = 'GET', body = ''): ApiRequest {
  return { method, rawPathAndQuery, origin: ORIGIN, headers, query: parseQuery(rawPathAndQuery), params: {}, body: Buffer.from(body), requestId: 'req-1', now: NOW };
}

function thrown(fn: () => unknown): BatchError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BatchError) return err;
    throw err;
  }
  throw new Error('expected a BatchError');
}

describe('errorResponse', () => {
  it('is the flat Batch error body with odata.metadata, message lines and values', () => {
    const res = errorResponse(request('/pools/p1?api-version=2022-10-01.16.0'), new BatchError('PoolNotFound', 'The specified pool does not exist.', [{ key: 'k', value: 'v' }]));
    expect(res.status).toBe(404);
    expect(res.headers).toMatchObject({ 'request-id': 'req-1', dataserviceversion: '3.0', 'content-type': 'application/json;odata=minimalmetadata' });
    expect(JSON.parse(res.body as string)).toEqual({
      'odata.metadata': `${ORIGIN}/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element`,
      code: 'PoolNotFound',
      message: { lang: 'en-US', value: 'The specified pool does not exist.\nRequestId:req-1\nTime:2024-04-11T19:04:59.123Z' },
      values: [{ key: 'k', value: 'v' }],
    });
  });

  it('omits values when there are none, and never wraps in odata.error', () => {
    const body = JSON.parse(errorResponse(request('/jobs'), new BatchError('JobNotFound', 'nope')).body as string) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['code', 'message', 'odata.metadata']);
  });

  it('an unknown error becomes a 500 InternalError without internals', () => {
    const res = errorResponse(request('/jobs'), new TypeError('secret stack detail'));
    expect(res.status).toBe(500);
    const body = JSON.parse(res.body as string) as { code: string; message: { value: string } };
    expect(body.code).toBe('InternalError');
    expect(body.message.value).not.toContain('secret');
  });

  it('HEAD gets no body, only the error code header', () => {
    const res = errorResponse(request('/pools/p1', {}, 'HEAD'), new BatchError('PoolNotFound', 'x'));
    expect(res).toEqual({ status: 404, headers: { 'request-id': 'req-1', dataserviceversion: '3.0', 'content-length': '0', 'x-ms-error-code': 'PoolNotFound' } });
  });

  it('ConditionNotMet keeps a 304 given explicitly', () => {
    expect(errorResponse(request('/pools/p1'), new BatchError('ConditionNotMet', 'x', [], 304)).status).toBe(304);
  });
});

describe('client-request-id echo', () => {
  const cases: [Record<string, string>, string | undefined][] = [
    [{ 'client-request-id': 'abc', 'return-client-request-id': 'true' }, 'abc'],
    [{ 'client-request-id': 'abc', 'return-client-request-id': 'True' }, 'abc'],
    [{ 'client-request-id': 'abc', 'return-client-request-id': 'false' }, undefined],
    [{ 'client-request-id': 'abc' }, undefined],
    [{ 'return-client-request-id': 'true' }, undefined],
  ];
  it.each(cases)('%j → %s', (headers, echoed) => {
    const req = request('/pools', headers);
    for (const res of [jsonResponse(req, 200, {}), emptyResponse(req, 202), errorResponse(req, new BatchError('PoolNotFound', 'x'))]) {
      expect(res.headers['client-request-id']).toBe(echoed);
      expect(res.headers['request-id']).toBe('req-1');
    }
  });
});

describe('api-version and query parsing', () => {
  it.each([...SUPPORTED_API_VERSIONS])('%s is accepted', (v) => {
    expect(() => checkApiVersion(request(`/pools?api-version=${v}`))).not.toThrow();
  });

  it('missing → 400 MissingRequiredQueryParameter naming api-version', () => {
    const e = thrown(() => checkApiVersion(request('/pools?maxresults=1')));
    expect([e.code, e.status, e.values]).toEqual(['MissingRequiredQueryParameter', 400, [{ key: 'QueryParameterName', value: 'api-version' }]]);
  });

  it.each(['2099-01-01.99.0', '2022-10-01', ''])('unknown %j → 400 (UnsupportedRequestVersion unless empty)', (v) => {
    const e = thrown(() => checkApiVersion(request(`/pools?api-version=${v}`)));
    expect(e.status).toBe(400);
    expect(e.code).toBe(v === '' ? 'MissingRequiredQueryParameter' : 'UnsupportedRequestVersion');
  });

  it('names are case-insensitive, values decoded, the first of repeated names wins', () => {
    const q = parseQuery('/pools?API-Version=2022-10-01.16.0&$Filter=state%20eq%20%27active%27&MaxResults=5&maxresults=7&$select=id%2Cstate');
    expect([...q]).toEqual([['api-version', '2022-10-01.16.0'], ['$filter', "state eq 'active'"], ['maxresults', '5'], ['$select', 'id,state']]);
    expect(() => checkApiVersion(request('/pools?Api-Version=2022-10-01.16.0'))).not.toThrow();
  });

  it('no query string gives an empty map', () => {
    expect(parseQuery('/pools').size).toBe(0);
  });

  it('jsonBody parses, and refuses empty or malformed bodies', () => {
    expect(jsonBody(request('/pools', {}, 'POST', ' {"id":"p1"} '))).toEqual({ id: 'p1' });
    for (const body of ['', '   ', '{"id":', 'nope']) expect(thrown(() => jsonBody(request('/pools', {}, 'POST', body))).code).toBe('InvalidRequestBody');
  });
});

/** .NET DateTime ticks (100 ns since 0001-01-01, proleptic Gregorian), computed without Date. */
function dotnetTicks(y: number, mo: number, d: number, h: number, mi: number, s: number, hundredNs: number): bigint {
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const p = y - 1;
  const cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
  const days = 365 * p + Math.floor(p / 4) - Math.floor(p / 100) + Math.floor(p / 400) + cumulative[mo - 1]! + (mo > 2 && leap ? 1 : 0) + d - 1;
  return BigInt(days) * 864_000_000_000n + BigInt(h * 3600 + mi * 60 + s) * 10_000_000n + BigInt(hundredNs);
}
const hex = (t: bigint): string => `0x${t.toString(16).toUpperCase()}`;

describe('batchEtag', () => {
  it('the independent tick computation agrees with the well-known Unix epoch', () => {
    expect(dotnetTicks(1970, 1, 1, 0, 0, 0, 0)).toBe(621_355_968_000_000_000n);
  });

  const cases: [string, bigint][] = [
    [`W/"datetime'2024-04-11T19%3A04%3A59.0324068Z'"`, dotnetTicks(2024, 4, 11, 19, 4, 59, 324_068)],
    [`W/"datetime'2024-04-11T19%3A04%3A59.9999999Z'"`, dotnetTicks(2024, 4, 11, 19, 4, 59, 9_999_999)],
    [`W/"datetime'2024-02-29T23%3A59%3A59.5Z'"`, dotnetTicks(2024, 2, 29, 23, 59, 59, 5_000_000)],
    [`W/"datetime'2024-01-05T03%3A23%3A18.1234Z'"`, dotnetTicks(2024, 1, 5, 3, 23, 18, 1_234_000)],
    [`W/"datetime'2000-03-01T00%3A00%3A00Z'"`, dotnetTicks(2000, 3, 1, 0, 0, 0, 0)],
    [`W/"datetime'2026-11-23T08:15:00.0000001Z'"`, dotnetTicks(2026, 11, 23, 8, 15, 0, 1)],
  ];
  it.each(cases)('%s → .NET ticks in hex', (tableEtag, ticks) => {
    expect(batchEtag(tableEtag)).toBe(hex(ticks));
  });

  it('the example from the reference is exact', () => {
    expect(batchEtag(`W/"datetime'2024-04-11T19%3A04%3A59.0324068Z'"`)).toBe('0x8DC5A5A4889F164');
  });

  it('a later timestamp gives a different, larger ETag', () => {
    const a = BigInt(batchEtag(`W/"datetime'2024-04-11T19%3A04%3A59.0324068Z'"`));
    const b = BigInt(batchEtag(`W/"datetime'2024-04-11T19%3A04%3A59.0324069Z'"`));
    expect(b - a).toBe(1n);
  });

  it('a non-datetime ETag still maps to a stable 0x-hex value', () => {
    const a = batchEtag('"opaque-1"');
    expect(a).toMatch(/^0x[0-9A-F]+$/);
    expect(batchEtag('"opaque-1"')).toBe(a);
    expect(batchEtag('"opaque-2"')).not.toBe(a);
  });
});

describe('etagMatches', () => {
  const E = '0x8DC5A5A4889F164';
  const cases: [string, boolean][] = [
    [E, true],
    [`"${E}"`, true],
    [`W/"${E}"`, true],
    [E.toLowerCase(), true],
    ['*', true],
    ['"*"', true],
    [`"0x1", "${E}"`, true],
    [`"0x1",W/"${E}"`, true],
    ['"0x1", "0x2"', false],
    ['"0x8DC5A5A4889F165"', false],
    ['', false],
  ];
  it.each(cases)('%j → %s', (header, expected) => {
    expect(etagMatches(header, E)).toBe(expected);
  });
});

describe('checkConditions', () => {
  const ETAG = '0x8DC5A5A4889F164';
  const MODIFIED = '2024-04-11T19:04:59.032Z';
  const at = (iso: string): string => new Date(iso).toUTCString();
  type Kind = 'read' | 'write';
  const cases: [string, Record<string, string>, Kind, number | undefined][] = [
    ['If-Match equal (read)', { 'if-match': `"${ETAG}"` }, 'read', undefined],
    ['If-Match * (write)', { 'if-match': '*' }, 'write', undefined],
    ['If-Match mismatch (read)', { 'if-match': '"0x1"' }, 'read', 412],
    ['If-Match mismatch (write)', { 'if-match': '"0x1"' }, 'write', 412],
    ['If-None-Match match (read)', { 'if-none-match': `"${ETAG}"` }, 'read', 304],
    ['If-None-Match match (write)', { 'if-none-match': `"${ETAG}"` }, 'write', 412],
    ['If-None-Match * (write)', { 'if-none-match': '*' }, 'write', 412],
    ['If-None-Match other (read)', { 'if-none-match': '"0x1"' }, 'read', undefined],
    ['If-Modified-Since same second (read)', { 'if-modified-since': at('2024-04-11T19:04:59Z') }, 'read', 304],
    ['If-Modified-Since later (write)', { 'if-modified-since': at('2024-04-11T20:00:00Z') }, 'write', 412],
    ['If-Modified-Since earlier (read)', { 'if-modified-since': at('2024-04-11T19:04:58Z') }, 'read', undefined],
    ['If-Modified-Since garbage is ignored', { 'if-modified-since': 'not a date' }, 'read', undefined],
    ['If-Unmodified-Since earlier (read)', { 'if-unmodified-since': at('2024-04-11T19:04:58Z') }, 'read', 412],
    ['If-Unmodified-Since earlier (write)', { 'if-unmodified-since': at('2024-04-11T19:04:58Z') }, 'write', 412],
    ['If-Unmodified-Since same second (write)', { 'if-unmodified-since': at('2024-04-11T19:04:59Z') }, 'write', undefined],
    ['If-Match ok but If-None-Match matches (read)', { 'if-match': ETAG, 'if-none-match': ETAG }, 'read', 304],
    ['no conditions', {}, 'write', undefined],
  ];
  it.each(cases)('%s', (_name, headers, kind, status) => {
    const run = (): void => checkConditions(request('/pools/p1', headers), ETAG, MODIFIED, kind);
    if (status === undefined) {
      expect(run).not.toThrow();
    } else {
      const e = thrown(run);
      expect([e.code, e.status]).toEqual(['ConditionNotMet', status]);
    }
  });
});

describe('paging', () => {
  it.each([[undefined, 1000], ['1', 1], ['1000', 1000], ['17', 17]])('maxresults=%s → %i', (raw, n) => {
    expect(maxResultsOf(request(raw === undefined ? '/pools' : `/pools?maxresults=${raw}`))).toBe(n);
  });

  it.each(['0', '1001', '-1', '1.5', 'ten', ''])('maxresults=%j → 400 InvalidQueryParameterValue', (raw) => {
    const e = thrown(() => maxResultsOf(request(`/pools?maxresults=${raw}`)));
    expect([e.code, e.status]).toEqual(['InvalidQueryParameterValue', 400]);
    expect(e.values[0]).toEqual({ key: 'QueryParameterName', value: 'maxresults' });
  });

  it('the next link is absolute, carries filter/select/expand/continuation and round-trips', () => {
    const first = request("/jobs/job%201/tasks?api-version=2022-10-01.16.0&$filter=state%20eq%20'active'&$select=id%2Cstate&$expand=stats&maxresults=10&recursive=true");
    const q = listQueryOf(first, ['recursive']);
    expect(q).toEqual({ filter: "state eq 'active'", select: 'id,state', expand: 'stats', maxResults: 10, extra: { recursive: 'true' } });
    const link = nextLink(first, q, 'NextPartitionKey=j1&NextRowKey=t 10')!;
    const url = new URL(link);
    expect(url.origin).toBe(ORIGIN);
    expect(url.pathname).toBe('/jobs/job%201/tasks');
    expect(url.searchParams.get('api-version')).toBe('2022-10-01.16.0');
    expect([...url.searchParams.keys()].sort()).toEqual(['$skiptoken', 'api-version']);
    const second = request(link.slice(ORIGIN.length));
    const q2 = listQueryOf(second, ['recursive']);
    expect(q2).toEqual({ ...q, continuation: 'NextPartitionKey=j1&NextRowKey=t 10' });
    const link2 = nextLink(second, q2, 'c2')!;
    expect(listQueryOf(request(link2.slice(ORIGIN.length)))).toEqual({ ...q, continuation: 'c2' });
  });

  it('no continuation → no next link', () => {
    const req = request('/pools?api-version=2022-10-01.16.0');
    expect(nextLink(req, listQueryOf(req), undefined)).toBeUndefined();
  });

  const token = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  it.each([
    ['not base64 JSON', 'abc!!'],
    ['JSON without maxResults', token({ filter: 'x' })],
    ['JSON null', token(null)],
    ['truncated', token({ maxResults: 10, continuation: 'c' }).slice(0, 10)],
  ])('a tampered $skiptoken (%s) → 400 InvalidQueryParameterValue', (_name, t) => {
    const e = thrown(() => listQueryOf(request(`/pools?api-version=2022-10-01.16.0&$skiptoken=${t}`)));
    expect([e.code, e.status]).toEqual(['InvalidQueryParameterValue', 400]);
  });

  // Regression: a forged but well-formed $skiptoken must not bypass the maxresults bounds or types.
  it.each([
    ['maxResults above 1000', { maxResults: 100000 }],
    ['maxResults 0', { maxResults: 0 }],
    ['non-string filter', { maxResults: 10, filter: 42 }],
  ] as [string, Partial<ListQuery> | Record<string, unknown>][])('a forged $skiptoken (%s) → 400', (_name, body) => {
    const e = thrown(() => listQueryOf(request(`/pools?api-version=2022-10-01.16.0&$skiptoken=${token(body)}`)));
    expect(e.code).toBe('InvalidQueryParameterValue');
  });
});
