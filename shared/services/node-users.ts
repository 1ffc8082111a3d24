import { randomBytes, scryptSync } from 'node:crypto';
import { BatchError } from '../errors';
import type { NodeUser } from '../domain/model';
import type { Runtime } from '../runtime';
import { assertNodeAllows, updateNode } from './node-control';

/**
 * Node user accounts (POST …/users, PUT and DELETE …/users/{name}), kept on the node row.
 *
 * Local nodes run as processes of the machine's own user, so batchplane does NOT create real
 * operating-system accounts: the account is recorded (name, admin flag, expiry, SSH public key
 * and a scrypt hash of the password — never the password itself, and no API returns either), and
 * the operations behave as on Azure (409 NodeUserExists, 404 NodeUserNotFound, expiry). A user past
 * its expiryTime counts as gone, as on a real node where the account has expired. A reimage
 * removes every user (the OS is reinstalled); a reboot keeps them.
 */
export interface NodeUserInput {
  name: string;
  isAdmin?: boolean;
  expiryTime?: string;
  password?: string;
  sshPublicKey?: string;
}

/** Azure's default expiry: one day from now. */
const DEFAULT_EXPIRY_MS = 24 * 3600 * 1000;

const live = (rt: Runtime, users: NodeUser[] | undefined): NodeUser[] => (users ?? []).filter((u) => Date.parse(u.expiryTime) > rt.clock().getTime());
const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `${salt.toString('hex')}:${scryptSync(password, salt, 32).toString('hex')}`;
}

function record(rt: Runtime, name: string, isAdmin: boolean, input: Omit<NodeUserInput, 'name' | 'isAdmin'>): NodeUser {
  return {
    name,
    isAdmin,
    expiryTime: input.expiryTime ?? new Date(rt.clock().getTime() + DEFAULT_EXPIRY_MS).toISOString(),
    ...(input.password !== undefined ? { passwordHash: hashPassword(input.password) } : {}),
    ...(input.sshPublicKey !== undefined ? { sshPublicKey: input.sshPublicKey } : {}),
  };
}

export async function addNodeUser(rt: Runtime, poolId: string, nodeId: string, input: NodeUserInput): Promise<void> {
  await updateNode(rt, poolId, nodeId, (n) => {
    assertNodeAllows(n, 'users');
    const users = live(rt, n.users);
    if (users.some((u) => sameName(u.name, input.name))) throw new BatchError('NodeUserExists', 'The specified node user already exists.');
    return { ...n, users: [...users, record(rt, input.name, input.isAdmin ?? false, input)] };
  });
}

/** PUT replaces the account's password, SSH key and expiry: an omitted password or key is removed. */
export async function updateNodeUser(rt: Runtime, poolId: string, nodeId: string, name: string, input: Omit<NodeUserInput, 'name' | 'isAdmin'>): Promise<void> {
  await updateNode(rt, poolId, nodeId, (n) => {
    assertNodeAllows(n, 'users');
    const users = live(rt, n.users);
    const cur = users.find((u) => sameName(u.name, name));
    if (!cur) throw new BatchError('NodeUserNotFound', 'The specified node user does not exist.');
    return { ...n, users: users.map((u) => (u === cur ? record(rt, cur.name, cur.isAdmin, input) : u)) };
  });
}

export async function deleteNodeUser(rt: Runtime, poolId: string, nodeId: string, name: string): Promise<void> {
  await updateNode(rt, poolId, nodeId, (n) => {
    assertNodeAllows(n, 'users');
    const users = live(rt, n.users);
    if (!users.some((u) => sameName(u.name, name))) throw new BatchError('NodeUserNotFound', 'The specified node user does not exist.');
    return { ...n, users: users.filter((u) => !sameName(u.name, name)) };
  });
}
