/**
 * Task output files (outputFiles), uploaded by the agent after the task process exits, as Azure
 * Batch documents them:
 *
 * - uploadCondition: tasksuccess (exit code 0), taskfailure (nonzero), taskcompletion (any exit).
 * - filePattern: relative to the task working directory (`../stdout.txt` is the task's stdout),
 *   or absolute; `$VAR` / `${VAR}` are expanded from the task environment first (so
 *   `$AZ_BATCH_TASK_DIR/stdout.txt` works). Wildcards: `*` and `?` within a name, `**` any number
 *   of directories (zero included), `[abc]`, `[a-c]`, `[!abc]`; a wildcard does not match a name
 *   starting with '.' unless the pattern's segment starts with '.' itself. Only '/' separates.
 * - destination.container.path: without wildcards it is the blob name (default: the file name);
 *   with wildcards it is a virtual directory prefixed to each match's path relative to the
 *   pattern's fixed leading directories (default: the container root).
 * - uploadHeaders: the Put Blob headers (x-ms-blob-content-type…, Content-*, Cache-Control,
 *   x-ms-meta-*, x-ms-access-tier); any other header is reported in fileuploaderr.txt and not sent.
 * - A pattern that matches nothing uploads nothing (not an error; noted in fileuploaderr.txt).
 *   Any failed upload fails the task with {usererror, FileUploadMiscError}.
 * Progress goes to fileuploadout.txt and problems to fileuploaderr.txt in the task directory.
 */
import { appendFile, lstat, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
// Types only: the blob client is loaded when a task has files to upload (it is ~25 MB of the
// agent's RSS otherwise, and every spawn forks that memory: agent/runner.ts).
import type { BlobHTTPHeaders, BlockBlobUploadOptions, ContainerClient } from '@azure/storage-blob';
import type { OutputFileUpload } from '../shared/nodes/protocol';
import { FailureCodes, TaskFailure, userError } from './failures';

export const UPLOAD_OUT_FILE = 'fileuploadout.txt';
export const UPLOAD_ERR_FILE = 'fileuploaderr.txt';

export interface UploadContext {
  taskDir: string;
  workingDir: string;
  /** The task's environment (for $VAR expansion). */
  env: Readonly<Record<string, string>>;
  /** Exit code of the task process. */
  exitCode: number;
  /** Upload attempts per blob (default 3). */
  maxTries?: number;
}

export function conditionMet(condition: OutputFileUpload['uploadCondition'], exitCode: number): boolean {
  if (condition === 'taskcompletion') return true;
  return condition === 'tasksuccess' ? exitCode === 0 : exitCode !== 0;
}

/** `$NAME` and `${NAME}` from `env`; unknown variables are left as written. */
export function expandVariables(pattern: string, env: Readonly<Record<string, string>>): string {
  return pattern.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? all);
}

const WILDCARD = /[*?[]/;

/** The fixed leading directory of a pattern and the wildcard remainder (undefined remainder = an exact file). */
export function splitPattern(absPattern: string): { base: string; rest?: string } {
  if (!WILDCARD.test(absPattern)) return { base: absPattern };
  const segs = absPattern.split('/');
  const first = segs.findIndex((s) => WILDCARD.test(s));
  return { base: segs.slice(0, first).join('/') || '/', rest: segs.slice(first).join('/') };
}

/** One pattern segment (no '/') → a regex source. */
function segmentRegex(seg: string): string {
  let out = '';
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i]!;
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = seg.slice(i + 1, end);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^/' : ''}${body.replace(/[\\\]^]/g, (c) => `\\${c}`)}]`;
      i = end;
    } else out += ch.replace(/[.+^${}()|\\]/g, (c) => `\\${c}`);
  }
  return out;
}

/** The matcher of a wildcard remainder, applied to a '/'-separated path relative to the base. */
export function globMatcher(rest: string): (relative: string) => boolean {
  const segs = rest.split('/').filter((s) => s !== '');
  let src = '';
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (seg === '**') {
      src += last ? '(?:(?!\\.)[^/]*(?:/(?!\\.)[^/]*)*)' : '(?:(?!\\.)[^/]*/)*';
      return;
    }
    src += (seg.startsWith('.') ? '' : '(?!\\.)') + segmentRegex(seg) + (last ? '' : '/');
  });
  const re = new RegExp(`^${src}$`);
  return (relative) => re.test(relative);
}

/** Blob name of one matched file. */
export function blobNameOf(destPath: string | undefined, exact: boolean, relative: string): string {
  if (exact) return destPath && destPath !== '' ? destPath : path.posix.basename(relative);
  const prefix = (destPath ?? '').replace(/\/+$/, '');
  return prefix ? `${prefix}/${relative}` : relative;
}

/** Files under `base` (relative '/'-paths); symbolic links to files are followed, to directories not. */
async function walk(base: string, rel = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(rel ? path.join(base, rel) : base, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(base, r)));
    else if (e.isFile()) out.push(r);
    else if (e.isSymbolicLink() && (await stat(path.join(base, r)).then((s) => s.isFile(), () => false))) out.push(r);
  }
  return out;
}

export interface PlannedUpload {
  file: string;
  blobName: string;
}

