import { unsupportedProperty } from '../errors';
import type { ResourceFileSpec as ResourceFile } from '../nodes/protocol';

type NameValue = { name: string; value: string };

/**
 * What every node-side task that is not a plain task (start task, job preparation and release
 * tasks) shares: the command, resource files, environment and an auto user. Local nodes run no
 * containers, have no named user accounts and no managed identities: asking for one is refused by
 * name (400 UnsupportedProperty) before anything is stored.
 */
export interface LocalTaskInput {
  commandLine: string;
  resourceFiles?: (ResourceFile & { identityReference?: unknown })[];
  environmentSettings?: NameValue[];
  userIdentity?: { userName?: string; username?: string; autoUser?: { scope?: 'task' | 'pool'; elevationLevel?: 'nonadmin' | 'admin' } };
  containerSettings?: Record<string, unknown>;
}

export interface LocalTaskBasics {
  commandLine: string;
  resourceFiles?: ResourceFile[];
  environmentSettings?: NameValue[];
  userIdentity: { autoUser: { scope: 'pool' | 'task'; elevationLevel: 'nonadmin' | 'admin' } };
}

export function localTaskBasics(s: LocalTaskInput, path: string): LocalTaskBasics {
  if (s.containerSettings) throw unsupportedProperty(`${path}.containerSettings`, 'Local nodes do not run containers.');
  if (s.userIdentity?.userName !== undefined || s.userIdentity?.username !== undefined) throw unsupportedProperty(`${path}.userIdentity.username`, 'Local nodes have no named user accounts; use an autoUser.');
  if (s.resourceFiles?.some((r) => r.identityReference !== undefined)) throw unsupportedProperty(`${path}.resourceFiles.identityReference`, 'Managed identities are not available to local nodes.');
  const auto = s.userIdentity?.autoUser;
  return {
    commandLine: s.commandLine,
    ...(s.resourceFiles?.length ? { resourceFiles: s.resourceFiles.map(({ identityReference: _, ...r }) => r) } : {}),
    ...(s.environmentSettings?.length ? { environmentSettings: s.environmentSettings } : {}),
    // Azure's default on Linux nodes: a non-admin auto user unique to the pool.
    userIdentity: { autoUser: { scope: auto?.scope ?? 'pool', elevationLevel: auto?.elevationLevel ?? 'nonadmin' } },
  };
}
