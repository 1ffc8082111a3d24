/**
 * One function invocation, trigger-independent: builds a real `InvocationContext` (function name,
 * uuid invocation id, trigger metadata, binding options, `ctx.log` routed to the host's log), runs
 * the handler, flushes output bindings after success, and logs the outcome like the Functions host
 * ("Executed 'name' (Succeeded|Failed, Id=…, Duration=…ms)").
 */
import { InvocationContext, type FunctionOutput, type FunctionTrigger, type LogLevel, type TriggerMetadata } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { format } from 'node:util';

/** The host's log sink. */
export type LogFn = (level: 'info' | 'warn' | 'error', message: string) => void;

/** What an invocation of one function needs to know about its bindings. */
export interface FunctionSpec {
  functionName: string;
  trigger: FunctionTrigger;
  extraOutputs: FunctionOutput[];
  returnBinding?: FunctionOutput;
}

/** Flushes output bindings set during an invocation (see QueueIo.flushOutputs). */
export type FlushOutputs = (ctx: InvocationContext, spec: FunctionSpec, result: unknown) => Promise<void>;

const LEVELS: Record<LogLevel, 'info' | 'warn' | 'error' | undefined> = {
  trace: 'info',
  debug: 'info',
  information: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'error',
  none: undefined,
};

/** Stack (or string form) of a thrown value, for logs. */
export function errorText(e: unknown): string {
  return e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : format('%o', e);
}

/** A fresh `InvocationContext` whose `log`/`warn`/`error`/… go to `log` prefixed with the function name. */
export function createContext(spec: FunctionSpec, log: LogFn, triggerMetadata?: TriggerMetadata): InvocationContext {
  return new InvocationContext({
    functionName: spec.functionName,
    invocationId: randomUUID(),
    triggerMetadata,
    options: { trigger: spec.trigger, extraOutputs: spec.extraOutputs, extraInputs: [], return: spec.returnBinding },
    logHandler: (level, ...args) => {
      const mapped = LEVELS[level];
      if (mapped) log(mapped, `[${spec.functionName}] ${format(...args)}`);
    },
  });
}

/**
 * Runs `call` with a new context, then flushes outputs. Resolves with the handler's result; rejects
 * (after logging) when the handler or the output flush fails.
 */
export async function invokeFunction(
  spec: FunctionSpec,
  deps: { log: LogFn; flush: FlushOutputs },
  triggerMetadata: TriggerMetadata | undefined,
  call: (ctx: InvocationContext) => unknown,
): Promise<unknown> {
  const ctx = createContext(spec, deps.log, triggerMetadata);
  const started = performance.now();
  const took = (): string => `Duration=${Math.round(performance.now() - started)}ms`;
  try {
    const result = await call(ctx);
    await deps.flush(ctx, spec, result);
    deps.log('info', `Executed '${spec.functionName}' (Succeeded, Id=${ctx.invocationId}, ${took()})`);
    return result;
  } catch (e) {
    deps.log('error', `Executed '${spec.functionName}' (Failed, Id=${ctx.invocationId}, ${took()}): ${errorText(e)}`);
    throw e;
  }
}
