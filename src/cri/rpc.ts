// The one wrapper every RPC goes through: logging, metrics, cancellation, and the mapping from
// nodelet's error kinds to gRPC status codes (the only place that knows those codes). Handlers are
// plain async functions that read top to bottom as the happy path.
import * as grpc from '@grpc/grpc-js';
import { ErrorKind, isDiskFull, messageOf, NodeletError } from '../common/errors';
import type { Logger } from '../common/log';

export interface CallContext {
  /** Aborted when the client cancels or its deadline passes. */
  signal: AbortSignal;
  log: Logger;
}

/** Sends the items of a server-streaming RPC. */
export interface StreamSink<T> {
  write(item: T): Promise<void>;
}

type UnaryImpl<Req, Res> = (req: Req, ctx: CallContext) => Promise<Res>;
type StreamImpl<Req, Res> = (req: Req, sink: StreamSink<Res>, ctx: CallContext) => Promise<void>;

/** The shape of a service's implementation, derived from the generated grpc-js handler types. */
export type ServiceImpl<H> = {
  // The generated handler types carry a string index signature; only the named methods count.
  [K in keyof H as string extends K ? never : K]?: H[K] extends grpc.handleUnaryCall<infer Req, infer Res>
    ? UnaryImpl<Req, Res>
    : H[K] extends grpc.handleServerStreamingCall<infer Req, infer Res>
      ? StreamImpl<Req, Res>
      : never;
};

export interface RpcObserver {
  started(method: string): void;
  finished(method: string, code: string, seconds: number): void;
}

const CODE_OF: Record<ErrorKind, grpc.status> = {
  InvalidArgument: grpc.status.INVALID_ARGUMENT,
  NotFound: grpc.status.NOT_FOUND,
  AlreadyExists: grpc.status.ALREADY_EXISTS,
  FailedPrecondition: grpc.status.FAILED_PRECONDITION,
  ResourceExhausted: grpc.status.RESOURCE_EXHAUSTED,
  Unavailable: grpc.status.UNAVAILABLE,
  Unimplemented: grpc.status.UNIMPLEMENTED,
  DeadlineExceeded: grpc.status.DEADLINE_EXCEEDED,
  Cancelled: grpc.status.CANCELLED,
  Internal: grpc.status.INTERNAL,
};

export function toServiceError(err: unknown): Partial<grpc.ServiceError> & { code: grpc.status } {
  // A full disk is RESOURCE_EXHAUSTED whatever wrapped it on the way (kubelet backs off, as for containerd).
  if (isDiskFull(err)) return { code: grpc.status.RESOURCE_EXHAUSTED, details: messageOf(err) };
  if (err instanceof NodeletError) return { code: CODE_OF[err.kind], details: err.message };
  const details = err instanceof Error ? err.message : String(err);
  return { code: grpc.status.UNKNOWN, details };
}

export interface BindOptions {
  service: string;
  log: Logger;
  observer?: RpcObserver;
  /** Aborted when the server stops: server-streaming calls (which never end by themselves) end
   * then with UNAVAILABLE instead of holding the shutdown until its grace runs out. */
  closing?: AbortSignal;
}

/**
 * Builds the grpc-js handlers of one service: methods with an implementation are wrapped, the
 * others answer UNIMPLEMENTED with their name, so nothing ever pretends to succeed.
 */
export function bindService<H>(
  definition: grpc.ServiceDefinition,
  impl: ServiceImpl<H>,
  options: BindOptions,
): grpc.UntypedServiceImplementation {
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const [method, def] of Object.entries(definition)) {
    const fn = (impl as Record<string, unknown>)[method] as
      UnaryImpl<unknown, unknown> | StreamImpl<unknown, unknown> | undefined;
    const run = fn ?? notBuilt(options.service, method);
    handlers[method] = def.responseStream
      ? streamHandler(method, run as StreamImpl<unknown, unknown>, options)
      : unaryHandler(method, run as UnaryImpl<unknown, unknown>, options);
  }
  return handlers;
}

function notBuilt(service: string, method: string): () => Promise<never> {
  return async () => {
    throw new NodeletError('Unimplemented', `${service}/${method} is not implemented by nodelet yet`);
  };
}

