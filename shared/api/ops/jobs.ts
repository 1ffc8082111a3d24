import { BatchError } from '../../errors';
import type { JobRecord } from '../../domain/model';
import type { Runtime } from '../../runtime';
import type { Stored } from '../../storage/table';
import { deleteJob, getJob, taskCounts } from '../../services/jobs';
import { disableJob, enableJob, terminateJob, updateJobProperties } from '../../services/job-control';
import { jobDisable, jobPatch, jobUpdate } from '../job-schemas';
import { checkConditions } from '../conditions';
import { batchEtag } from '../etag';
import { jobJson, taskCountsJson } from '../mappers';
import { jobAdd, jobTerminate } from '../schemas';
import { validate } from '../validate';
import { emptyResponse, jsonBody, jsonResponse, metadataUrl, resourceHeaders, type ApiRequest, type ApiResponse } from '../wire';
import { param } from './common';
import { listPage, selectOne } from './list';
import { JOB_COLUMNS } from './columns';
import { jobStatsJson } from '../../domain/stats';
import { addTaskCollectionOp } from './tasks';
import { addJobWithManager } from '../../services/job-manager';
import { listJobTaskStatusOp } from './job-tasks';

const guard = (req: ApiRequest) => (j: Stored<JobRecord>): void => checkConditions(req, batchEtag(j.etag), j.value.lastModified, 'write');

export async function addJobOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const j = await addJobWithManager(rt, validate(jobAdd, jsonBody(req)));
  return emptyResponse(req, 201, resourceHeaders(`${req.origin}/jobs/${j.value.id}`, batchEtag(j.etag), j.value.lastModified, true));
}

export async function getJobOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const j = await getJob(rt, param(req, 'jobId'));
  const etag = batchEtag(j.etag);
  checkConditions(req, etag, j.value.lastModified, 'read');
  const body = await selectOne(req, 'jobs', j, (x) => jobJson(req.origin, x.value, x.etag), (x) => jobStats(req, rt, x.value));
  return jsonResponse(req, 200, { 'odata.metadata': metadataUrl(req, 'jobs/@Element'), ...body }, { etag, 'last-modified': new Date(j.value.lastModified).toUTCString() });
}

export async function listJobsOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  return listPage(req, rt, {
    schema: 'jobs',
    columns: JOB_COLUMNS,
    fetch: (f, top, cont) => rt.jobs.list(f, top, cont),
    toJson: (j) => jobJson(req.origin, j.value, j.etag),
    stats: (j) => jobStats(req, rt, j.value),
    metadata: 'jobs',
  });
}

/** JobStatistics from the job's counter shards: one query of at most 16 rows, whatever the job's size. */
async function jobStats(req: ApiRequest, rt: Runtime, j: JobRecord): Promise<Record<string, unknown>> {
  return jobStatsJson(`${req.origin}/jobs/${j.id}`, j.executionInfo.startTime, rt.clock().toISOString(), await rt.tasks.counts(j.id));
}

export async function deleteJobOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  await deleteJob(rt, param(req, 'jobId'), guard(req));
  return emptyResponse(req, 202);
}

/** POST /jobs/{jobId}/{action} and GET /jobs/{jobId}/{action} */
export async function jobActionOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const action = param(req, 'action').toLowerCase();
  const id = param(req, 'jobId');
  if (req.method === 'GET' && action === 'taskcounts') {
    return jsonResponse(req, 200, { 'odata.metadata': metadataUrl(req, 'Microsoft.Azure.Batch.Protocol.Entities.TaskCountsResult'), ...taskCountsJson(await taskCounts(rt, id)) });
  }
  if (req.method === 'GET' && action === 'jobpreparationandreleasetaskstatus') return listJobTaskStatusOp(req, rt);
  if (req.method === 'POST' && action === 'addtaskcollection') return addTaskCollectionOp(req, rt);
  if (req.method === 'POST' && action === 'terminate') {
    const body = req.body.toString('utf8').trim() ? validate(jobTerminate, jsonBody(req)) : {};
    return accepted(req, 'terminate', await terminateJob(rt, id, body.terminateReason ?? 'UserTerminate', guard(req)));
  }
  if (req.method === 'POST' && action === 'disable') {
    const body = validate(jobDisable, jsonBody(req));
    return accepted(req, 'disable', await disableJob(rt, id, body.disableTasks, guard(req)));
  }
  if (req.method === 'POST' && action === 'enable') return accepted(req, 'enable', await enableJob(rt, id, guard(req)));
  throw new BatchError('InvalidUri', 'The requested URI does not represent any resource on the server.');
}

/** 202 of a job action, headers as the service sends them (DataServiceId names the action). */
function accepted(req: ApiRequest, action: string, j: Stored<JobRecord>): ApiResponse {
  return emptyResponse(req, 202, resourceHeaders(`${req.origin}/jobs/${j.value.id}/${action}`, batchEtag(j.etag), j.value.lastModified));
}

/** PATCH /jobs/{jobId}: only the given properties change. */
export async function patchJobOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const j = await updateJobProperties(rt, param(req, 'jobId'), validate(jobPatch, jsonBody(req)), 'patch', guard(req));
  return emptyResponse(req, 200, resourceHeaders(`${req.origin}/jobs/${j.value.id}`, batchEtag(j.etag), j.value.lastModified));
}

/** PUT /jobs/{jobId}: every updatable property is replaced (omitted ones take their defaults). */
export async function updateJobOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const j = await updateJobProperties(rt, param(req, 'jobId'), validate(jobUpdate, jsonBody(req)), 'replace', guard(req));
  return emptyResponse(req, 200, resourceHeaders(`${req.origin}/jobs/${j.value.id}`, batchEtag(j.etag), j.value.lastModified));
}
