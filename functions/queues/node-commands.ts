import { z } from 'zod';
import type { InvocationContext } from '@azure/functions';
import type { Registrar } from '../registrar';
import type { Runtime } from '../../shared/runtime';
import { handleNodeCommand, NODE_COMMANDS_QUEUE } from '../../shared/services/node-control';

const nodeCommand = z.object({ kind: z.enum(['restart', 'bootCheck']), poolId: z.string().min(1).max(64), nodeId: z.string().min(1).max(128), restartId: z.string().min(1).max(64) });

/**
 * Trigger: queue `node-commands` (NodeCommandMessage). Calls services/node-control.handleNodeCommand
 * (reboot/reimage progress). A malformed message is logged and completed (it can never succeed);
 * storage failures throw, so the host retries and finally moves the message to the poison queue.
 */
export function registerNodeCommandQueue(app: Registrar, rt: Runtime): void {
  app.storageQueue('nodeCommands', {
    queueName: rt.storage.queueName(NODE_COMMANDS_QUEUE),
    connection: 'AzureWebJobsStorage',
    handler: async (message: unknown, context: InvocationContext) => {
      const cmd = nodeCommand.safeParse(message);
      if (!cmd.success) {
        context.warn(`node-commands: dropping malformed message: ${cmd.error.message}`);
        return;
      }
      await handleNodeCommand(rt, cmd.data);
    },
  });
}
