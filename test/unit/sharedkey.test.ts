import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import { WebResource, type HttpMethods } from '@azure/batch/node_modules/@azure/ms-rest-js';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchError } from '../../shared/errors';
import { authenticate, sign, stringToSign, type Account, type SignableRequest } from '../../shared/api/sharedkey';

const ACCOUNT = 'acct';
const KEY = randomBytes(64).toString('base64');
const ACCOUNTS: Account[] = [{ name: 'other', key: randomBytes(32).toString('base64') }, { name: ACCOUNT, key: KEY }];
const DATE = 'Thu, 11 Apr 2024 19:04:59 GMT';
const NOW = new Date(Date.parse(DATE));
const CT_GET = 'application/json; charset=utf-8';

/** The 12 standard fields, in order, joined the way the spec describes (each followed by \n). */
function std(method: string, f: Partial<Record<'enc' | 'lang' | 'len' | 'md5' | 'type' | 'date' | 'ims' | 'im' | 'inm' | 'ius' | 'range', string>> = {}): string {
  return [method, f.enc, f.lang, f.len, f.md5, f.type, f.date, f.ims, f.im, f.inm, f.ius, f.range].map((v) => `${v ?? ''}\n`).join('');
}

describe('stringToSign: hand-written cases', () => {
  const cases: [string, SignableRequest, string][] = [
    ['GET without body: empty content-length',
      { method: 'GET', rawPathAndQuery: '/pools?api-version=2022-10-01.16.0', headers: { 'content-type': CT_GET, 'ocp-date': DATE } },
      `${std('GET', { type: CT_GET })}ocp-date:${DATE}\n/acct/pools\napi-version:2022-10-01.16.0`],
    ['GET with content-length 0 signs ""',
      { method: 'GET', rawPathAndQuery: '/pools', headers: { 'content-length': '0', 'ocp-date': DATE } },
      `${std('GET')}ocp-date:${DATE}\n/acct/pools`],
    ['lower-case verb is upper-cased',
      { method: 'get', rawPathAndQuery: '/pools', headers: { 'ocp-date': DATE } },
      `${std('GET')}ocp-date:${DATE}\n/acct/pools`],
    ['body-less POST without content-length signs "0"',
      { method: 'POST', rawPathAndQuery: '/pools/p1/stopresize?api-version=v', headers: { 'ocp-date': DATE } },
      `${std('POST', { len: '0' })}ocp-date:${DATE}\n/acct/pools/p1/stopresize\napi-version:v`],
    ['body-less POST with content-length 0 signs "0"',
      { method: 'POST', rawPathAndQuery: '/pools/p1/stopresize', headers: { 'content-length': '0', 'ocp-date': DATE } },
      `${std('POST', { len: '0' })}ocp-date:${DATE}\n/acct/pools/p1/stopresize`],
    ['POST with a body signs the received length',
      { method: 'POST', rawPathAndQuery: '/jobs', headers: { 'content-length': '57', 'content-type': 'application/json; odata=minimalmetadata; charset=utf-8', 'ocp-date': DATE } },
      `${std('POST', { len: '57', type: 'application/json; odata=minimalmetadata; charset=utf-8' })}ocp-date:${DATE}\n/acct/jobs`],
    ['DELETE and HEAD sign ""',
      { method: 'DELETE', rawPathAndQuery: '/pools/p1', headers: { 'content-length': '0' } },
      `${std('DELETE')}/acct/pools/p1`],
    ['every standard header lands in its slot',
      { method: 'PUT', rawPathAndQuery: '/x', headers: { 'content-encoding': 'gzip', 'content-language': 'en', 'content-length': '3', 'content-md5': 'md5==', 'content-type': 'text/plain', date: DATE, 'if-modified-since': 'ims', 'if-match': '"0x1"', 'if-none-match': '"0x2"', 'if-unmodified-since': 'ius', range: 'bytes=0-1' } },
      `${std('PUT', { enc: 'gzip', lang: 'en', len: '3', md5: 'md5==', type: 'text/plain', date: DATE, ims: 'ims', im: '"0x1"', inm: '"0x2"', ius: 'ius', range: 'bytes=0-1' })}/acct/x`],
    ['ocp-* headers sorted, empty ones and non-ocp headers skipped',
      { method: 'GET', rawPathAndQuery: '/jobs/j1/tasks/t1/files/stdout.txt', headers: { 'ocp-range': 'bytes=0-4', 'x-ms-client-request-id': 'abc', 'ocp-date': DATE, 'ocp-empty': '', 'ocp-aaa': 'first', 'client-request-id': 'cr' } },
      `${std('GET')}ocp-aaa:first\nocp-date:${DATE}\nocp-range:bytes=0-4\n/acct/jobs/j1/tasks/t1/files/stdout.txt`],
    ['raw percent-encoded path is kept',
      { method: 'GET', rawPathAndQuery: '/jobs/job%201/tasks/wd%2Fa%20b.txt?api-version=v', headers: {} },
      `${std('GET')}/acct/jobs/job%201/tasks/wd%2Fa%20b.txt\napi-version:v`],
    ['query keys sorted, values decoded',
      { method: 'GET', rawPathAndQuery: '/pools?maxresults=10&api-version=v&$select=id%2Cstate&$filter=state%20eq%20%27active%27', headers: {} },
      `${std('GET')}/acct/pools\n$filter:state eq 'active'\n$select:id,state\napi-version:v\nmaxresults:10`],
    ['repeated keys: one line, first value',
      { method: 'GET', rawPathAndQuery: '/pools?b=2&a=1&a=3', headers: {} },
      `${std('GET')}/acct/pools\na:1\nb:2`],
    ['+ decodes to a space, UTF-8 escapes decode, empty values kept',
      { method: 'GET', rawPathAndQuery: '/pools?q=a+b&u=%C3%A9&e=', headers: {} },
      `${std('GET')}/acct/pools\ne:\nq:a b\nu:é`],
  ];
  it.each(cases)('%s', (_name, req, expected) => {
    expect(stringToSign(req, ACCOUNT)).toBe(expected);
  });

  it('sign is base64(HMAC-SHA256(base64-decoded key, UTF-8 string-to-sign))', () => {
    const req: SignableRequest = { method: 'GET', rawPathAndQuery: '/pools?$filter=id%20eq%20%27%C3%A9%27', headers: { 'ocp-date': DATE } };
    const expected = createHmac('sha256', Buffer.from(KEY, 'base64')).update(Buffer.from(stringToSign(req, ACCOUNT), 'utf8')).digest('base64');
    expect(sign(req, ACCOUNT, KEY)).toBe(expected);
  });
});

