import { BatchError } from '../../errors';
import type { Runtime } from '../../runtime';
import { addTasks, getTask } from '../../services/tasks';
import { deleteTask, terminateTask } from '../../services/task-control';
import { reactivateTask, updateTask } from '../../services/task-update';
import { taskUpdate } from '../task-schemas';
import type { TaskRecord } from '../../domain/model';
import type { Stored } from '../../storage/table';
import { checkConditions } from '../conditions';
import { batchEtag } from '../etag';
import { taskJson, taskStatsJson } from '../mappers';
import { taskAdd, taskCollection, type TaskAddBody } from '../schemas';
import { validate } from '../validate';
import { emptyResponse, jsonBody, jsonResponse, metadataUrl, resourceHeaders, type ApiRequest, type ApiResponse } from '../wire';
import { listBody, notAvailable, param } from './common';
import { listQueryOf, nextLink, type ListQuery } from '../paging';
import { applySelect, matches, type FilterExpr } from '../odata';
import { listPage, queryParts, selectOne, type QueryParts } from './list';
import { taskColumns } from './columns';

const MAX_COLLECTION_BYTES = 1024 * 1024;

export async function addTaskOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const jobId = param(req, 'jobId');
  const [r] = await addTasks(rt, jobId, [validate(taskAdd, jsonBody(req))]);
  if (!r || r.status !== 'success') throw new BatchError(r?.error?.code ?? 'TaskExists', r?.error?.message ?? 'The specified task already exists.');
  return emptyResponse(req, 201, resourceHeaders(`${req.origin}/jobs/${jobId}/tasks/${r.taskId}`, batchEtag(r.etag ?? ''), r.lastModified!, true));
}

/** addtaskcollection: ≤ 100 tasks and < 1 MB (else 413 RequestBodyTooLarge); per-task results. */
export async function addTaskCollectionOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const jobId = param(req, 'jobId');
  if (req.body.length >= MAX_COLLECTION_BYTES) throw new BatchError('RequestBodyTooLarge', 'The request body is too large and exceeds the maximum permissible limit.', [{ key: 'MaxLimit', value: String(MAX_COLLECTION_BYTES) }]);
  const { value } = validate(taskCollection, jsonBody(req));
  if (value.length > 100) throw new BatchError('RequestBodyTooLarge', 'The number of tasks in the collection exceeds the maximum of 100.', [{ key: 'MaxLimit', value: '100' }]);
  const bodies: TaskAddBody[] = value.map((v, i) => {
    try {
      return validate(taskAdd, v);
    } catch (err) {
      if (err instanceof BatchError) for (const d of err.values) if (d.key === 'PropertyName') d.value = `value[${i}].${d.value}`;
      throw err;
    }
  });
  const results = await addTasks(rt, jobId, bodies);
  return jsonResponse(req, 200, {
    'odata.metadata': metadataUrl(req, 'taskaddresult'),
    value: results.map((r) => r.status === 'success'
      ? { status: 'success', taskId: r.taskId, eTag: batchEtag(r.etag ?? ''), lastModified: r.lastModified, location: `${req.origin}/jobs/${jobId}/tasks/${r.taskId}` }
      : { status: r.status, taskId: r.taskId, error: { code: r.error!.code, message: { lang: 'en-US', value: r.error!.message } } }),
  });
}

export async function getTaskOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const t = await getTask(rt, param(req, 'jobId'), param(req, 'taskId'));
  const etag = batchEtag(t.etag);
  checkConditions(req, etag, t.value.lastModified, 'read');
  const body = await selectOne(req, 'tasks', t, (x) => taskJson(req.origin, x.value, x.etag), (x) => taskStatsJson(req.origin, x.value));
  return jsonResponse(req, 200, { 'odata.metadata': metadataUrl(req, 'tasks/@Element'), ...body }, { etag, 'last-modified': new Date(t.value.lastModified).toUTCString() });
}

