import { HttpResponse, output, type InvocationContext, type TriggerMetadata } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalHost, type LocalHost } from '../../infra/local/host';
import { azuriteConnectionString, uniqueName } from '../support/storage';

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

async function until(cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A raw request (path sent byte-for-byte, unlike fetch which normalises it). */
function raw(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<{ res: IncomingMessage; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ res, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local host against Azurite', () => {
  const cs = azuriteConnectionString();
  const inQ = uniqueName('lhin');
  const failQ = uniqueName('lhfail');
  const outQ = uniqueName('lhout');
  const queueOut = output.storageQueue({ queueName: outQ, connection: 'MyStorage' });
  const received: Array<{ payload: unknown; md: TriggerMetadata | undefined }> = [];
  const failures: number[] = [];
  const sunk: unknown[] = [];
  const ticks: Array<{ isPastDue: boolean; scheduleStatus: { last: string; next: string; lastUpdated: string } }> = [];
  const logs: string[] = [];
  let baseline: string[] = [];
  let host: LocalHost;

  beforeAll(async () => {
    baseline = process.getActiveResourcesInfo();
    host = await startLocalHost({
      port: 0,
      hostJson: {
        version: '2.0',
        extensions: {
          http: { routePrefix: '' },
          queues: { batchSize: 8, maxPollingInterval: '00:00:01', visibilityTimeout: '00:00:00', maxDequeueCount: 3 },
        },
      },
      settings: { AzureWebJobsStorage: cs, MyStorage: cs, FailQueue: failQ },
      log: (level, m) => logs.push(`${level}: ${m}`),
      register: (app) => {
        app.http('echo', {
          route: 'echo/{a}/files/{filePath}',
          methods: ['GET', 'POST', 'HEAD'],
          handler: async (req, ctx) => {
            if (req.method === 'HEAD') return { status: 200, headers: { 'content-length': '123', 'x-h': '1' } };
            return {
              status: 201,
              headers: [['x-fn', ctx.functionName]],
              jsonBody: { params: req.params, url: req.url, body: await req.text(), q: req.query.get('x'), id: ctx.invocationId },
            };
          },
        });
        app.http('bytes', { route: 'bytes', methods: ['GET'], handler: () => new HttpResponse({ body: new Uint8Array([104, 105]) }) });
        app.http('fallback', { route: 'fallback/{*rest}', methods: ['GET', 'DELETE'], handler: (req) => ({ status: 404, body: `nothing at ${req.params.rest}` }) });
        app.http('boom', { route: 'boom', methods: ['GET'], handler: () => Promise.reject(new Error('kaboom')) });
        app.http('enqueue', {
          route: 'enqueue',
          methods: ['POST'],
          extraOutputs: [queueOut],
          handler: (_req, ctx: InvocationContext) => {
            ctx.extraOutputs.set(queueOut, [{ n: 1 }, { n: 2 }]);
            return { status: 202 };
          },
        });
        app.storageQueue('consume', { queueName: inQ, connection: 'MyStorage', handler: (payload, ctx) => void received.push({ payload, md: ctx.triggerMetadata }) });
        app.storageQueue('flaky', {
          queueName: '%FailQueue%',
          connection: 'AzureWebJobsStorage',
          handler: (_p, ctx) => {
            failures.push(Number(ctx.triggerMetadata?.dequeueCount));
            throw new Error('always fails');
          },
        });
        app.storageQueue('sink', { queueName: outQ, connection: 'MyStorage', handler: (payload) => void sunk.push(payload) });
        app.timer('tick', { schedule: '*/1 * * * * *', handler: (t) => void ticks.push(t) });
      },
    });
  });

  afterAll(async () => {
    if (process.env.LH_DEBUG) console.log(logs.join('\n'));
    await host?.close();
  });

  it('lists the functions and listens on a free port', () => {
    expect(host.port).toBeGreaterThan(0);
    expect(host.url).toBe(`http://127.0.0.1:${host.port}`);
    expect(host.functions).toEqual(['echo', 'bytes', 'fallback', 'boom', 'enqueue', 'consume', 'flaky', 'sink', 'tick']);
  });

  it('HTTP round trip: decoded params, raw url, body, headers, keep-alive', async () => {
    const path = `/echo/A%2fb/files/wd%2Fsub%20dir%2Fout.txt?x=%27q%27&$filter=a%20eq%20b`;
    const res = await fetch(`${host.url}${path}`, { method: 'POST', body: 'hello' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-fn')).toBe('echo');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('keep-alive')).toMatch(/timeout=65/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ params: { a: 'A/b', filePath: 'wd/sub dir/out.txt' }, url: `${host.url}${path}`, body: 'hello', q: "'q'" });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps the URL exactly as sent, even where a WHATWG parser would normalise it', async () => {
    const { res, body } = await raw(host.port, 'GET', "/echo/x/files/%2e%2e?f=state+eq+'a'", { host: 'MyAcct.Local:1234' });
    expect(res.statusCode).toBe(201);
    expect(JSON.parse(body)).toMatchObject({ url: "http://MyAcct.Local:1234/echo/x/files/%2e%2e?f=state+eq+'a'", params: { filePath: '..' } });
  });

  it('HEAD sends headers only and keeps the given content-length; bytes bodies; catch-all', async () => {
    const head = await raw(host.port, 'HEAD', '/echo/a/files/b');
    expect(head.res.statusCode).toBe(200);
    expect(head.res.headers['content-length']).toBe('123');
    expect(head.res.headers['x-h']).toBe('1');
    expect(head.body).toBe('');
    const bytes = await fetch(`${host.url}/bytes`);
    expect(await bytes.text()).toBe('hi');
    const fb = await fetch(`${host.url}/FALLBACK/a%2Fb/c`, { method: 'DELETE' });
    expect(fb.status).toBe(404);
    expect(await fb.text()).toBe('nothing at a/b/c');
  });

  it('no route → 404 empty; method not allowed → 404; throwing handler → 500 {}; body over 16 MB → 413', async () => {
    const none = await fetch(`${host.url}/nope/x`);
    expect([none.status, await none.text()]).toEqual([404, '']);
    const wrong = await fetch(`${host.url}/boom`, { method: 'POST' });
    expect(wrong.status).toBe(404);
    await wrong.text();
    const boom = await fetch(`${host.url}/boom`);
    expect([boom.status, await boom.text()]).toEqual([500, '{}']);
    expect(logs.some((l) => l.startsWith('error:') && l.includes('kaboom'))).toBe(true);
    const big = await raw(host.port, 'POST', '/echo/a/files/b', { 'content-length': String(16 * 1024 * 1024 + 1) });
    expect(big.res.statusCode).toBe(413);
  });

  it('queue trigger receives a base64 JSON message with trigger metadata', async () => {
    const q = new QueueClient(cs, inQ);
    await q.createIfNotExists();
    await q.sendMessage(b64({ hello: 'world' }));
    await q.sendMessage(b64('just text'));
    host.wakeQueue(inQ);
    await until(() => received.length === 2);
    const byPayload = received.find((r) => typeof r.payload === 'object')!;
    expect(byPayload.payload).toEqual({ hello: 'world' });
    expect(byPayload.md).toMatchObject({ dequeueCount: 1, popReceipt: expect.any(String), id: expect.any(String) });
    for (const k of ['insertionTime', 'expirationTime', 'nextVisibleTime']) expect(Date.parse(String(byPayload.md?.[k]))).not.toBeNaN();
    expect(received.map((r) => r.payload)).toContain('just text');
    await until(async () => (await q.peekMessages()).peekedMessageItems.length === 0);
  });

  it('retries a failing message with dequeueCount 1, 2, 3 and then moves it to <queue>-poison', async () => {
    const q = new QueueClient(cs, failQ);
    await q.createIfNotExists();
    await q.sendMessage(b64({ id: 'bad', fail: true }));
    host.wakeQueue(failQ);
    const poison = new QueueClient(cs, `${failQ}-poison`);
    await until(async () => (await poison.exists()) && (await poison.peekMessages()).peekedMessageItems.length === 1);
    expect(failures).toEqual([1, 2, 3]);
    const [msg] = (await poison.peekMessages()).peekedMessageItems;
    expect(JSON.parse(unb64(msg!.messageText))).toEqual({ id: 'bad', fail: true });
    expect((await q.peekMessages()).peekedMessageItems).toHaveLength(0);
    expect(logs.some((l) => l.includes('MaxDequeueCount of 3'))).toBe(true);
  });

  it('flushes extraOutputs (arrays = several messages) to the queue, base64-encoded', async () => {
    const res = await fetch(`${host.url}/enqueue`, { method: 'POST' });
    expect(res.status).toBe(202);
    await until(() => sunk.length === 2, 5000);
    expect(sunk).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }]));
  });

  it('fires a */1 * * * * * timer with schedule status', async () => {
    await until(() => ticks.length >= 2, 5000);
    const t = ticks[1]!;
    expect(typeof t.isPastDue).toBe('boolean');
    const [last, next] = [Date.parse(t.scheduleStatus.last), Date.parse(t.scheduleStatus.next)];
    expect([last % 1000, next % 1000]).toEqual([0, 0]);
    expect(next).toBeGreaterThan(last);
    expect(last).toBeGreaterThan(Date.parse(ticks[0]!.scheduleStatus.last));
  });

  it('close() stops everything and leaves no open handles', async () => {
    await host.close();
    await host.close(); // idempotent
    const count = (list: string[], kind: string): number => list.filter((x) => x === kind).length;
    const leaks = (): string[] =>
      ['TCPServerWrap', 'TCPSocketWrap', 'Timeout'].filter((k) => count(process.getActiveResourcesInfo(), k) > count(baseline, k));
    await until(() => leaks().length === 0, 3000).catch(() => undefined);
    expect(leaks(), process.getActiveResourcesInfo().join(',')).toEqual([]);
    const n = ticks.length;
    await new Promise((r) => setTimeout(r, 1200));
    expect(ticks.length).toBe(n);
    await expect(fetch(`${host.url}/bytes`)).rejects.toThrow();
  });
});

