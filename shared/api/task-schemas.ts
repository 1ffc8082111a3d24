import { z } from 'zod';
import { ciEnum, duration, int32 } from './validate';

/** Task request bodies beyond taskAdd: output files (OutputFile) and Task_Update (TaskUpdateParameter). */

export const taskConstraints = z.object({
  maxWallClockTime: duration(1).optional(),
  retentionTime: duration(0).optional(),
  maxTaskRetryCount: int32.min(-1).optional(),
});

const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}, 'The value is not a valid http(s) URL.');

export const outputFile = z.object({
  filePattern: z.string().min(1),
  destination: z.object({
    container: z.object({
      containerUrl: httpUrl,
      path: z.string().optional(),
      identityReference: z.object({ resourceId: z.string().optional() }).optional(),
      uploadHeaders: z.array(z.object({ name: z.string().min(1), value: z.string().optional() })).optional(),
    }),
    // Not in this api-version; refused by name (with identityReference) rather than dropped.
    autoStorage: z.record(z.string(), z.unknown()).optional(),
  }),
  uploadOptions: z.object({ uploadCondition: ciEnum(['tasksuccess', 'taskfailure', 'taskcompletion']) }),
});
export type OutputFileBody = z.infer<typeof outputFile>;

/** PUT /jobs/{jobId}/tasks/{taskId}: the constraints replace the task's (omitted = defaults). */
export const taskUpdate = z.object({ constraints: taskConstraints.optional() });
export type TaskUpdateBody = z.infer<typeof taskUpdate>;