/** What the server would see for a WebResource the official client signed. */
function wireOf(w: WebResource, contentLengthOnWire = true): SignableRequest {
  const afterScheme = w.url.indexOf('//') + 2;
  const headers: Record<string, string> = {};
  for (const h of w.headers.headersArray()) headers[h.name.toLowerCase()] = h.value;
  if (contentLengthOnWire && headers['content-length'] === undefined && (w.body !== undefined || w.method === 'POST')) {
    headers['content-length'] = String(w.body === undefined ? 0 : Buffer.byteLength(w.body as string));
  }
  return { method: w.method, rawPathAndQuery: w.url.slice(w.url.indexOf('/', afterScheme)), headers };
}

describe('cross-check with @azure/batch BatchSharedKeyCredentials', () => {
  const creds = new BatchSharedKeyCredentials(ACCOUNT, KEY);
  const base = 'http://127.0.0.1:7071';
  const V = 'api-version=2022-10-01.16.0';
  const cases: [string, HttpMethods, string, string | undefined, Record<string, string>][] = [
    ['GET with the GET content-type', 'GET', `/pools?${V}`, undefined, { 'Content-Type': CT_GET }],
    ['GET with options (timeout, client-request-id, if-match, given ocp-date)', 'GET', `/jobs/j1?${V}&timeout=30`, undefined,
      { 'Content-Type': CT_GET, 'client-request-id': '6c2f4a1e-1111-2222-3333-444455556666', 'return-client-request-id': 'true', 'If-Match': '"0x8DC5A5A4889F164"', 'ocp-date': new Date().toUTCString() }],
    ['POST with a JSON body', 'POST', `/pools?${V}`, JSON.stringify({ id: 'p1', vmSize: 'standard_d2s_v3', targetDedicatedNodes: 1, displayName: 'é ünïcode' }),
      { 'Content-Type': 'application/json; odata=minimalmetadata; charset=utf-8' }],
    ['POST with an empty body', 'POST', `/pools/p1/stopresize?${V}`, undefined, { 'Content-Type': CT_GET }],
    ['HEAD', 'HEAD', `/pools/p1?${V}`, undefined, { 'Content-Type': CT_GET }],
    ['DELETE', 'DELETE', `/pools/p1?${V}`, undefined, { 'Content-Type': CT_GET, 'If-None-Match': '*' }],
    ['$filter / $select / maxresults', 'GET', `/pools?${V}&%24filter=state%20eq%20%27active%27&%24select=id%2Cstate&maxresults=10`, undefined, { 'Content-Type': CT_GET }],
    ['unescaped $ names, + and UTF-8 in values', 'GET', `/jobs/j1/tasks?${V}&$filter=startswith(id%2C%27a%2Bb+%C3%A9%27)&$expand=stats`, undefined, {}],
    ['repeated query key', 'GET', `/pools?${V}&x=1&x=2`, undefined, {}],
    ['encoded file path segment with ocp-range', 'GET', `/jobs/j1/tasks/t1/files/wd%2Fsub%20dir%2Fout.txt?${V}`, undefined, { 'ocp-range': 'bytes=0-4' }],
    ['encoded job id segment', 'GET', `/jobs/job%201/tasks/t%201?${V}`, undefined, {}],
  ];

  it.each(cases)('%s: accepted by authenticate()', async (_name, method, path, body, headers) => {
    const w = new WebResource(`${base}${path}`, method, body, undefined, { ...headers });
    await creds.signRequest(w);
    const wire = wireOf(w);
    expect(wire.headers.authorization).toMatch(/^SharedKey acct:/);
    expect(authenticate(wire, ACCOUNTS, new Date()).name).toBe(ACCOUNT);
  });

  it('POST with an empty body and no content-length on the wire is accepted too', async () => {
    const w = new WebResource(`${base}/jobs/j1/reactivate?${V}`, 'POST');
    await creds.signRequest(w);
    expect(authenticate(wireOf(w, false), ACCOUNTS, new Date()).name).toBe(ACCOUNT);
  });

  it('a signed request altered in transit is refused', async () => {
    const w = new WebResource(`${base}/pools?${V}&maxresults=10`, 'GET');
    await creds.signRequest(w);
    const wire = wireOf(w);
    const tampered = { ...wire, rawPathAndQuery: wire.rawPathAndQuery.replace('maxresults=10', 'maxresults=11') };
    expect(() => authenticate(tampered, ACCOUNTS, new Date())).toThrow(expect.objectContaining({ code: 'AuthenticationFailed', status: 403 }));
  });
});

