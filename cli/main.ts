import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { defaultConnectionString, streamEvents } from './events';
import { parseSince } from './format';

/** The `batchplane` command line (npm bin: bin/batchplane.js). */
export function buildProgram(env: NodeJS.ProcessEnv = process.env): Command {
  const program = new Command('batchplane').description('batchplane command line').version(version());
  program
    .command('events')
    .description('print batchplane service-log events (diagnostic logs) streamed through Event Hubs')
    .option('--connection-string <cs>', 'Event Hubs connection string with EntityPath (default: $BATCHPLANE_EVENTHUBS_CONNECTION_STRING, else the local endpoint)')
    .option('--consumer-group <name>', 'consumer group', '$Default')
    .option('-f, --follow', 'keep printing new events until interrupted', false)
    .option('--pool <id>', 'only events of this pool (pool events and tasks that ran on it)')
    .option('--job <id>', 'only task events of this job')
    .option('--since <time>', 'only events from this ISO time or this long ago (10m, 2h, 1d)', (v: string) => {
      try {
        return parseSince(v, new Date());
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
    })
    .option('--json', 'print each record as JSON (one line each)', false)
    .action(async (opts: { connectionString?: string; consumerGroup: string; follow: boolean; pool?: string; job?: string; since?: Date; json: boolean }) => {
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await streamEvents(
          { ...opts, connectionString: opts.connectionString ?? defaultConnectionString(env) },
          (line) => process.stdout.write(`${line}\n`),
          abort.signal,
          (line) => process.stderr.write(`${line}\n`),
        );
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
  return program;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`batchplane: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
