/**
 * Scenario 5's clients, in a process of their own so that the host process serves requests and
 * does nothing else: `clients` official clients cycle through get-task, list-tasks (filter
 * `state eq 'completed'`, maxResults 100, first page) and taskcounts for `seconds`.
 * argv[2] is JSON ApiJob; prints JSON ApiResult.
 */
import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import { now, taskId, workerMain } from './support';

export interface ApiJob {
  url: string;
  accountName: string;
  accountKey: string;
  jobId: string;
  /** Tasks are `${prefix}000000` … of this count. */
  prefix: string;
  tasks: number;
  clients: number;
  seconds: number;
}

export const OPS = ['get-task', 'list-tasks', 'taskcounts'] as const;
export type Op = (typeof OPS)[number];

export interface ApiResult {
  elapsedMs: number;
  latencies: Record<Op, number[]>;
  errors: Record<Op, number>;
  firstError?: string;
}

async function run(job: ApiJob): Promise<ApiResult> {
  const latencies: Record<Op, number[]> = { 'get-task': [], 'list-tasks': [], taskcounts: [] };
  const errors: Record<Op, number> = { 'get-task': 0, 'list-tasks': 0, taskcounts: 0 };
  let firstError: string | undefined;
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const call = async (c: BatchServiceClient, op: Op): Promise<void> => {
    if (op === 'get-task') await c.task.get(job.jobId, taskId(job.prefix, Math.floor(rand() * job.tasks)));
    else if (op === 'list-tasks') {
      const page = await c.task.list(job.jobId, { taskListOptions: { filter: "state eq 'completed'", maxResults: 100 } });
      if (page.length === 0) throw new Error('empty page');
    } else await c.job.getTaskCounts(job.jobId);
  };
  const clients = Array.from({ length: job.clients }, () => new BatchServiceClient(new BatchSharedKeyCredentials(job.accountName, job.accountKey), job.url, { noRetryPolicy: true }));
  await Promise.all(clients.map((c, i) => call(c, OPS[i % 3]!).catch(() => undefined))); // warm-up
  const t0 = now();
  const end = t0 + job.seconds * 1000;
  await Promise.all(
    clients.map(async (c, i) => {
      for (let k = i; now() < end; k++) {
        const op = OPS[k % 3]!;
        const a = now();
        try {
          await call(c, op);
          latencies[op].push(Math.round((now() - a) * 10) / 10);
        } catch (err) {
          errors[op]++;
          firstError ??= `${op}: ${(err as Error).message}`;
        }
      }
    }),
  );
  return { elapsedMs: now() - t0, latencies, errors, firstError };
}

workerMain(module, run);
