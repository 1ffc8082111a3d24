import type { Registrar } from '../registrar';
import type { Runtime } from '../../shared/runtime';
import { addJobOp, deleteJobOp, getJobOp, jobActionOp, listJobsOp, patchJobOp, updateJobOp } from '../../shared/api/ops/jobs';
import { addTaskOp, deleteTaskOp, getTaskOp, listTasksOp, taskActionOp, updateTaskOp } from '../../shared/api/ops/tasks';
import { deleteTaskFileOp, getTaskFileOp, listTaskFilesOp } from '../../shared/api/ops/files';
import { ALL_METHODS, batchRoute } from './adapter';

/** Job, task and task-file routes. */
export function registerJobRoutes(app: Registrar, rt: Runtime): void {
  const http = (name: string, route: string, handler: ReturnType<typeof batchRoute>): void => {
    app.http(name, { route, methods: ALL_METHODS, authLevel: 'anonymous', handler });
  };
  http('jobs', 'jobs', batchRoute(rt, { GET: listJobsOp, POST: addJobOp }));
  http('job', 'jobs/{jobId}', batchRoute(rt, { GET: getJobOp, DELETE: deleteJobOp, PATCH: patchJobOp, PUT: updateJobOp }));
  http('jobAction', 'jobs/{jobId}/{action}', batchRoute(rt, { GET: jobActionOp, POST: jobActionOp }));
  http('tasks', 'jobs/{jobId}/tasks', batchRoute(rt, { GET: listTasksOp, POST: addTaskOp }));
  http('task', 'jobs/{jobId}/tasks/{taskId}', batchRoute(rt, { GET: getTaskOp, DELETE: deleteTaskOp, PUT: updateTaskOp }));
  http('taskAction', 'jobs/{jobId}/tasks/{taskId}/{action}', batchRoute(rt, { GET: taskActionOp, POST: taskActionOp }));
  http('taskFiles', 'jobs/{jobId}/tasks/{taskId}/files', batchRoute(rt, { GET: listTaskFilesOp }));
  http('taskFile', 'jobs/{jobId}/tasks/{taskId}/files/{*filePath}', batchRoute(rt, { GET: getTaskFileOp, HEAD: getTaskFileOp, DELETE: deleteTaskFileOp }));
}
