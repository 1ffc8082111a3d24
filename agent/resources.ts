/**
 * Resource files: downloaded into the task working directory before the command line runs.
 *
 * - `httpUrl` + `filePath`: one GET with plain fetch (a blob SAS URL or any HTTP URL).
 * - `storageContainerUrl` (+ `blobPrefix`, + `filePath` as a directory): the container is listed
 *   through the Blob REST API on the SAS URL (`restype=container&comp=list&prefix=`, following
 *   NextMarker) and each blob is downloaded to `<filePath>/<blob name>` (blob names, prefix
 *   included, become relative paths).
 * - `fileMode` (octal) is applied with chmod; without it Linux files get 0770, as on Azure.
 * Every target must stay inside the working directory. A failure throws TaskFailure carrying the
 * Azure failure code; an abort (terminate, maxWallClockTime) rethrows the signal's reason.
 */
import { createWriteStream } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ResourceFileSpec } from '../shared/nodes/protocol';
import { FailureCodes, TaskFailure, userError, type FailureCode } from './failures';
import { resolveInside } from './layout';

export const DEFAULT_FILE_MODE = 0o770;
const CONTAINER_DOWNLOAD_CONCURRENCY = 4;

export interface DownloadOptions {
  workingDir: string;
  signal: AbortSignal;
  fetch?: typeof fetch;
}

export async function downloadResourceFiles(files: readonly ResourceFileSpec[], opts: DownloadOptions): Promise<void> {
  for (const spec of files) {
    opts.signal.throwIfAborted();
    const mode = parseFileMode(spec);
    if (spec.httpUrl) {
      if (!spec.filePath) throw fail(FailureCodes.ResourceFileCreateFailed, 'A resource file with httpUrl needs a filePath', spec.httpUrl);
      const dest = resolveInside(opts.workingDir, spec.filePath);
      if (!dest) throw fail(FailureCodes.ResourceFileCreateFailed, `The filePath ${JSON.stringify(spec.filePath)} is outside the task working directory`, spec.httpUrl, spec.filePath);
      await downloadFile(spec.httpUrl, dest, mode, spec.filePath, opts);
    } else if (spec.storageContainerUrl) {
      await downloadContainer(spec.storageContainerUrl, spec.blobPrefix ?? '', spec.filePath ?? '', mode, opts);
    } else {
      throw fail(
        FailureCodes.ResourceFileSourceUnsupported,
        spec.autoStorageContainerName
          ? 'autoStorageContainerName was not resolved to a container URL by the service'
          : 'The resource file has neither httpUrl nor storageContainerUrl',
      );
    }
  }
}

function parseFileMode(spec: ResourceFileSpec): number {
  if (spec.fileMode === undefined || spec.fileMode === '') return DEFAULT_FILE_MODE;
  if (!/^[0-7]{3,4}$/.test(spec.fileMode)) {
    throw fail(FailureCodes.ResourceFileCreateFailed, `The fileMode ${JSON.stringify(spec.fileMode)} is not an octal file mode`);
  }
  return parseInt(spec.fileMode, 8);
}

async function downloadContainer(containerUrl: string, prefix: string, dir: string, mode: number, opts: DownloadOptions): Promise<void> {
  const names = await listBlobs(containerUrl, prefix, opts);
  const targets = names.map((name) => {
    const rel = dir === '' ? name : `${dir}/${name}`;
    const dest = resolveInside(opts.workingDir, rel);
    if (!dest) throw fail(FailureCodes.ResourceFileCreateFailed, `The blob ${JSON.stringify(name)} would be written outside the task working directory`, redact(containerUrl), rel);
    return { url: blobUrl(containerUrl, name), dest, rel };
  });
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < targets.length) {
      const t = targets[next++] as (typeof targets)[number];
      try {
        await downloadFile(t.url, t.dest, mode, t.rel, opts);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONTAINER_DOWNLOAD_CONCURRENCY, targets.length) }, worker));
}

/** `<container>/<blob>?<sas>`, keeping the SAS query verbatim and encoding each name segment. */
export function blobUrl(containerUrl: string, blobName: string): string {
  const q = containerUrl.indexOf('?');
  const base = (q < 0 ? containerUrl : containerUrl.slice(0, q)).replace(/\/+$/, '');
  const query = q < 0 ? '' : containerUrl.slice(q);
  return `${base}/${blobName.split('/').map(encodeURIComponent).join('/')}${query}`;
}

function listUrl(containerUrl: string, prefix: string, marker: string | undefined): string {
  const q = containerUrl.indexOf('?');
  const base = q < 0 ? containerUrl : containerUrl.slice(0, q);
  const sas = q < 0 ? '' : containerUrl.slice(q + 1);
  let url = `${base}?${sas}${sas ? '&' : ''}restype=container&comp=list`;
  if (prefix) url += `&prefix=${encodeURIComponent(prefix)}`;
  if (marker) url += `&marker=${encodeURIComponent(marker)}`;
  return url;
}

