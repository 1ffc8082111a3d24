/**
 * The one error taxonomy of batchplane. Codes are the Azure Batch REST error codes; the HTTP
 * status travels with the code. `toErrorResponse` in shared/api/ is the only place that turns
 * these into HTTP. Tests assert on `code`, never on message text.
 */
export type BatchErrorCode =
  | 'AuthenticationFailed'
  | 'InvalidAuthenticationInfo'
  | 'MissingRequiredHeader'
  | 'MissingRequiredProperty'
  | 'MissingRequiredQueryParameter'
  | 'InvalidHeaderValue'
  | 'InvalidPropertyValue'
  | 'InvalidQueryParameterValue'
  | 'OutOfRangeQueryParameterValue'
  | 'UnsupportedProperty'
  | 'UnsupportedQueryParameter'
  | 'UnsupportedRequestVersion'
  | 'InvalidRequestBody'
  | 'InvalidInput'
  | 'InvalidRange'
  | 'InvalidUri'
  | 'RequestBodyTooLarge'
  | 'UnsupportedHttpVerb'
  | 'ConditionNotMet'
  | 'ResourceNotFound'
  | 'PoolNotFound'
  | 'NodeNotFound'
  | 'JobNotFound'
  | 'TaskNotFound'
  | 'FileNotFound'
  | 'JobScheduleNotFound'
  | 'CertificateNotFound'
  | 'ApplicationNotFound'
  | 'NodeUserNotFound'
  | 'PoolExists'
  | 'JobExists'
  | 'TaskExists'
  | 'PoolBeingDeleted'
  | 'PoolBeingResized'
  | 'PoolNotResizing'
  | 'JobBeingDeleted'
  | 'JobBeingTerminated'
  | 'JobPreparationTaskOrReleaseTaskNotSpecified'
  | 'TaskIdSameAsJobPreparationTask'
  | 'TaskIdSameAsJobReleaseTask'
  | 'JobCompleted'
  | 'JobNotActive'
  | 'TaskCompleted'
  | 'TaskNotCompleted'
  | 'TaskSucceeded'
  | 'TaskFilesUnavailable'
  | 'NodeNotReady'
  | 'NodeBeingCreated'
  | 'NodeBeingStarted'
  | 'NodeBeingRebooted'
  | 'NodeBeingReimaged'
  | 'NodeStateUnusable'
  | 'NodeAlreadyInTargetSchedulingState'
  | 'NodeUserExists'
  | 'OperationNotValidOnNode'
  | 'OperationInvalidForCurrentState'
  | 'PoolQuotaReached'
  | 'ActiveJobAndScheduleQuotaReached'
  | 'InvalidAutoScalingSettings'
  | 'AutoScalingFormulaSyntaxError'
  | 'AutoScalingFormulaTooLong'
  | 'TooManyEnableAutoScaleRequests'
  | 'OperationNotSupported'
  | 'ServerBusy'
  | 'InternalError';

const STATUS: Record<BatchErrorCode, number> = {
  AuthenticationFailed: 403,
  InvalidAuthenticationInfo: 400,
  MissingRequiredHeader: 400,
  MissingRequiredProperty: 400,
  MissingRequiredQueryParameter: 400,
  InvalidHeaderValue: 400,
  InvalidPropertyValue: 400,
  InvalidQueryParameterValue: 400,
  OutOfRangeQueryParameterValue: 400,
  UnsupportedProperty: 400,
  UnsupportedQueryParameter: 400,
  UnsupportedRequestVersion: 400,
  InvalidRequestBody: 400,
  InvalidInput: 400,
  InvalidRange: 416,
  InvalidUri: 400,
  RequestBodyTooLarge: 413,
  UnsupportedHttpVerb: 405,
  ConditionNotMet: 412,
  ResourceNotFound: 404,
  PoolNotFound: 404,
  NodeNotFound: 404,
  JobNotFound: 404,
  TaskNotFound: 404,
  FileNotFound: 404,
  JobScheduleNotFound: 404,
  CertificateNotFound: 404,
  ApplicationNotFound: 404,
  NodeUserNotFound: 404,
  PoolExists: 409,
  JobExists: 409,
  TaskExists: 409,
  PoolBeingDeleted: 409,
  PoolBeingResized: 409,
  PoolNotResizing: 409,
  JobBeingDeleted: 409,
  JobBeingTerminated: 409,
  JobPreparationTaskOrReleaseTaskNotSpecified: 409,
  TaskIdSameAsJobPreparationTask: 409,
  TaskIdSameAsJobReleaseTask: 409,
  JobCompleted: 409,
  JobNotActive: 409,
  TaskCompleted: 409,
  TaskNotCompleted: 409,
  TaskSucceeded: 409,
  TaskFilesUnavailable: 409,
  NodeNotReady: 409,
  NodeBeingCreated: 409,
  NodeBeingStarted: 409,
  NodeBeingRebooted: 409,
  NodeBeingReimaged: 409,
  NodeStateUnusable: 409,
  NodeAlreadyInTargetSchedulingState: 409,
  NodeUserExists: 409,
  OperationNotValidOnNode: 409,
  OperationInvalidForCurrentState: 409,
  PoolQuotaReached: 409,
  ActiveJobAndScheduleQuotaReached: 409,
  InvalidAutoScalingSettings: 400,
  AutoScalingFormulaSyntaxError: 400,
  AutoScalingFormulaTooLong: 400,
  TooManyEnableAutoScaleRequests: 503,
  OperationNotSupported: 400,
  ServerBusy: 503,
  InternalError: 500,
};

export interface BatchErrorDetail {
  key: string;
  value: string;
}

export class BatchError extends Error {
  readonly status: number;
  constructor(
    readonly code: BatchErrorCode,
    message: string,
    readonly values: BatchErrorDetail[] = [],
    status?: number,
  ) {
    super(message);
    this.name = 'BatchError';
    this.status = status ?? STATUS[code];
  }
}

export function statusOf(code: BatchErrorCode): number {
  return STATUS[code];
}

/** Normalises anything thrown into a BatchError; unknown errors become a 500 InternalError without a stack. */
export function ensureBatchError(err: unknown): BatchError {
  if (err instanceof BatchError) return err;
  return new BatchError('InternalError', 'Server encountered an internal error. Please try again after some time.');
}

/** 400 UnsupportedProperty naming a property batchplane cannot honour, with the reason. */
export function unsupportedProperty(name: string, reason: string): BatchError {
  return new BatchError('UnsupportedProperty', 'One of the properties specified in the request body is not supported.', [{ key: 'PropertyName', value: name }, { key: 'Reason', value: reason }]);
}
