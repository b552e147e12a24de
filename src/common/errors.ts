// The error kinds every part of nodelet throws. They say what went wrong in the CRI's terms;
// only src/cri/rpc.ts turns them into gRPC status codes.

export type ErrorKind =
  | 'InvalidArgument'
  | 'NotFound'
  | 'AlreadyExists'
  | 'FailedPrecondition'
  | 'ResourceExhausted'
  | 'Unavailable'
  | 'Unimplemented'
  | 'DeadlineExceeded'
  | 'Cancelled'
  | 'Internal';

export class NodeletError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = `${kind}Error`;
  }
}

export const invalidArgument = (message: string, cause?: unknown) =>
  new NodeletError('InvalidArgument', message, { cause });
export const notFound = (message: string, cause?: unknown) =>
  new NodeletError('NotFound', message, { cause });
export const alreadyExists = (message: string, cause?: unknown) =>
  new NodeletError('AlreadyExists', message, { cause });
export const failedPrecondition = (message: string, cause?: unknown) =>
  new NodeletError('FailedPrecondition', message, { cause });
export const resourceExhausted = (message: string, cause?: unknown) =>
  new NodeletError('ResourceExhausted', message, { cause });
export const unavailable = (message: string, cause?: unknown) =>
  new NodeletError('Unavailable', message, { cause });
export const unimplemented = (message: string) => new NodeletError('Unimplemented', message);
export const internal = (message: string, cause?: unknown) =>
  new NodeletError('Internal', message, { cause });

/** The message of any thrown value, for logs and for wrapping. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A full filesystem: ENOSPC (or EDQUOT, a quota) from Node's fs or from src/runtime/sys, on the
 * error itself or anywhere in its chain of causes.
 */
export function isDiskFull(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}
