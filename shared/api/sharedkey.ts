import { createHmac, timingSafeEqual } from 'node:crypto';
import { BatchError } from '../errors';

/**
 * Azure Batch Shared Key authentication, byte-exact with the official clients.
 *
 * StringToSign = VERB \n Content-Encoding \n Content-Language \n Content-Length \n Content-MD5 \n
 *   Content-Type \n Date \n If-Modified-Since \n If-Match \n If-None-Match \n If-Unmodified-Since \n
 *   Range \n  + every `ocp-*` header (lower-cased, sorted) as `name:value\n`
 *   + `/{account}{raw path}` + for each query key (sorted) `\n{key}:{decoded value}`.
 * Content-Length is used as received ("" when absent or "0" on a body-less GET; "0" on a POST).
 */
export interface SignableRequest {
  method: string;
  /** The raw request target (path + query) exactly as on the wire. */
  rawPathAndQuery: string;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
}

export function stringToSign(req: SignableRequest, account: string): string {
  const h = (n: string): string => req.headers[n] ?? '';
  const method = req.method.toUpperCase();
  let len = h('content-length');
  if (len === '0' || len === '') len = method === 'POST' ? '0' : '';
  const qIndex = req.rawPathAndQuery.indexOf('?');
  const rawPath = qIndex < 0 ? req.rawPathAndQuery : req.rawPathAndQuery.slice(0, qIndex);
  const params = new URLSearchParams(qIndex < 0 ? '' : req.rawPathAndQuery.slice(qIndex + 1));
  const ocp = Object.keys(req.headers)
    .filter((k) => k.startsWith('ocp-') && req.headers[k] !== '' && req.headers[k] !== undefined)
    .sort()
    .map((k) => `${k}:${req.headers[k]}\n`)
    .join('');
  const keys = [...new Set(params.keys())].sort();
  const query = keys.map((k) => `\n${k}:${params.get(k) ?? ''}`).join('');
  return (
    [method, h('content-encoding'), h('content-language'), len, h('content-md5'), h('content-type'), h('date'),
      h('if-modified-since'), h('if-match'), h('if-none-match'), h('if-unmodified-since'), h('range')].join('\n') +
    '\n' + ocp + `/${account}${rawPath}` + query
  );
}

export function sign(req: SignableRequest, account: string, base64Key: string): string {
  return createHmac('sha256', Buffer.from(base64Key, 'base64')).update(stringToSign(req, account), 'utf8').digest('base64');
}

export interface Account {
  name: string;
  key: string;
}

const MAX_SKEW_MS = 15 * 60 * 1000;

/**
 * Verifies the Authorization header; returns the account. Malformed header → 400
 * InvalidAuthenticationInfo; unknown account, bad signature or a request date more than 15
 * minutes off → 403 AuthenticationFailed.
 */
export function authenticate(req: SignableRequest, accounts: readonly Account[], now: Date): Account {
  const auth = req.headers['authorization'];
  if (!auth) throw new BatchError('AuthenticationFailed', 'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.', [{ key: 'AuthenticationErrorDetail', value: 'The Authorization header is missing.' }]);
  const m = /^SharedKey ([^:\s]+):([A-Za-z0-9+/=]+)$/.exec(auth.trim());
  if (!m) throw new BatchError('InvalidAuthenticationInfo', 'Authentication information is not given in the correct format. Check the value of Authorization header.');
  const [, name, sig] = m as unknown as [string, string, string];
  const account = accounts.find((a) => a.name === name);
  const fail = (detail: string): BatchError =>
    new BatchError('AuthenticationFailed', 'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.', [{ key: 'AuthenticationErrorDetail', value: detail }]);
  if (!account) throw fail(`The account ${name} was not found.`);
  const dateText = req.headers['ocp-date'] ?? req.headers['date'];
  if (!dateText) throw fail('The request does not carry an ocp-date or Date header.');
  const date = Date.parse(dateText);
  if (Number.isNaN(date) || Math.abs(now.getTime() - date) > MAX_SKEW_MS) throw fail('The request time is more than 15 minutes away from the server time.');
  const expected = Buffer.from(sign(req, account.name, account.key), 'base64');
  const given = Buffer.from(sig, 'base64');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw fail(`The MAC signature found in the HTTP request '${sig}' is not the same as any computed signature.`);
  }
  return account;
}
