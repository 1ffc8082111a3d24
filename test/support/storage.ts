import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';

/** The connection string of the run's Azurite (integration project only). */
export function azuriteConnectionString(): string {
  return inject('azuriteConnectionString');
}

/** A unique lower-case name for tables/queues of one test file. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}${randomUUID().replace(/-/g, '').slice(0, 10)}`;
}