describe('cross-check with a real BatchServiceClient over HTTP', () => {
  let server: Server;
  let url = '';
  const seen: { method: string; path: string; ok: boolean }[] = [];
  const outcome = (req: IncomingMessage): boolean => {
    try {
      authenticate({ method: req.method ?? '', rawPathAndQuery: req.url ?? '', headers: req.headers as Record<string, string> }, ACCOUNTS, new Date());
      return true;
    } catch {
      return false;
    }
  };
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push({ method: req.method ?? '', path: req.url ?? '', ok: outcome(req) });
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ code: 'ResourceNotFound', message: { lang: 'en-US', value: 'x' } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const calls: [string, (c: BatchServiceClient) => Promise<unknown>, string, RegExp][] = [
    ['pool.get', (c) => c.pool.get('p1'), 'GET', /^\/pools\/p1\?api-version=/],
    ['pool.list with filter/select/maxResults', (c) => c.pool.list({ poolListOptions: { filter: "state eq 'active'", select: 'id,state', maxResults: 10 } }), 'GET', /\$filter=.*maxresults=10/],
    ['job.add (POST with body)', (c) => c.job.add({ id: 'j1', poolInfo: { poolId: 'p1' }, displayName: 'ünïcode ✓' }), 'POST', /^\/jobs\?/],
    ['pool.stopResize (body-less POST)', (c) => c.pool.stopResize('p1'), 'POST', /^\/pools\/p1\/stopresize\?/],
    ['pool.exists (HEAD)', (c) => c.pool.exists('p1'), 'HEAD', /^\/pools\/p1\?/],
    ['pool.deleteMethod (DELETE)', (c) => c.pool.deleteMethod('p1'), 'DELETE', /^\/pools\/p1\?/],
    ['file.getFromTask with an encoded path and ocp-range', (c) => c.file.getFromTask('j1', 't1', 'wd/sub dir/out.txt', { fileGetFromTaskOptions: { ocpRange: 'bytes=0-4' } }), 'GET', /^\/jobs\/j1\/tasks\/t1\/files\/wd%2Fsub%20dir%2Fout\.txt\?/],
    ['job.get with client-request-id and if-match', (c) => c.job.get('j1', { jobGetOptions: { clientRequestId: '6c2f4a1e-1111-2222-3333-444455556666', returnClientRequestId: true, ifMatch: '"0x1"', timeout: 30 } }), 'GET', /timeout=30/],
  ];
  it.each(calls)('%s is signed as authenticate() expects', async (_name, call, method, path) => {
    const client = new BatchServiceClient(new BatchSharedKeyCredentials(ACCOUNT, KEY), url, { noRetryPolicy: true });
    const before = seen.length;
    await call(client).catch(() => undefined);
    expect(seen.slice(before)).toEqual([{ method, path: expect.stringMatching(path), ok: true }]);
  });

  it('a client with the wrong key is refused', async () => {
    const client = new BatchServiceClient(new BatchSharedKeyCredentials(ACCOUNT, randomBytes(64).toString('base64')), url, { noRetryPolicy: true });
    const before = seen.length;
    await client.pool.get('p1').catch(() => undefined);
    expect(seen.slice(before).map((s) => s.ok)).toEqual([false]);
  });
});