export async function listTasksOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const jobId = param(req, 'jobId');
  const job = await rt.jobs.get(jobId);
  if (!job) throw new BatchError('JobNotFound', 'The specified job does not exist.');
  const q = listQueryOf(req);
  const parts = queryParts('tasks', q);
  if (parts.expr && requiresActive(parts.expr)) return listActiveTasks(req, rt, jobId, q, parts);
  return listPage(req, rt, {
    schema: 'tasks',
    columns: taskColumns(job.value.taskIdIndex),
    fetch: (f, top, cont) => rt.tasks.page(jobId, f, top, cont),
    toJson: (t) => taskJson(req.origin, t.value, t.etag),
    stats: (t) => taskStatsJson(req.origin, t.value),
    metadata: 'tasks',
  });
}

const guard = (req: ApiRequest) => (t: Stored<TaskRecord>): void => checkConditions(req, batchEtag(t.etag), t.value.lastModified, 'write');

export async function deleteTaskOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  await deleteTask(rt, param(req, 'jobId'), param(req, 'taskId'), guard(req));
  return emptyResponse(req, 200);
}

/** PUT /jobs/{jobId}/tasks/{taskId} (Task_Update): 200, no body; the constraints are replaced. */
export async function updateTaskOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const jobId = param(req, 'jobId');
  const taskId = param(req, 'taskId');
  const body = validate(taskUpdate, jsonBody(req));
  const r = await updateTask(rt, jobId, taskId, body, guard(req));
  return emptyResponse(req, 200, resourceHeaders(`${req.origin}/jobs/${jobId}/tasks/${taskId}`, batchEtag(r.etag), r.lastModified));
}

/** POST /jobs/{jobId}/tasks/{taskId}/{action} and GET …/subtasksinfo */
export async function taskActionOp(req: ApiRequest, rt: Runtime): Promise<ApiResponse> {
  const action = param(req, 'action').toLowerCase();
  if (req.method === 'POST' && action === 'terminate') {
    await terminateTask(rt, param(req, 'jobId'), param(req, 'taskId'), guard(req));
    return emptyResponse(req, 204, { dataserviceid: `${req.origin}/jobs/${param(req, 'jobId')}/tasks/${param(req, 'taskId')}` });
  }
  if (req.method === 'POST' && action === 'reactivate') {
    const url = `${req.origin}/jobs/${param(req, 'jobId')}/tasks/${param(req, 'taskId')}`;
    const r = await reactivateTask(rt, param(req, 'jobId'), param(req, 'taskId'), guard(req));
    return emptyResponse(req, 204, resourceHeaders(url, batchEtag(r.etag), r.lastModified));
  }
  if (action === 'subtasksinfo') throw notAvailable('Multi-instance subtasks');
  throw new BatchError('InvalidUri', 'The requested URI does not represent any resource on the server.');
}

/** True when every task the filter accepts is active (`state eq 'active'`, alone or AND-ed). */
function requiresActive(e: FilterExpr): boolean {
  if (e.kind === 'compare') return e.path === 'state' && e.op === 'eq' && String(e.value.value).toLowerCase() === 'active';
  if (e.kind === 'and') return requiresActive(e.left) || requiresActive(e.right);
  return false;
}

/**
 * Active tasks come from the job's queue (pending chunks), not from a scan of the partition.
 * (Statistics of an active task: zeros — a retried task's previous run is on its row, not in the queue.)
 */
async function listActiveTasks(req: ApiRequest, rt: Runtime, jobId: string, q: ListQuery, { expr, select, stats }: QueryParts): Promise<ApiResponse> {
  const page = await rt.tasks.pending(jobId, q.maxResults, q.continuation);
  const value = page.entries
    .map(({ entry, chunkEtag }) => {
      const t: TaskRecord = {
        ...entry.spec, jobId, state: 'active', stateTransitionTime: entry.activeSince, creationTime: entry.creationTime ?? entry.activeSince, lastModified: entry.activeSince,
        executionInfo: { retryCount: entry.retryCount, requeueCount: entry.requeueCount ?? 0 },
      };
      return { t, json: taskJson(req.origin, t, chunkEtag) };
    })
    .filter(({ json }) => !expr || matches(expr, json))
    .map(({ t, json }) => applySelect(stats ? { ...json, stats: taskStatsJson(req.origin, t) } : json, select));
  return jsonResponse(req, 200, listBody(metadataUrl(req, 'tasks'), value, nextLink(req, q, page.continuation)));
}
