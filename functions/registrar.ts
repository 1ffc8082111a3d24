import type { app } from '@azure/functions';

/**
 * What a registration needs from `@azure/functions`' `app`. The real Functions host gets the real
 * `app`; the local host (infra/local/host) passes a collecting registrar with the same shape.
 */
export type Registrar = Pick<typeof app, 'http' | 'storageQueue' | 'timer'>;