/**
 * The context of one call. Most calls never look at their signal or their logger, so both are made
 * on first use: an AbortController, its deadline timer and a logger child cost more than a status
 * call's own work. grpc-js says 'cancelled' at the end of every call, even one answered: once the
 * call is released that is no cancellation, and no error is built for it.
 */
function contextFor(
  call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
  method: string,
  log: Logger,
  closing?: AbortSignal,
): CallContext & { release(): void } {
  let controller: AbortController | undefined;
  let reason: NodeletError | undefined;
  let timer: NodeJS.Timeout | undefined;
  let childLog: Logger | undefined;
  let released = false;
  const abort = (why: () => NodeletError) => {
    if (released || reason) return;
    reason = why();
    if (timer) clearTimeout(timer);
    controller?.abort(reason);
  };
  // Stays on the call (which ends with it): after release it does nothing.
  call.on('cancelled', () => abort(() => new NodeletError('Cancelled', `${method} was cancelled`)));
  const onClosing = () =>
    abort(() => new NodeletError('Unavailable', `${method} ended: the server is shutting down`));
  if (closing?.aborted) onClosing();
  else closing?.addEventListener('abort', onClosing, { once: true });
  return {
    get signal(): AbortSignal {
      if (controller) return controller.signal;
      controller = new AbortController();
      if (reason) {
        controller.abort(reason);
        return controller.signal;
      }
      const deadline = call.getDeadline();
      const ms = deadline instanceof Date ? deadline.getTime() - Date.now() : Number(deadline) - Date.now();
      if (Number.isFinite(ms) && !released) {
        timer = setTimeout(
          () => abort(() => new NodeletError('DeadlineExceeded', `${method} passed its deadline`)),
          Math.max(0, ms),
        );
        timer.unref();
      }
      return controller.signal;
    },
    get log(): Logger {
      childLog ??= log.child({ rpc: method });
      return childLog;
    },
    release: () => {
      released = true;
      if (timer) clearTimeout(timer);
      closing?.removeEventListener('abort', onClosing);
    },
  };
}

function finish(method: string, started: bigint, code: grpc.status, err: unknown, options: BindOptions) {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  options.observer?.finished(method, grpc.status[code], seconds);
  if (code === grpc.status.OK) {
    options.log.debug({ rpc: method, seconds }, 'rpc done');
  } else if (code === grpc.status.UNKNOWN || code === grpc.status.INTERNAL) {
    options.log.error({ rpc: method, seconds, err }, 'rpc failed');
  } else {
    options.log.debug({ rpc: method, seconds, code: grpc.status[code], err: String(err) }, 'rpc refused');
  }
}

function unaryHandler(method: string, fn: UnaryImpl<unknown, unknown>, options: BindOptions) {
  return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    const started = process.hrtime.bigint();
    options.observer?.started(method);
    const ctx = contextFor(call, method, options.log);
    fn(call.request, ctx).then(
      (response) => {
        ctx.release();
        finish(method, started, grpc.status.OK, undefined, options);
        callback(null, response);
      },
      (err: unknown) => {
        ctx.release();
        const serviceError = toServiceError(err);
        finish(method, started, serviceError.code, err, options);
        callback(serviceError);
      },
    );
  };
}

function streamHandler(method: string, fn: StreamImpl<unknown, unknown>, options: BindOptions) {
  return (call: grpc.ServerWritableStream<unknown, unknown>) => {
    const started = process.hrtime.bigint();
    options.observer?.started(method);
    const sink: StreamSink<unknown> = {
      write: (item) =>
        new Promise<void>((resolve) => {
          // Back-pressure: wait for the stream to drain rather than buffer without bound.
          if (call.write(item)) resolve();
          else call.once('drain', () => resolve());
        }),
    };
    const ctx = contextFor(call, method, options.log, options.closing);
    fn(call.request, sink, ctx).then(
      () => {
        ctx.release();
        finish(method, started, grpc.status.OK, undefined, options);
        call.end();
      },
      (err: unknown) => {
        ctx.release();
        const serviceError = toServiceError(err);
        finish(method, started, serviceError.code, err, options);
        call.emit('error', serviceError);
      },
    );
  };
}
