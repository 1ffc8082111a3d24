import { describe, expect, it } from 'vitest';
import { compareSpecificity, parseRouteTemplate, RouteTable, splitPath } from '../../infra/local/host/routes';

function table(routes: Array<[string, string[] | undefined]>): RouteTable<string> {
  const t = new RouteTable<string>();
  for (const [template, methods] of routes) t.add(template, methods, template);
  return t;
}

describe('local host routes: matching and precedence', () => {
  it('prefers literal segments over parameters, whatever the registration order', () => {
    const t = table([
      ['pools/{poolId}/{x}', ['POST']],
      ['pools/{poolId}/resize', ['POST']],
      ['{*rest}', undefined],
      ['pools/{poolId}', ['GET']],
    ]);
    expect(t.match('POST', '/pools/p1/resize')).toMatchObject({ value: 'pools/{poolId}/resize', params: { poolId: 'p1' } });
    expect(t.match('POST', '/pools/p1/stopresize')).toMatchObject({ value: 'pools/{poolId}/{x}', params: { poolId: 'p1', x: 'stopresize' } });
    expect(t.match('GET', '/pools/p1')?.value).toBe('pools/{poolId}');
    expect(t.match('DELETE', '/pools/p1')).toMatchObject({ value: '{*rest}', params: { rest: 'pools/p1' } });
  });

  it('matches literal segments case-insensitively and keeps parameter case', () => {
    const t = table([['jobs/{jobId}/tasks', ['GET']]]);
    expect(t.match('get', '/JOBS/MyJob/Tasks')).toMatchObject({ params: { jobId: 'MyJob' } });
  });

  it('filters by method and falls back to a less specific route that allows it', () => {
    const t = table([
      ['pools/{poolId}', ['GET', 'HEAD']],
      ['pools/{*rest}', ['PATCH']],
    ]);
    expect(t.match('HEAD', '/pools/p1')?.value).toBe('pools/{poolId}');
    expect(t.match('PATCH', '/pools/p1')?.value).toBe('pools/{*rest}');
    expect(t.match('POST', '/pools/p1')).toBeUndefined();
  });

  it('percent-decodes parameters, including an encoded slash in one segment', () => {
    const t = table([['jobs/{jobId}/tasks/{taskId}/files/{filePath}', ['GET']]]);
    const m = t.match('GET', '/jobs/j%201/tasks/t1/files/wd%2Fsub%20dir%2Fout.txt');
    expect(m?.params).toEqual({ jobId: 'j 1', taskId: 't1', filePath: 'wd/sub dir/out.txt' });
  });

  it('catch-all keeps the slashes and decodes; empty catch-all omits the param', () => {
    const t = table([['nodes/{nodeId}/files/{*filePath}', ['GET']]]);
    expect(t.match('GET', '/nodes/n1/files/startup/std%20out.txt')?.params).toEqual({ nodeId: 'n1', filePath: 'startup/std out.txt' });
    expect(t.match('GET', '/nodes/n1/files/a%2Fb/c')?.params.filePath).toBe('a/b/c');
    expect(t.match('GET', '/nodes/n1/files')?.params).toEqual({ nodeId: 'n1' });
    expect(table([['x/{**p}', undefined]]).match('GET', '/x/a/b')?.params).toEqual({ p: 'a/b' });
  });

  it('optional parameters and defaults', () => {
    const t = table([['certs/{thumbprint?}', undefined], ['v/{version=latest}', undefined]]);
    expect(t.match('GET', '/certs')?.params).toEqual({});
    expect(t.match('GET', '/certs/ab')?.params).toEqual({ thumbprint: 'ab' });
    expect(t.match('GET', '/v')?.params).toEqual({ version: 'latest' });
    expect(t.match('GET', '/v/2')?.params).toEqual({ version: '2' });
    expect(t.match('GET', '/certs/a/b')).toBeUndefined();
  });

  it('enforces simple constraints and ranks constrained params above plain ones', () => {
    const t = table([['items/{name}', undefined], ['items/{id:int}', undefined], ['items/{g:guid}/x', undefined]]);
    expect(t.match('GET', '/items/42')?.value).toBe('items/{id:int}');
    expect(t.match('GET', '/items/abc')?.value).toBe('items/{name}');
    expect(t.match('GET', '/items/0f8fad5b-d9cb-469f-a165-70867728950e/x')?.params.g).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(table([['r/{v:regex(^a\\d+$)}', undefined]]).match('GET', '/r/a12')?.params.v).toBe('a12');
    expect(table([['r/{v:alpha}', undefined]]).match('GET', '/r/a12')).toBeUndefined();
  });

  it('complex segments', () => {
    const t = table([['files/{name}.{ext}', undefined]]);
    expect(t.match('GET', '/files/report.final.txt')?.params).toEqual({ name: 'report', ext: 'final.txt' });
    expect(t.match('GET', '/files/noext')).toBeUndefined();
  });

  it('ignores a trailing slash, rejects extra segments and empty parameters', () => {
    const t = table([['pools/{poolId}', undefined], ['', undefined]]);
    expect(t.match('GET', '/pools/p1/')?.params).toEqual({ poolId: 'p1' });
    expect(t.match('GET', '/pools/p1/x')).toBeUndefined();
    expect(t.match('GET', '/pools//')).toBeUndefined();
    expect(t.match('GET', '/')?.value).toBe('');
  });

  it('keeps malformed percent-escapes as they are', () => {
    expect(table([['a/{b}', undefined]]).match('GET', '/a/%zz%20')?.params.b).toBe('%zz%20');
  });

  it('rejects invalid templates', () => {
    expect(() => parseRouteTemplate('a/{b')).toThrow(/unclosed/);
    expect(() => parseRouteTemplate('a/{*b}/c')).toThrow(/catch-all/);
    expect(() => parseRouteTemplate('a/{b?}/c')).toThrow(/optional/);
    expect(() => parseRouteTemplate('{a}/{A}')).toThrow(/duplicate/);
    expect(() => parseRouteTemplate('a//b')).toThrow(/empty segment/);
    expect(() => parseRouteTemplate('{a}{b}')).toThrow(/literal between/);
  });

  it('specificity order: literal < complex < constrained < param < optional < catch-all; shorter first', () => {
    const order = ['a', 'a/b', 'a/{x}.txt', 'a/{x:int}', 'a/{x}', 'a/{x?}', 'a/{*x}', '{x}'];
    const shuffled = [...order].reverse();
    shuffled.sort((p, q) => compareSpecificity(parseRouteTemplate(p), parseRouteTemplate(q)));
    expect(shuffled).toEqual(order);
    expect(splitPath('/')).toEqual([]);
    expect(splitPath('/a/b/')).toEqual(['a', 'b']);
  });
});