describe('authenticate: errors', () => {
  const signed = (headers: Record<string, string>, account = ACCOUNT, key = KEY): SignableRequest => {
    const req: SignableRequest = { method: 'GET', rawPathAndQuery: '/pools?api-version=2022-10-01.16.0', headers };
    return { ...req, headers: { ...headers, authorization: `SharedKey ${account}:${sign(req, account, key)}` } };
  };
  const errorOf = (req: SignableRequest, now = NOW): BatchError => {
    try {
      authenticate(req, ACCOUNTS, now);
    } catch (err) {
      if (err instanceof BatchError) return err;
      throw err;
    }
    throw new Error('expected authenticate to throw');
  };

  it('a correctly signed request returns its account', () => {
    expect(authenticate(signed({ 'ocp-date': DATE }), ACCOUNTS, NOW)).toEqual({ name: ACCOUNT, key: KEY });
    const other = ACCOUNTS[0]!;
    expect(authenticate(signed({ 'ocp-date': DATE }, other.name, other.key), ACCOUNTS, NOW).name).toBe('other');
  });

  it('missing Authorization header → AuthenticationFailed', () => {
    expect(errorOf({ method: 'GET', rawPathAndQuery: '/pools', headers: { 'ocp-date': DATE } }).code).toBe('AuthenticationFailed');
  });

  // Regression: a missing Authorization header is 403 AuthenticationFailed like every other case.
  it('missing Authorization header → HTTP 403', () => {
    expect(errorOf({ method: 'GET', rawPathAndQuery: '/pools', headers: { 'ocp-date': DATE } }).status).toBe(403);
  });

  it.each([
    'Bearer eyJ0eXAi',
    'SharedKey acct',
    'SharedKey acct:',
    'SharedKey :c2lnbmF0dXJl',
    'SharedKey acct:sig with spaces',
    'SharedKey acct:not*base64',
    'sharedkey acct:c2ln',
    'SharedKey acct c2ln',
  ])('malformed header %j → 400 InvalidAuthenticationInfo', (authorization) => {
    const e = errorOf({ method: 'GET', rawPathAndQuery: '/pools', headers: { authorization, 'ocp-date': DATE } });
    expect([e.code, e.status]).toEqual(['InvalidAuthenticationInfo', 400]);
  });

  const refused: [string, SignableRequest, Date][] = [
    ['unknown account', signed({ 'ocp-date': DATE }, 'nosuch', KEY), NOW],
    ['wrong key', signed({ 'ocp-date': DATE }, ACCOUNT, randomBytes(64).toString('base64')), NOW],
    ['signature of another length', { method: 'GET', rawPathAndQuery: '/pools', headers: { 'ocp-date': DATE, authorization: 'SharedKey acct:AAAA' } }, NOW],
    ['a signed header changed afterwards', { ...signed({ 'ocp-date': DATE, 'if-match': '"0x1"' }), headers: { ...signed({ 'ocp-date': DATE, 'if-match': '"0x1"' }).headers, 'if-match': '"0x2"' } }, NOW],
    ['no date header at all', signed({}), NOW],
    ['unparseable date', signed({ 'ocp-date': 'yesterday-ish' }), NOW],
    ['date 16 minutes in the past', signed({ 'ocp-date': DATE }), new Date(NOW.getTime() + 16 * 60_000)],
    ['date 16 minutes in the future', signed({ 'ocp-date': DATE }), new Date(NOW.getTime() - 16 * 60_000)],
  ];
  it.each(refused)('%s → 403 AuthenticationFailed', (_name, req, now) => {
    const e = errorOf(req, now);
    expect([e.code, e.status]).toEqual(['AuthenticationFailed', 403]);
    expect(e.values.map((v) => v.key)).toEqual(['AuthenticationErrorDetail']);
  });

  it.each([
    ['14 minutes behind', 14 * 60_000],
    ['14 minutes ahead', -14 * 60_000],
    ['exactly 15 minutes', 15 * 60_000],
  ])('date %s is accepted', (_name, offset) => {
    expect(authenticate(signed({ 'ocp-date': DATE }), ACCOUNTS, new Date(NOW.getTime() + offset)).name).toBe(ACCOUNT);
  });

  it('a Date header is used when ocp-date is absent, and ocp-date wins when both are present', () => {
    expect(authenticate(signed({ date: DATE }), ACCOUNTS, NOW).name).toBe(ACCOUNT);
    const stale = new Date(NOW.getTime() - 60 * 60_000).toUTCString();
    expect(authenticate(signed({ 'ocp-date': DATE, date: stale }), ACCOUNTS, NOW).name).toBe(ACCOUNT);
    expect(errorOf(signed({ 'ocp-date': stale, date: DATE })).code).toBe('AuthenticationFailed');
  });
});
