import { z } from 'zod';
import type { InvocationContext } from '@azure/functions';
import type { Registrar } from '../registrar';
import type { Runtime } from '../../shared/runtime';
import { handlePoolCommand } from '../../shared/services/lifecycle';
import { POOL_COMMANDS_QUEUE } from '../../shared/services/pools';

const poolCommand = z.object({ kind: z.enum(['resize', 'delete']), poolId: z.string().min(1).max(64), generation: z.number().int().min(0) });

/**
 * Trigger: queue `pool-commands` (PoolCommand). Calls services/lifecycle.handlePoolCommand.
 * A malformed message is logged and completed (never retried: it can never succeed).
 * Storage failures throw, so the host retries and finally moves the message to the poison queue.
 */
export function registerPoolCommandQueue(app: Registrar, rt: Runtime): void {
  app.storageQueue('poolCommands', {
    queueName: rt.storage.queueName(POOL_COMMANDS_QUEUE),
    connection: 'AzureWebJobsStorage',
    handler: async (message: unknown, context: InvocationContext) => {
      const cmd = poolCommand.safeParse(message);
      if (!cmd.success) {
        context.warn(`pool-commands: dropping malformed message: ${cmd.error.message}`);
        return;
      }
      await handlePoolCommand(rt, cmd.data);
    },
  });
}
