import { NodeletError, type ErrorKind } from '../../common/errors';

export function isNodeletError(err: unknown, kind: ErrorKind): boolean {
  return err instanceof NodeletError && err.kind === kind;
}
