import { BatchError } from '../../errors';
import { jobTaskStatusJson } from '../../domain/job-tasks';
import type { Runtime } from '../../runtime';
import { getJob } from '../../services/jobs';
import { jobTaskStatuses } from '../../services/job-tasks';
import type { ApiRequest, ApiResponse } from '../wire';
import { param } from './common';
import { listArray } from './list';

/**
 * GET /jobs/{jobId}/jobpreparationandreleasetaskstatus (Job_ListPreparationAndReleaseTaskStatus):
 * one entry per node that ran the job's preparation task, with $filter, $select and maxresults
 * like the other lists. A job without either task answers 409
 * JobPreparationTaskOrReleaseTaskNotSpecified (the recorded service error).
 */
export async function listJobTaskStatusOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const job = (await getJob(rt, param(req, 'jobId'))).value;
  const prep = job.jobPreparationTask;
  if (!prep && !job.jobReleaseTask) throw new BatchError('JobPreparationTaskOrReleaseTaskNotSpecified', 'The specified job does not have either job preparation task or job release task.');
  return listArray(req, {
    schema: 'prepReleaseStatus',
    metadata: 'Microsoft.Azure.Batch.Protocol.Entities.Container.JobPreparationAndReleaseTaskExecutionInformations',
    items: async () => (await jobTaskStatuses(rt, job.id)).map((s) => jobTaskStatusJson(req.origin, job.id, prep?.id ?? 'jobpreparation', job.jobReleaseTask?.id, s)),
    key: (i) => `${String(i.poolId)}/${String(i.nodeId)}`,
  });
}