describe('local host startup validation', () => {
  const base = { port: 0, hostJson: {}, settings: { AzureWebJobsStorage: 'UseDevelopmentStorage=true' }, log: () => {} };

  it('rejects an invalid timer schedule, naming the function', async () => {
    await expect(startLocalHost({ ...base, register: (app) => app.timer('badTimer', { schedule: '* * *', handler: () => {} }) })).rejects.toThrow(
      /function 'badTimer'.*6 fields/,
    );
  });

  it('rejects duplicate names, bad routes and missing connections', async () => {
    const handler = (): object => ({});
    await expect(
      startLocalHost({
        ...base,
        register: (app) => {
          app.http('a', { handler });
          app.http('A', { handler });
        },
      }),
    ).rejects.toThrow(/already registered/);
    await expect(startLocalHost({ ...base, register: (app) => app.http('r', { route: 'x/{y', handler }) })).rejects.toThrow(/function 'r'.*unclosed/);
    await expect(
      startLocalHost({ ...base, register: (app) => app.storageQueue('q', { queueName: 'qq1', connection: 'NoSuchConn', handler: () => {} }) }),
    ).rejects.toThrow(/function 'q'.*NoSuchConn/);
    await expect(startLocalHost({ ...base, register: (app) => app.storageQueue('q', { queueName: 'Upper', connection: '', handler: () => {} }) })).rejects.toThrow(
      /function 'q'.*invalid queue name 'Upper'/,
    );
  });
});
