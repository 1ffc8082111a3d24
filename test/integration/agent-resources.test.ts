import { BlobSASPermissions, BlobServiceClient, ContainerSASPermissions, type ContainerClient } from '@azure/storage-blob';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeEnvironment } from '../../agent/environment';
import { TaskFailure } from '../../agent/failures';
import { nodeLayout } from '../../agent/layout';
import { silentLogger } from '../../agent/log';
import { downloadResourceFiles } from '../../agent/resources';
import { runTask } from '../../agent/runner';
import type { ResourceFileSpec } from '../../shared/nodes/protocol';
import { azuriteConnectionString, uniqueName } from '../support/storage';

const root = mkdtempSync(path.join(tmpdir(), 'agent-res-'));
let container: ContainerClient;
let readListSas: string;
const expiresOn = new Date(Date.now() + 3600_000);

const blobSas = (name: string): Promise<string> =>
  container.getBlobClient(name).generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn });

beforeAll(async () => {
  const service = BlobServiceClient.fromConnectionString(azuriteConnectionString());
  container = service.getContainerClient(uniqueName('agent'));
  await container.create();
  const files: Record<string, string> = {
    'app/run.sh': '#!/bin/sh\necho from-script\n',
    'in/a.txt': 'alpha',
    'in/sub/b.txt': 'bravo',
    'in/c d&e.txt': 'charlie',
    'other/x.txt': 'x-ray',
  };
  for (let i = 0; i < 5; i++) files[`many/f${i}.txt`] = `file ${i}`;
  for (const [name, body] of Object.entries(files)) await container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
  readListSas = await container.generateSasUrl({ permissions: ContainerSASPermissions.parse('rl'), expiresOn });
});
afterAll(async () => {
  await container?.deleteIfExists();
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
function wd(): string {
  return path.join(root, `wd${++n}`);
}
async function download(files: ResourceFileSpec[], workingDir = wd(), fetchImpl?: typeof fetch): Promise<string> {
  await downloadResourceFiles(files, { workingDir, signal: new AbortController().signal, fetch: fetchImpl });
  return workingDir;
}
async function failureOf(files: ResourceFileSpec[]): Promise<TaskFailure['info']> {
  try {
    await download(files);
  } catch (err) {
    if (err instanceof TaskFailure) return err.info;
    throw err;
  }
  throw new Error('expected a failure');
}
const read = (dir: string, rel: string): string => readFileSync(path.join(dir, rel), 'utf8');
const mode = (dir: string, rel: string): number => statSync(path.join(dir, rel)).mode & 0o777;

describe('resource files from Azurite blob storage', () => {
  it('downloads an httpUrl (blob SAS) to filePath, with fileMode or the 0770 default', async () => {
    const dir = await download([
      { httpUrl: await blobSas('app/run.sh'), filePath: 'bin/run.sh', fileMode: '0755' },
      { httpUrl: await blobSas('in/a.txt'), filePath: 'a.txt' },
    ]);
    expect(read(dir, 'bin/run.sh')).toBe('#!/bin/sh\necho from-script\n');
    expect(mode(dir, 'bin/run.sh')).toBe(0o755);
    expect(read(dir, 'a.txt')).toBe('alpha');
    expect(mode(dir, 'a.txt')).toBe(0o770);
  });

  it('downloads a container by prefix, keeping blob names as relative paths under filePath', async () => {
    const dir = await download([{ storageContainerUrl: readListSas, blobPrefix: 'in/', filePath: 'data' }]);
    expect(read(dir, 'data/in/a.txt')).toBe('alpha');
    expect(read(dir, 'data/in/sub/b.txt')).toBe('bravo');
    expect(read(dir, 'data/in/c d&e.txt')).toBe('charlie');
    expect(() => read(dir, 'data/other/x.txt')).toThrow();
  });

  it('follows NextMarker across list pages', async () => {
    const pages: string[] = [];
    const smallPages: typeof fetch = (input, init) => {
      let url = String(input);
      if (url.includes('comp=list')) {
        url += '&maxresults=2';
        pages.push(url);
      }
      return fetch(url, init);
    };
    const dir = await download([{ storageContainerUrl: readListSas, blobPrefix: 'many/' }], wd(), smallPages);
    for (let i = 0; i < 5; i++) expect(read(dir, `many/f${i}.txt`)).toBe(`file ${i}`);
    expect(pages.length).toBe(3);
  });

  it('maps storage errors to Azure failure codes', async () => {
    expect(await failureOf([{ httpUrl: await blobSas('in/missing.txt'), filePath: 'm.txt' }])).toMatchObject({ category: 'usererror', code: 'BlobNotFound' });
    const tampered = (await blobSas('in/a.txt')).replace(/sig=[^&]+/, 'sig=AAAA');
    const denied = await failureOf([{ httpUrl: tampered, filePath: 'a.txt' }]);
    expect(denied).toMatchObject({ code: 'BlobAccessDenied' });
    expect(JSON.stringify(denied)).not.toContain('sig=');
    const readOnly = await container.generateSasUrl({ permissions: ContainerSASPermissions.parse('r'), expiresOn });
    expect(await failureOf([{ storageContainerUrl: readOnly }])).toMatchObject({ code: 'ResourceContainerAccessDenied' });
    const missing = await BlobServiceClient.fromConnectionString(azuriteConnectionString())
      .getContainerClient(uniqueName('nosuch'))
      .generateSasUrl({ permissions: ContainerSASPermissions.parse('rl'), expiresOn });
    expect(await failureOf([{ storageContainerUrl: missing }])).toMatchObject({ code: 'ResourceContainerNotFound' });
    expect(await failureOf([{ httpUrl: 'http://127.0.0.1:1/x', filePath: 'x' }])).toMatchObject({ code: 'BlobDownloadMiscError' });
  });

  it('rejects targets outside the working directory and invalid specs', async () => {
    const url = await blobSas('in/a.txt');
    expect(await failureOf([{ httpUrl: url, filePath: '../escape.txt' }])).toMatchObject({ code: 'ResourceFileCreateFailed', details: [{ name: 'FilePath', value: '../escape.txt' }, expect.anything()] });
    expect(await failureOf([{ httpUrl: url, filePath: '/etc/x' }])).toMatchObject({ code: 'ResourceFileCreateFailed' });
    expect(await failureOf([{ httpUrl: url }])).toMatchObject({ code: 'ResourceFileCreateFailed' });
    expect(await failureOf([{ httpUrl: url, filePath: 'a', fileMode: 'rwx' }])).toMatchObject({ code: 'ResourceFileCreateFailed' });
    expect(await failureOf([{ autoStorageContainerName: 'c' }])).toMatchObject({ code: 'ResourceFileSourceUnsupported' });
  });

  it('downloads before the command line runs; a failed download never starts the process', async () => {
    const ctx = {
      identity: { accountName: 'a', accountUrl: 'u', poolId: 'p', nodeId: 'n', isDedicated: true },
      node: nodeLayout(root),
      baseEnv: nodeEnvironment(),
      log: silentLogger,
    };
    const ok = await runTask(
      {
        jobId: 'j', taskId: 'ok', claim: 'c', retryCount: 0, requiredSlots: 1, environment: {},
        commandLine: `/bin/bash -c 'cat in/a.txt; ./bin/run.sh'`,
        resourceFiles: [{ storageContainerUrl: readListSas, blobPrefix: 'in/a' }, { httpUrl: await blobSas('app/run.sh'), filePath: 'bin/run.sh', fileMode: '0700' }],
      },
      ctx,
    ).done;
    expect(ok).toMatchObject({ result: 'success', exitCode: 0 });
    expect(readFileSync(path.join(root, 'workitems/j/job-1/ok/stdout.txt'), 'utf8')).toBe('alphafrom-script\n');

    const bad = await runTask(
      {
        jobId: 'j', taskId: 'bad', claim: 'c', retryCount: 0, requiredSlots: 1, environment: {},
        commandLine: `/bin/bash -c 'echo ran > ran.txt'`,
        resourceFiles: [{ httpUrl: await blobSas('nope.txt'), filePath: 'nope.txt' }],
      },
      ctx,
    ).done;
    expect(bad).toMatchObject({ result: 'failure', failureInfo: { category: 'usererror', code: 'BlobNotFound' } });
    expect(bad.exitCode).toBeUndefined();
    expect(() => readFileSync(path.join(root, 'workitems/j/job-1/bad/wd/ran.txt'))).toThrow();
  });
});
