import { describe, expect, it } from 'vitest';
import { blobUrl, parseBlobList, redact } from '../../agent/resources';
import { configFromEnv } from '../../agent/config';

describe('blob listing helpers', () => {
  it('parses names (XML-decoded, Encoded="true" percent-decoded) and NextMarker', () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="http://x/" ContainerName="c">
      <Prefix>in/</Prefix><Blobs>
      <Blob><Name>in/a.txt</Name><Properties><Content-Length>3</Content-Length></Properties></Blob>
      <Blob><Name>in/b &amp; c&lt;1&gt;.txt</Name><Properties/></Blob>
      <Blob><Name Encoded="true">in/%E2%9C%93.txt</Name><Properties/></Blob>
      </Blobs><NextMarker>2!48!abc&amp;</NextMarker></EnumerationResults>`;
    expect(parseBlobList(xml)).toEqual({ names: ['in/a.txt', 'in/b & c<1>.txt', 'in/✓.txt'], nextMarker: '2!48!abc&' });
  });

  it('has no marker on the last page', () => {
    expect(parseBlobList('<EnumerationResults><Blobs /><NextMarker /></EnumerationResults>')).toEqual({ names: [] });
  });

  it('builds blob URLs keeping the SAS verbatim', () => {
    expect(blobUrl('http://h:1/acct/cont?sv=2021&sig=a%2Bb%3D', 'dir/a b#.txt')).toBe('http://h:1/acct/cont/dir/a%20b%23.txt?sv=2021&sig=a%2Bb%3D');
    expect(blobUrl('https://a.blob.core.windows.net/c/', 'x')).toBe('https://a.blob.core.windows.net/c/x');
  });

  it('never reports the SAS back', () => {
    expect(redact('http://h/c/b?sig=secret')).toBe('http://h/c/b');
  });
});

describe('agent config from the environment', () => {
  const env = {
    BATCHPLANE_CONTROL_URL: 'http://127.0.0.1:7071',
    BATCHPLANE_NODE_TOKEN: 'tok',
    BATCHPLANE_TASK_SLOTS: '4',
    AZ_BATCH_ACCOUNT_NAME: 'acct',
    AZ_BATCH_ACCOUNT_URL: 'http://127.0.0.1:7071',
    AZ_BATCH_POOL_ID: 'p',
    AZ_BATCH_NODE_ID: 'n',
    AZ_BATCH_NODE_ROOT_DIR: '/tmp/n',
  };
  it('reads AGENT_ENV', () => {
    expect(configFromEnv(env)).toEqual({
      controlUrl: 'http://127.0.0.1:7071', token: 'tok', slots: 4, accountName: 'acct', accountUrl: 'http://127.0.0.1:7071',
      poolId: 'p', nodeId: 'n', rootDir: '/tmp/n', isDedicated: true,
    });
  });
  it('names what is missing or wrong', () => {
    expect(() => configFromEnv({ ...env, BATCHPLANE_NODE_TOKEN: '', AZ_BATCH_NODE_ID: undefined })).toThrow(/BATCHPLANE_NODE_TOKEN, AZ_BATCH_NODE_ID/);
    expect(() => configFromEnv({ ...env, BATCHPLANE_TASK_SLOTS: '0' })).toThrow(/positive integer/);
  });
});