export async function listBlobs(containerUrl: string, prefix: string, opts: DownloadOptions): Promise<string[]> {
  const doFetch = opts.fetch ?? fetch;
  const names: string[] = [];
  let marker: string | undefined;
  do {
    let res: Response;
    let body: string;
    try {
      res = await doFetch(listUrl(containerUrl, prefix, marker), { signal: opts.signal });
      body = await res.text();
    } catch (err) {
      opts.signal.throwIfAborted();
      throw fail(FailureCodes.ResourceContainerListMiscError, `Listing the container failed: ${describe(err)}`, redact(containerUrl));
    }
    if (!res.ok) {
      const code =
        res.status === 404
          ? FailureCodes.ResourceContainerNotFound
          : res.status === 401 || res.status === 403
            ? FailureCodes.ResourceContainerAccessDenied
            : FailureCodes.ResourceContainerListMiscError;
      throw fail(code, `Listing the container returned HTTP ${res.status}`, redact(containerUrl));
    }
    const page = parseBlobList(body);
    for (const name of page.names) if (!name.endsWith('/')) names.push(name);
    marker = page.nextMarker;
  } while (marker);
  return names;
}

/** Minimal parser of a List Blobs response: blob names and NextMarker. */
export function parseBlobList(xml: string): { names: string[]; nextMarker?: string } {
  const names: string[] = [];
  const blobRe = /<Blob>\s*<Name(\s[^>]*)?>([\s\S]*?)<\/Name>/g;
  for (let m = blobRe.exec(xml); m; m = blobRe.exec(xml)) {
    const encoded = /Encoded\s*=\s*"true"/i.test(m[1] ?? '');
    const text = decodeXml(m[2] ?? '');
    names.push(encoded ? decodeURIComponent(text) : text);
  }
  const next = /<NextMarker>([\s\S]*?)<\/NextMarker>/.exec(xml)?.[1];
  return next ? { names, nextMarker: decodeXml(next) } : { names };
}

function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#[0-9]+);/g, (_all, e: string) => {
    switch (e) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
      default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

async function downloadFile(url: string, dest: string, mode: number, filePath: string, opts: DownloadOptions): Promise<void> {
  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, { signal: opts.signal });
  } catch (err) {
    opts.signal.throwIfAborted();
    throw fail(networkCode(err), `Downloading the resource file failed: ${describe(err)}`, redact(url), filePath);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    const code =
      res.status === 404 ? FailureCodes.BlobNotFound
        : res.status === 401 || res.status === 403 ? FailureCodes.BlobAccessDenied
          : FailureCodes.BlobDownloadMiscError;
    throw fail(code, `Downloading the resource file returned HTTP ${res.status}`, redact(url), filePath);
  }
  try {
    await mkdir(path.dirname(dest), { recursive: true });
  } catch (err) {
    await res.body.cancel().catch(() => undefined);
    throw fail(FailureCodes.ResourceFileCreateFailed, `Creating the directory failed: ${describe(err)}`, redact(url), filePath);
  }
  const out = createWriteStream(dest);
  let writeError: unknown;
  out.once('error', (err) => (writeError = err));
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), out, { signal: opts.signal });
  } catch (err) {
    opts.signal.throwIfAborted();
    if (writeError) throw fail(FailureCodes.ResourceFileCreateFailed, `Writing the file failed: ${describe(writeError)}`, redact(url), filePath);
    throw fail(networkCode(err), `Downloading the resource file failed: ${describe(err)}`, redact(url), filePath);
  }
  try {
    await chmod(dest, mode);
  } catch (err) {
    throw fail(FailureCodes.ResourceFileCreateFailed, `Setting the file mode failed: ${describe(err)}`, redact(url), filePath);
  }
}

function networkCode(err: unknown): FailureCode {
  const text = `${describe(err)} ${describe((err as { cause?: unknown })?.cause)}`;
  return /TIMEOUT|timed? ?out/i.test(text) ? FailureCodes.BlobDownloadTimedOut : FailureCodes.BlobDownloadMiscError;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return err === undefined ? '' : String(err);
}

/** The URL without its query (never report a SAS token back to the service). */
export function redact(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function fail(code: FailureCode, message: string, url?: string, filePath?: string): TaskFailure {
  const details: Record<string, string> = {};
  if (filePath !== undefined) details.FilePath = filePath;
  if (url !== undefined) details.ResourceFileSource = url;
  return new TaskFailure(userError(code, message, Object.keys(details).length ? details : undefined));
}
