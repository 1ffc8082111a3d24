/**
 * The local Azure Functions host (a stand-in for Core Tools, which cannot be installed here).
 * {@link startLocalHost} collects the app's registrations through a registrar with the shape of
 * `@azure/functions`' `app`, validates them against host.json, then serves HTTP triggers on
 * node:http, polls storage queues for queue triggers, and runs timer triggers — calling the very
 * same handlers with real `HttpRequest` / `InvocationContext` objects.
 */
import type { FunctionOutput, FunctionTrigger, HttpHandler } from '@azure/functions';
import type { Registrar } from '../../../functions/registrar';
import { parseHostJson, type HostConfig } from './host-json';
import { startHttpServer } from './http-server';
import { invokeFunction, type FunctionSpec, type LogFn } from './invocation';
import { QueueIo, validateQueueName } from './queue-io';
import { QueuePoller } from './queue-trigger';
import { CollectingRegistrar, type RegisteredFunction } from './registrar';
import { RouteTable } from './routes';
import { parseSchedule, TimerRunner } from './timer-trigger';

export { CollectingRegistrar, type RegisteredFunction } from './registrar';

/** Options of {@link startLocalHost}. */
export interface LocalHostOptions {
  /** TCP port for HTTP triggers; 0 picks a free port. */
  port: number;
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string;
  /** Parsed host.json. `extensions.http.routePrefix` and `extensions.queues` are validated and honoured. */
  hostJson: unknown;
  /** Called once with the collecting registrar; register every function here. */
  register: (app: Registrar) => void;
  /** App settings (like local.settings.json Values): connection names resolve here, then in process.env. */
  settings?: Record<string, string>;
  /** Log sink for host and function logs. Default: console. */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** A running local host. */
export interface LocalHost {
  /** The port HTTP triggers listen on. */
  port: number;
  /** Base URL, e.g. `http://127.0.0.1:7071` (the route prefix is not included). */
  url: string;
  /** Names of all registered functions, in registration order. */
  functions: string[];
  /** Polls the queue-trigger pollers of `queueName` now, resetting their idle back-off. */
  wakeQueue(queueName: string): void;
  /** Stops HTTP (destroying open sockets), pollers and timers; waits up to 10 s for running handlers. */
  close(): Promise<void>;
}

const defaultLog: LogFn = (level, message) => {
  const line = `[local-host] ${message}`;
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
};

interface HttpRoute {
  spec: FunctionSpec;
  handler: HttpHandler;
}

function specOf(fn: RegisteredFunction, trigger: FunctionTrigger, returnBinding?: FunctionOutput): FunctionSpec {
  return { functionName: fn.name, trigger, extraOutputs: fn.options.extraOutputs ?? [], returnBinding };
}

/**
 * Starts the local Functions host: calls `opts.register` with a collecting registrar, validates every
 * registration (route templates, timer schedules, queue connections; errors name the function),
 * starts the HTTP listener, the queue pollers and the timers.
 *
 * @returns the running host; rejects when host.json or a registration is invalid.
 */
export async function startLocalHost(opts: LocalHostOptions): Promise<LocalHost> {
  const log = opts.log ?? defaultLog;
  const config: HostConfig = parseHostJson(opts.hostJson);
  const registrar = new CollectingRegistrar();
  opts.register(registrar);

  const pollersByQueue = new Map<string, QueuePoller[]>();
  const wakeQueue = (queueName: string): void => pollersByQueue.get(queueName.toLowerCase())?.forEach((p) => p.wake());
  const io = new QueueIo(opts.settings ?? {}, config.queues.messageEncoding, wakeQueue);
  const deps = { log, flush: io.flushOutputs.bind(io) };
  const routes = new RouteTable<HttpRoute>();
  const pollers: QueuePoller[] = [];
  const timers: TimerRunner[] = [];
  const summary: string[] = [];

  for (const fn of registrar.functions) {
    try {
      for (const o of fn.options.extraOutputs ?? []) {
        if (o.type === 'queue') {
          io.connectionString(String(o.connection ?? '') || undefined);
          validateQueueName(io.expand(String(o.queueName)));
        } else {
          log('warn', `[${fn.name}] extra output of type '${o.type}' is ignored by the local host`);
        }
      }
      if (fn.options.extraInputs?.length) log('warn', `[${fn.name}] extra inputs are not supported by the local host`);
      if (fn.kind === 'http') {
        const o = fn.options;
        const route = String(o.trigger?.route ?? o.route ?? fn.name).replace(/^\/+/, '');
        const methods = (o.trigger?.methods ?? o.methods ?? ['GET', 'POST']).map((m) => m.toUpperCase());
        const trigger = o.trigger ?? { type: 'httpTrigger', name: 'httpTrigger', authLevel: o.authLevel ?? 'anonymous', methods, route };
        const template = config.routePrefix ? `${config.routePrefix}/${route}` : route;
        routes.add(template, methods, { spec: specOf(fn, trigger, o.return ?? { type: 'http', name: '$return' }), handler: o.handler });
        summary.push(`${fn.name}: [${methods.join(',')}] /${template}`);
      } else if (fn.kind === 'storageQueue') {
        const o = fn.options;
        const queueName = validateQueueName(io.expand(String(o.trigger?.queueName ?? o.queueName)));
        const connection = String(o.trigger?.connection ?? o.connection ?? '') || undefined;
        const client = io.client(connection, queueName);
        const spec = specOf(fn, o.trigger ?? { type: 'queueTrigger', name: 'queueTrigger', queueName, connection: connection ?? '' }, o.return);
        const poller = new QueuePoller({
          functionName: fn.name,
          queueName,
          client,
          poisonClient: io.client(connection, `${queueName}-poison`),
          ensure: (c) => io.ensure(c),
          config: config.queues,
          log,
          invoke: (payload, metadata) => invokeFunction(spec, deps, metadata, (ctx) => o.handler(payload, ctx)),
        });
        pollers.push(poller);
        const key = queueName.toLowerCase();
        pollersByQueue.set(key, [...(pollersByQueue.get(key) ?? []), poller]);
        summary.push(`${fn.name}: queueTrigger '${queueName}'`);
      } else {
        const o = fn.options;
        const expression = io.expand(String(o.trigger?.schedule ?? o.schedule));
        const schedule = parseSchedule(expression);
        const runOnStartup = Boolean(o.trigger?.runOnStartup ?? o.runOnStartup);
        const spec = specOf(fn, o.trigger ?? { type: 'timerTrigger', name: 'timerTrigger', schedule: expression, runOnStartup }, o.return);
        timers.push(
          new TimerRunner({
            functionName: fn.name,
            schedule,
            runOnStartup,
            log,
            invoke: (timer) => invokeFunction(spec, deps, undefined, (ctx) => o.handler(timer, ctx)),
          }),
        );
        summary.push(`${fn.name}: timerTrigger '${expression}'`);
      }
    } catch (e) {
      throw new Error(`function '${fn.name}': ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  const host = opts.host ?? '127.0.0.1';
  const http = await startHttpServer<HttpRoute>({
    host,
    port: opts.port,
    routes,
    log,
    invoke: (route, request) => invokeFunction(route.spec, deps, undefined, (ctx) => route.handler(request, ctx)),
  });

  // Create trigger queues up front; a failure is only logged (the poller retries with back-off).
  await Promise.all(pollers.map((p) => p.ensureQueue()));
  pollers.forEach((p) => p.start());
  timers.forEach((t) => t.start());

  const url = `http://${host.includes(':') ? `[${host}]` : host}:${http.port}`;
  log('info', `local host listening on ${url}\n  ${summary.join('\n  ')}`);
  let closing: Promise<void> | undefined;
  return {
    port: http.port,
    url,
    functions: registrar.functions.map((f) => f.name),
    wakeQueue,
    close: () =>
      (closing ??= Promise.all([http.close(), ...pollers.map((p) => p.stop()), ...timers.map((t) => t.stop())]).then(() => {
        log('info', 'local host stopped');
      })),
  };
}
