/**
 * One storage error type. Every SDK call goes through `decorate`, which maps the SDKs' RestError
 * (whose `code` is often undefined for single-entity table errors) to a StorageError with the
 * HTTP status and the storage error code. Services never import @azure/* errors.
 */
export class StorageError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For table transactions: the index of the failing operation, when the service names one. */
    readonly failedIndex?: number,
  ) {
    super(message);
    this.name = 'StorageError';
  }
  get isNotFound(): boolean {
    return this.status === 404;
  }
  get isConflict(): boolean {
    return this.status === 409;
  }
  get isPreconditionFailed(): boolean {
    return this.status === 412;
  }
  get isTransient(): boolean {
    return this.status === 0 || this.status >= 500;
  }
}

interface RestLike {
  statusCode?: number;
  code?: string;
  message?: string;
  details?: { errorCode?: string };
}

export function toStorageError(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const e = (err ?? {}) as RestLike;
  const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
  const code = e.details?.errorCode ?? e.code ?? (status ? `Http${status}` : 'NetworkError');
  const message = String(e.message ?? err);
  const m = /^(\d+):/.exec(message);
  return new StorageError(status, code, message, m ? Number(m[1]) : undefined);
}

/** Awaits a storage SDK promise, turning its failure into a StorageError. */
export async function decorate<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw toStorageError(err);
  }
}
