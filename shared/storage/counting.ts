import type { TableServiceClientOptions } from '@azure/data-tables';

type AdditionalPolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number]['policy'];
export type StorageKind = 'table' | 'queue' | 'blob';

/**
 * Counts storage requests per kind. Tables count in the SDK pipeline (a policy sees every HTTP
 * request, pages included); queues and blobs count in the one wrapper every call goes through.
 */
export class RequestCounter {
  readonly counts: Record<StorageKind, number> = { table: 0, queue: 0, blob: 0 };
  add(kind: StorageKind, n = 1): void {
    this.counts[kind] += n;
  }
  reset(): void {
    this.counts.table = this.counts.queue = this.counts.blob = 0;
  }
  snapshot(): Record<StorageKind, number> {
    return { ...this.counts };
  }
  tablePolicy(): AdditionalPolicy {
    return {
      name: 'batchplane-count-table',
      sendRequest: (request, next) => {
        this.counts.table++;
        return next(request);
      },
    };
  }
}
