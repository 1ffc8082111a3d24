/**
 * The collecting registrar: the local host's stand-in for `@azure/functions`' `app`. It implements
 * `app.http`, `app.storageQueue` and `app.timer` with the library's own option types and records
 * each registration (name, kind, options) instead of handing it to a Functions runtime.
 */
import type { HttpFunctionOptions, StorageQueueFunctionOptions, TimerFunctionOptions } from '@azure/functions';
import type { Registrar } from '../../../functions/registrar';

/** One recorded registration. */
export type RegisteredFunction =
  | { kind: 'http'; name: string; options: HttpFunctionOptions }
  | { kind: 'storageQueue'; name: string; options: StorageQueueFunctionOptions }
  | { kind: 'timer'; name: string; options: TimerFunctionOptions };

const FUNCTION_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,127}$/;

/**
 * Records registrations in {@link functions} (in registration order). Function names must be valid
 * Azure Functions names and unique (case-insensitively, like the real host); otherwise it throws.
 */
export class CollectingRegistrar implements Registrar {
  /** Everything registered so far. */
  readonly functions: RegisteredFunction[] = [];

  http(name: string, options: HttpFunctionOptions): void {
    this.add({ kind: 'http', name, options });
  }

  storageQueue<T = unknown>(name: string, options: StorageQueueFunctionOptions<T>): void {
    this.add({ kind: 'storageQueue', name, options: options as unknown as StorageQueueFunctionOptions });
  }

  timer(name: string, options: TimerFunctionOptions): void {
    this.add({ kind: 'timer', name, options });
  }

  private add(fn: RegisteredFunction): void {
    if (!FUNCTION_NAME.test(fn.name)) throw new Error(`invalid function name '${fn.name}'`);
    if (typeof fn.options?.handler !== 'function') throw new Error(`function '${fn.name}' has no handler`);
    const key = fn.name.toLowerCase();
    if (this.functions.some((f) => f.name.toLowerCase() === key)) {
      throw new Error(`a function named '${fn.name}' is already registered`);
    }
    this.functions.push(fn);
  }
}
