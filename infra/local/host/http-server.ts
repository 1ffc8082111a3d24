/**
 * HTTP triggers on node:http. Each request is routed through a {@link RouteTable} (no match → 404
 * with an empty body), its body is read (up to 16 MB, else 413 without invoking), and the handler
 * gets a real `HttpRequest` whose `url` is the raw URL as received on the wire
 * (`http://<host header><raw path+query>`, percent-encoding untouched, since Shared Key signatures
 * cover the raw path) and whose `params` are the percent-decoded route values. The handler's
 * `HttpResponseInit` / `HttpResponse` is written back (status default 200, undefined → 204, HEAD →
 * headers only); a throwing handler gives 500 `{}`. Keep-alive is on (65 s); close() destroys sockets.
 */
import { HttpRequest, HttpResponse, type Cookie, type HttpResponseInit } from '@azure/functions';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorText, type LogFn } from './invocation';
import type { RouteTable } from './routes';

/** Largest request body read (bytes). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Invokes the function behind a matched route. */
export type HttpInvoke<T> = (route: T, request: HttpRequest) => Promise<unknown>;

export interface HttpServerOptions<T> {
  host: string;
  port: number;
  routes: RouteTable<T>;
  invoke: HttpInvoke<T>;
  log: LogFn;
}

export interface RunningHttpServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large' | 'aborted'> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (c: Buffer): void => {
      total += c.length;
      if (total > MAX_BODY_BYTES) {
        req.off('data', onData);
        req.pause();
        resolve('too-large');
      } else {
        chunks.push(c);
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('close', () => resolve('aborted')); // no-op once settled
    req.once('error', reject);
  });
}

/** Serialises a response cookie as a Set-Cookie value. */
export function serializeCookie(c: Cookie): string {
  let s = `${c.name}=${c.value}`;
  if (c.domain) s += `; Domain=${c.domain}`;
  if (c.path) s += `; Path=${c.path}`;
  if (c.expires !== undefined) s += `; Expires=${new Date(c.expires).toUTCString()}`;
  if (c.maxAge !== undefined) s += `; Max-Age=${c.maxAge}`;
  if (c.secure) s += '; Secure';
  if (c.httpOnly) s += '; HttpOnly';
  if (c.sameSite) s += `; SameSite=${c.sameSite}`;
  return s;
}

/** Writes a handler result (HttpResponseInit, HttpResponse or undefined) to the node response. */
export async function writeResult(method: string, result: unknown, res: ServerResponse): Promise<void> {
  if (result !== undefined && result !== null && typeof result !== 'object') {
    throw new Error('the HTTP response must be an object (HttpResponseInit or HttpResponse)');
  }
  const response = result instanceof HttpResponse ? result : new HttpResponse((result as HttpResponseInit | null) ?? { status: 204 });
  const body = Buffer.from(await response.arrayBuffer());
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie' && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  const cookies = [...response.headers.getSetCookie(), ...response.cookies.map(serializeCookie)];
  if (cookies.length) headers['set-cookie'] = cookies;
  const status = response.status;
  const noBody = method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
  if (method !== 'HEAD') {
    if (noBody) delete headers['content-length'];
    else headers['content-length'] = String(body.length);
  } else if (headers['content-length'] === undefined && body.length > 0) {
    headers['content-length'] = String(body.length);
  }
  res.writeHead(status, headers);
  res.end(noBody ? undefined : body);
}

function sendEmpty(res: ServerResponse, status: number, extra: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-length': '0', ...extra });
  res.end();
}

async function handle<T>(o: HttpServerOptions<T>, port: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const target = req.url ?? '/';
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(target); // absolute-form request target
  const rawPathQuery = absolute ? target.slice(absolute[0].length) || '/' : target;
  const q = rawPathQuery.indexOf('?');
  const rawPath = q < 0 ? rawPathQuery : rawPathQuery.slice(0, q);
  const match = o.routes.match(method, rawPath);
  if (!match) return sendEmpty(res, 404);

  const body = await readBody(req);
  if (body === 'too-large') return sendEmpty(res, 413, { connection: 'close' });
  if (body === 'aborted') return;

  const hostHeader = req.headers.host || `${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  const rawUrl = absolute ? target : `http://${hostHeader}${rawPathQuery}`;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  let request: HttpRequest;
  try {
    const withBody = body.length > 0 && method !== 'GET' && method !== 'HEAD';
    request = new HttpRequest({ method, url: rawUrl, headers, params: match.params, ...(withBody ? { body: { bytes: body } } : {}) });
  } catch (e) {
    o.log('warn', `bad request ${method} ${target}: ${errorText(e)}`);
    return sendEmpty(res, 400);
  }
  // The WHATWG URL parser behind HttpRequest normalises (dot segments, host case, quotes in the
  // query); keep the URL exactly as received so signatures over the raw path verify.
  if (request.url !== rawUrl) Object.defineProperty(request, 'url', { value: rawUrl, enumerable: true });

  let result: unknown;
  try {
    result = await o.invoke(match.value, request);
  } catch {
    return sendError(res); // invoke() has logged it
  }
  try {
    await writeResult(method, result, res);
  } catch (e) {
    o.log('error', `${method} ${target}: cannot send the handler's response: ${errorText(e)}`);
    sendError(res);
  }
}

function sendError(res: ServerResponse): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'content-length': '2' });
  res.end('{}');
}

/** Starts the HTTP listener; resolves once it is listening. */
export async function startHttpServer<T>(o: HttpServerOptions<T>): Promise<RunningHttpServer> {
  let port = o.port;
  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(o, port, req, res).catch((e: unknown) => {
      o.log('error', `${req.method} ${req.url}: ${errorText(e)}`);
      if (!res.writableEnded) sendError(res);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => o.log('error', `HTTP server: ${errorText(e)}`));
  port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
