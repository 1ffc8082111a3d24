import { BatchError, type BatchErrorCode } from '../../shared/errors';

/** The Batch error code `fn` throws, or undefined when it returns (anything else is rethrown). */
export function codeOf(fn: () => unknown): BatchErrorCode | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof BatchError) return err.code;
    throw err;
  }
}
