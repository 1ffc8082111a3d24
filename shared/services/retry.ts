import { StorageError } from '../storage/errors';
import { BatchError } from '../errors';

/**
 * Read-modify-write with a bounded number of attempts on a stale ETag (412) or a create race
 * (409 on an insert the caller expects to be fresh is NOT retried: it is an answer).
 */
export async function withEtagRetry<T>(attempt: () => Promise<T>, tries = 8): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof StorageError && err.isPreconditionFailed && i < tries - 1) {
        await new Promise((r) => setTimeout(r, Math.random() * 10 * (i + 1)));
        continue;
      }
      if (err instanceof StorageError && err.isPreconditionFailed) throw new BatchError('ServerBusy', 'The server is busy; too many concurrent updates of the same resource. Retry the request.');
      throw err;
    }
  }
}
