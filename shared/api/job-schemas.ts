import { z } from 'zod';
import { batchId, ciEnum, duration, int32, metadataList } from './validate';

/** Job request bodies beyond Job_Add: Job_Patch, Job_Update, Job_Disable; and task exitConditions. */

/** maxParallelTasks: -1 (no limit) or at least 1. */
export const maxParallelTasks = int32.refine((n) => n === -1 || n >= 1, 'The value must be -1 or greater than 0.');

const constraints = z.object({ maxWallClockTime: duration(1).optional(), maxTaskRetryCount: int32.min(-1).optional() });
const poolInfo = z.object({ poolId: batchId.optional(), autoPoolSpecification: z.record(z.string(), z.unknown()).optional() });

const updatable = {
  priority: int32.min(-1000).max(1000).optional(),
  maxParallelTasks: maxParallelTasks.optional(),
  allowTaskPreemption: z.boolean().optional(),
  onAllTasksComplete: ciEnum(['noaction', 'terminatejob']).optional(),
  constraints: constraints.optional(),
  metadata: metadataList.optional(),
};

/** PATCH /jobs/{jobId}: only what is given changes. */
export const jobPatch = z.object({ ...updatable, poolInfo: poolInfo.optional() });
export type JobPatchBody = z.infer<typeof jobPatch>;

/** PUT /jobs/{jobId}: replaces every updatable property; poolInfo is required. */
export const jobUpdate = z.object({ ...updatable, poolInfo });
export type JobUpdateBody = z.infer<typeof jobUpdate>;

// Required enum: a string first, so an absent value is MissingRequiredProperty (ciEnum's preprocess would hide it).
export const jobDisable = z.object({ disableTasks: z.string().transform((v) => v.toLowerCase()).pipe(z.enum(['requeue', 'terminate', 'wait'])) });

const exitOptions = z.object({
  jobAction: ciEnum(['none', 'disable', 'terminate']).optional(),
  dependencyAction: ciEnum(['satisfy', 'block']).optional(),
});

export const exitConditions = z.object({
  exitCodes: z.array(z.object({ code: int32, exitOptions })).optional(),
  exitCodeRanges: z.array(z.object({ start: int32, end: int32, exitOptions }).superRefine((r, ctx) => {
    if (r.end < r.start) ctx.addIssue({ code: 'custom', path: ['end'], message: 'The end of an exit code range must not be less than its start.', input: r.end });
  })).optional(),
  preProcessingError: exitOptions.optional(),
  fileUploadError: exitOptions.optional(),
  default: exitOptions.optional(),
});
