/**
 * The quickstart: the workflow of the Azure Batch Python and .NET tutorials, run against a local
 * batchplane with the official clients. Start the stack first (`npm start`), then:
 *
 *   npx tsx examples/quickstart.ts
 *
 * Environment (defaults match `npm start`): BATCH_URL, BATCH_ACCOUNT_NAME, BATCH_ACCOUNT_KEY,
 * STORAGE_CONNECTION_STRING.
 */
import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';
import { BlobSASPermissions, BlobServiceClient } from '@azure/storage-blob';

export interface QuickstartOptions {
  batchUrl: string;
  accountName: string;
  accountKey: string;
  storage: string;
}

export const defaults: QuickstartOptions = {
  batchUrl: process.env.BATCH_URL ?? 'http://127.0.0.1:7071',
  accountName: process.env.BATCH_ACCOUNT_NAME ?? 'batchplane',
  accountKey: process.env.BATCH_ACCOUNT_KEY ?? 'YmF0Y2hwbGFuZS1sb2NhbC1kZXZlbG9wbWVudC1hY2NvdW50LWtleS0wMDAwMDAwMA==',
  storage:
    process.env.STORAGE_CONNECTION_STRING ??
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;',
};

const texts = [
  'the quick brown fox jumps over the lazy dog the fox',
  'batch runs many tasks in parallel and batch scales',
  'to be or not to be that is the question to ask',
];

export async function runQuickstart(opts: QuickstartOptions = defaults, log: (line: string) => void = console.log): Promise<{ outputs: Record<string, string>; exitCodes: Record<string, number | undefined> }> {
  const { batchUrl, accountName, accountKey, storage } = opts;
  const suffix = Date.now().toString(36);
  const poolId = `QuickstartPool-${suffix}`;
  const jobId = `QuickstartJob-${suffix}`;

  // 1–2. Upload the input files to blob storage; each task gets a read-only SAS URL.
  const blobs = BlobServiceClient.fromConnectionString(storage);
  const container = blobs.getContainerClient(`input-${suffix}`);
  await container.createIfNotExists();
  const inputs = [];
  for (const [i, text] of texts.entries()) {
    const name = `taskdata${i + 1}.txt`;
    log(`Uploading file ${name} to container [${container.containerName}]...`);
    await container.getBlockBlobClient(name).upload(text, text.length);
    const sasUrl = await container.getBlockBlobClient(name).generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 2 * 3600_000) });
    inputs.push({ httpUrl: sasUrl, filePath: name });
  }

  // 3. The Batch client, an image from GET /supportedimages, and a pool of 2 nodes.
  const client = new BatchServiceClient(new BatchSharedKeyCredentials(accountName, accountKey), batchUrl);
  const images = await client.account.listSupportedImages();
  const image = images.find((i) => i.nodeAgentSKUId.startsWith('batch.node.ubuntu')) ?? images[0]!;
  log(`Creating pool [${poolId}]...`);
  await client.pool.add({
    id: poolId,
    vmSize: 'Standard_D2s_v3',
    virtualMachineConfiguration: { imageReference: image.imageReference, nodeAgentSKUId: image.nodeAgentSKUId },
    targetDedicatedNodes: 2,
    taskSlotsPerNode: 2,
  });

  // 4. The job.
  log(`Creating job [${jobId}]...`);
  await client.job.add({ id: jobId, poolInfo: { poolId } });

  // 5. The tasks: count the words of each input file (no shell unless asked for: bash -c).
  log(`Adding ${inputs.length} tasks to job [${jobId}]...`);
  const result = await client.task.addCollection(jobId, inputs.map((file, i) => ({
    id: `topNtask${i}`,
    commandLine: `/bin/bash -c "tr ' ' '\\n' < ${file.filePath} | sort | uniq -c | sort -rn | head -3; echo node=$AZ_BATCH_NODE_ID task=$AZ_BATCH_TASK_ID"`,
    resourceFiles: [file],
  })));
  for (const r of result.value ?? []) if (r.status !== 'success') throw new Error(`task ${r.taskId} was not added: ${r.error?.code}`);

  // 6. Wait until every task has completed.
  log('Monitoring all tasks for \'Completed\' state...');
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    const tasks = await client.task.list(jobId, { taskListOptions: { select: 'id,state' } });
    if (tasks.every((t) => t.state === 'completed')) break;
    if (Date.now() > deadline) throw new Error("Tasks did not reach 'Completed' state within the timeout");
    await new Promise((r) => setTimeout(r, 500));
  }

  // 7. Read each task's stdout.txt and stderr.txt, and check its exit code.
  const outputs: Record<string, string> = {};
  const exitCodes: Record<string, number | undefined> = {};
  for (const t of await client.task.list(jobId)) {
    const stdout = await (await client.file.getFromTask(jobId, t.id!, 'stdout.txt')).readableStreamBody!;
    const chunks: Buffer[] = [];
    for await (const c of stdout) chunks.push(Buffer.from(c as Buffer));
    outputs[t.id!] = Buffer.concat(chunks).toString();
    exitCodes[t.id!] = t.executionInfo?.exitCode;
    const stderr = await client.file.getPropertiesFromTask(jobId, t.id!, 'stderr.txt');
    log(`Task ${t.id} exit code ${t.executionInfo?.exitCode} on ${t.nodeInfo?.nodeId} (stderr: ${stderr.contentLength} bytes)\n${outputs[t.id!]}`);
  }

  // 8–9. Clean up: the job, the pool, the container.
  log('Deleting job and pool...');
  await client.job.deleteMethod(jobId);
  await client.pool.deleteMethod(poolId);
  await container.delete();
  return { outputs, exitCodes };
}

if (require.main === module) {
  runQuickstart().then(
    () => console.log('Success! All tasks completed.'),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
