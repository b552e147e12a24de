// The monitor protocol's messages as zod schemas, checked once where a line is read: the monitor
// parses each request (a wrong field is answered InvalidArgument naming it), the daemon parses each
// response envelope and exit event, and each result against the schema of the op it answers.
import { z } from 'zod';
import { invalidArgument, NodeletError, unimplemented, type ErrorKind } from '../common/errors';
import { issuesText } from '../common/schema';
import { containerSpecSchema } from '../runtime/spec/schema';
import type { Op, Request, RequestMessage, Results, ServerMessage } from './protocol';

const id = z.string().min(1);
const empty = z.object({});

const paramsSchemas = {
  create: z.object({
    id,
    spec: containerSpecSchema,
    logPath: z.string(),
    stdin: z.boolean().optional(),
    stdinOnce: z.boolean().optional(),
    tty: z.boolean().optional(),
    restore: z
      .object({ criu: z.string().min(1), imagesDir: z.string().min(1), workDir: z.string().min(1) })
      .optional(),
  }),
  start: z.object({ id }),
  signal: z.object({ id, signal: z.number().int().min(1).max(64) }),
  status: z.object({ id }),
  list: empty,
  reopenLog: z.object({ id }),
  execSync: z.object({
    id,
    args: z.array(z.string()).nonempty(),
    env: z.array(z.string()).optional(),
    timeoutSeconds: z.number().nonnegative().optional(),
  }),
  remove: z.object({ id }),
  subscribe: empty,
  counters: empty,
  shutdown: z.object({ killContainers: z.boolean() }),
} satisfies { [O in Op]: z.ZodType<Extract<Request, { op: O }>['params'], z.ZodTypeDef, unknown> };

const envelopeSchema = z.object({ v: z.number(), id: z.number().int(), op: z.string(), params: z.unknown() });

/** The id of a request, when it has one: a refused request is still answered to that id. */
export function requestIdOf(message: unknown): number | undefined {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isInteger(id) ? id : undefined;
}

/** A request as the monitor received it; an unknown op is Unimplemented, a bad field InvalidArgument. */
export function parseRequest(message: unknown): RequestMessage {
  const envelope = envelopeSchema.safeParse(message);
  if (!envelope.success) {
    throw invalidArgument(`Cannot read the monitor request: ${issuesText(envelope.error)}`);
  }
  const { op } = envelope.data;
  if (!Object.hasOwn(paramsSchemas, op)) throw unimplemented(`Cannot serve '${op}': unknown request`);
  const params = paramsSchemas[op as Op].safeParse(envelope.data.params);
  if (!params.success) {
    throw invalidArgument(`Cannot read the monitor request '${op}': ${issuesText(params.error, 'params')}`);
  }
  return { ...envelope.data, op: op as Op, params: params.data } as RequestMessage;
}

const exitRecordSchema = z.object({
  exitCode: z.number().int(),
  signal: z.string().optional(),
  finishedAt: z.string(),
  reason: z.string(),
  message: z.string().optional(),
});

const containerInfoSchema = z.object({
  id,
  state: z.enum(['created', 'running', 'exited']),
  pid: z.number().int().positive().optional(),
  logPath: z.string(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  adopted: z.boolean(),
  exit: exitRecordSchema.optional(),
});

const resultSchemas = {
  create: containerInfoSchema.extend({
    initStart: z.object({ source: z.enum(['cold', 'pool']), seconds: z.number() }).optional(),
  }),
  start: containerInfoSchema,
  signal: empty,
  status: containerInfoSchema,
  list: z.array(containerInfoSchema),
  reopenLog: empty,
  execSync: z.object({
    stdout: z.string(),
    stderr: z.string(),
    exitCode: z.number().int(),
    timedOut: z.boolean(),
  }),
  remove: empty,
  subscribe: empty,
  counters: z.object({
    logLinesDropped: z.number().int().nonnegative(),
    logBytesDropped: z.number().int().nonnegative(),
  }),
  shutdown: empty,
} satisfies { [O in Op]: z.ZodType<Results[O], z.ZodTypeDef, unknown> };

const ERROR_KINDS = [
  'InvalidArgument',
  'NotFound',
  'AlreadyExists',
  'FailedPrecondition',
  'ResourceExhausted',
  'Unavailable',
  'Unimplemented',
  'DeadlineExceeded',
  'Cancelled',
  'Internal',
] as const satisfies readonly ErrorKind[];

const responseSchema = z.discriminatedUnion('ok', [
  z.object({ v: z.number(), id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({
    v: z.number(),
    id: z.number().int(),
    ok: z.literal(false),
    // An unknown kind from a newer monitor is still an error, as Internal.
    error: z.object({ kind: z.enum(ERROR_KINDS).catch('Internal'), message: z.string() }),
  }),
]);

const exitEventSchema = z.object({
  v: z.number(),
  event: z.literal('exit'),
  container: id,
  exit: exitRecordSchema,
});

/** A line the daemon received from the monitor: a response or an exit event. */
export function parseServerMessage(message: unknown): ServerMessage {
  const isEvent = typeof message === 'object' && message !== null && 'event' in message;
  const parsed = (isEvent ? exitEventSchema : responseSchema).safeParse(message);
  if (!parsed.success) throw new Error(`Cannot read monitor message: ${issuesText(parsed.error)}`);
  return parsed.data as ServerMessage;
}

/** The result of `op` as the monitor answered it; a wrong field is the monitor's fault (Internal). */
export function parseResult<O extends Op>(op: O, result: unknown): Results[O] {
  const parsed = resultSchemas[op].safeParse(result);
  if (!parsed.success) {
    throw new NodeletError(
      'Internal',
      `Cannot read the monitor's answer to '${op}': ${issuesText(parsed.error, 'result')}`,
    );
  }
  return parsed.data as Results[O];
}
