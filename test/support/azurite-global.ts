import type { TestProject } from 'vitest/node';
import { startAzurite, type RunningAzurite } from '../../infra/local/azurite';

let azurite: RunningAzurite | undefined;

/** Starts one in-memory Azurite for the whole integration run; tests read AZURITE_CONNECTION_STRING. */
export async function setup(project: TestProject): Promise<void> {
  azurite = await startAzurite();
  process.env.AZURITE_CONNECTION_STRING = azurite.connectionString;
  project.provide('azuriteConnectionString', azurite.connectionString);
}

export async function teardown(): Promise<void> {
  await azurite?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    azuriteConnectionString: string;
  }
}
