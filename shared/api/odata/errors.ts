import { BatchError } from '../../errors';

/** Longest query-parameter value echoed back in `QueryParameterValue`. */
const ECHO_LIMIT = 8192;

/**
 * The 400 `InvalidQueryParameterValue` Batch returns for a bad `$filter`/`$select`/`$expand`.
 * `position` is 1-based (a character index into the parameter value); `Reason` repeats it.
 */
export function invalidQuery(param: string, text: string, reason: string, position?: number): BatchError {
  const where = position === undefined ? '' : ` at position ${position}`;
  const full = `Invalid ${param}${where}: ${reason}`;
  return new BatchError(
    'InvalidQueryParameterValue',
    `Value for one of the query parameters specified in the request URI is invalid. ${full}`,
    [
      { key: 'QueryParameterName', value: param },
      { key: 'QueryParameterValue', value: text.length > ECHO_LIMIT ? `${text.slice(0, ECHO_LIMIT)}…` : text },
      { key: 'Reason', value: full },
    ],
  );
}
