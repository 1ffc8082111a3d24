/**
 * Scenario 6's adding client, in a process of its own so that the host process's memory is the
 * host's and not also the client's: one official client adds `count` `/bin/true` tasks with
 * addtaskcollection (`perCall` per call, `inFlight` calls at once) and reports the rate of each
 * tenth. Progress lines go to stderr. argv[2] is JSON AddJob; prints JSON AddResult.
 */
import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import { addTrueTasks, now, round, workerMain } from './support';

export interface AddJob {
  url: string;
  accountName: string;
  accountKey: string;
  jobId: string;
  count: number;
  prefix: string;
}

export interface AddResult {
  elapsedMs: number;
  /** tasks/s of each tenth of the adds, in order. */
  tenths: number[];
  /** Peak RSS of this client process. */
  clientRssMb: number;
}

async function run(job: AddJob): Promise<AddResult> {
  const client = new BatchServiceClient(new BatchSharedKeyCredentials(job.accountName, job.accountKey), job.url, { noRetryPolicy: true });
  const tenth = job.count / 10;
  const tenths: number[] = [];
  let peak = process.memoryUsage().rss;
  const t0 = now();
  let lastAt = t0;
  await addTrueTasks(client, job.jobId, job.count, job.prefix, (calls) => {
    peak = Math.max(peak, process.memoryUsage().rss);
    if ((calls * 100) % tenth !== 0) return;
    const t = now();
    tenths.push(round((tenth * 1000) / (t - lastAt)));
    process.stderr.write(`  scale: ${calls * 100} added, ${tenths.at(-1)} tasks/s over the last ${tenth}\n`);
    lastAt = t;
  });
  return { elapsedMs: now() - t0, tenths, clientRssMb: round(peak / (1024 * 1024)) };
}

workerMain(module, run);
