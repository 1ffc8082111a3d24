import { z } from 'zod';
import { startTask } from './schemas';
import { ciEnum, duration, metadataList } from './validate';

/**
 * Request bodies of the pool update operations (api-version 2022-10-01.16.0): PATCH /pools/{id}
 * (PoolPatchParameter), POST updateproperties (PoolUpdatePropertiesParameter) and POST removenodes
 * (NodeRemoveParameter).
 */
const references = z.array(z.record(z.string(), z.unknown()));
const communicationMode = ciEnum(['default', 'classic', 'simplified']);

/** PATCH: every property optional; only the ones given change. */
export const poolPatch = z.object({
  startTask: startTask.optional(),
  certificateReferences: references.optional(),
  applicationPackageReferences: references.optional(),
  metadata: metadataList.optional(),
  targetNodeCommunicationMode: communicationMode.optional(),
});
export type PoolPatchBody = z.infer<typeof poolPatch>;

/** updateproperties: replace semantics; the three lists are required (an empty list clears). */
export const poolUpdateProperties = z.object({
  startTask: startTask.optional(),
  certificateReferences: references,
  applicationPackageReferences: references,
  metadata: metadataList,
  targetNodeCommunicationMode: communicationMode.optional(),
});
export type PoolUpdatePropertiesBody = z.infer<typeof poolUpdateProperties>;

/** removenodes: 1..100 node ids (the count limit is checked by the operation: 413 above 100). */
export const nodeRemove = z.object({
  nodeList: z.array(z.string().min(1)).min(1, 'The node list must contain at least one node id.'),
  resizeTimeout: duration(300).optional(),
  nodeDeallocationOption: ciEnum(['requeue', 'terminate', 'taskcompletion', 'retaineddata']).optional(),
});
export type NodeRemoveBody = z.infer<typeof nodeRemove>;