/** The files one outputFiles entry uploads. */
export async function planUploads(f: OutputFileUpload, ctx: Pick<UploadContext, 'workingDir' | 'env'>): Promise<PlannedUpload[]> {
  const expanded = expandVariables(f.filePattern, ctx.env);
  const abs = path.posix.normalize(path.isAbsolute(expanded) ? expanded : `${ctx.workingDir}/${expanded}`);
  const { base, rest } = splitPattern(abs);
  if (rest === undefined) {
    const isFile = await lstat(base).then(() => stat(base).then((s) => s.isFile()), () => false);
    return isFile ? [{ file: base, blobName: blobNameOf(f.path, true, base) }] : [];
  }
  const match = globMatcher(rest);
  return (await walk(base)).filter(match).sort().map((rel) => ({ file: path.join(base, rel), blobName: blobNameOf(f.path, false, rel) }));
}

const HEADER_FIELDS: Record<string, keyof BlobHTTPHeaders> = {
  'x-ms-blob-content-type': 'blobContentType',
  'content-type': 'blobContentType',
  'x-ms-blob-content-encoding': 'blobContentEncoding',
  'content-encoding': 'blobContentEncoding',
  'x-ms-blob-content-language': 'blobContentLanguage',
  'content-language': 'blobContentLanguage',
  'x-ms-blob-content-disposition': 'blobContentDisposition',
  'content-disposition': 'blobContentDisposition',
  'x-ms-blob-cache-control': 'blobCacheControl',
  'cache-control': 'blobCacheControl',
};

/** uploadHeaders → upload options; names it cannot send are returned in `ignored`. */
export function uploadOptionsOf(headers: OutputFileUpload['uploadHeaders']): { options: BlockBlobUploadOptions; ignored: string[] } {
  const http: BlobHTTPHeaders = {};
  const metadata: Record<string, string> = {};
  const options: BlockBlobUploadOptions = {};
  const ignored: string[] = [];
  for (const { name, value = '' } of headers ?? []) {
    const n = name.toLowerCase();
    const field = HEADER_FIELDS[n];
    if (field === 'blobContentType' || field === 'blobContentEncoding' || field === 'blobContentLanguage' || field === 'blobContentDisposition' || field === 'blobCacheControl') http[field] = value;
    else if (n === 'x-ms-blob-content-md5') http.blobContentMD5 = new Uint8Array(Buffer.from(value, 'base64'));
    else if (n.startsWith('x-ms-meta-') && n.length > 10) metadata[name.slice(10)] = value;
    else if (n === 'x-ms-access-tier') options.tier = value;
    else ignored.push(name);
  }
  if (Object.keys(http).length) options.blobHTTPHeaders = http;
  if (Object.keys(metadata).length) options.metadata = metadata;
  return { options, ignored };
}

/**
 * Uploads the output files whose condition the exit code meets. Throws TaskFailure
 * {usererror, FileUploadMiscError} naming the first file that could not be uploaded (the other
 * uploads are still attempted).
 */
export async function uploadOutputFiles(files: readonly OutputFileUpload[], ctx: UploadContext): Promise<void> {
  const out = (line: string): Promise<void> => appendFile(path.join(ctx.taskDir, UPLOAD_OUT_FILE), `${new Date().toISOString()} ${line}\n`).catch(() => undefined);
  const err = (line: string): Promise<void> => appendFile(path.join(ctx.taskDir, UPLOAD_ERR_FILE), `${new Date().toISOString()} ${line}\n`).catch(() => undefined);
  let first: TaskFailure | undefined;
  const due = files.filter((f) => conditionMet(f.uploadCondition, ctx.exitCode));
  if (due.length === 0) return;
  const { AnonymousCredential, ContainerClient, newPipeline } = await import('@azure/storage-blob');
  for (const f of due) {
    let container: ContainerClient;
    try {
      container = new ContainerClient(f.containerUrl, newPipeline(new AnonymousCredential(), { retryOptions: { maxTries: ctx.maxTries ?? 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 } }));
    } catch (e) {
      await err(`${f.filePattern}: invalid container URL: ${String(e)}`);
      first ??= failure(`The container URL of the output file pattern ${f.filePattern} is not valid.`, f.filePattern);
      continue;
    }
    const { options, ignored } = uploadOptionsOf(f.uploadHeaders);
    if (ignored.length) await err(`${f.filePattern}: upload headers not sent: ${ignored.join(', ')}`);
    const planned = await planUploads(f, ctx);
    if (planned.length === 0) await err(`${f.filePattern}: no file matched`);
    for (const p of planned) {
      try {
        await container.getBlockBlobClient(p.blobName).uploadFile(p.file, options);
        await out(`uploaded ${p.file} to ${container.url.split('?')[0]}/${p.blobName}`);
      } catch (e) {
        const status = (e as { statusCode?: number }).statusCode;
        await err(`${p.file}: upload to ${p.blobName} failed${status ? ` (HTTP ${status})` : ''}: ${(e as Error).message ?? String(e)}`);
        first ??= failure(`Uploading ${p.file} to ${p.blobName} failed${status ? ` (HTTP ${status})` : ''}.`, f.filePattern, p.blobName, status);
      }
    }
  }
  if (first) throw first;
}

function failure(message: string, filePattern: string, blobName?: string, status?: number): TaskFailure {
  return new TaskFailure(userError(FailureCodes.FileUploadMiscError, message, {
    FilePattern: filePattern,
    ...(blobName ? { BlobName: blobName } : {}),
    ...(status ? { HttpStatusCode: String(status) } : {}),
  }));
}
