// The little of the API server the agent needs, as an interface: JSON requests and watches. The real
// one (api.ts) is built on @kubernetes/client-node, which is ES-module-only and so never imported by
// code that unit tests load; the rest of connected mode talks to this interface and is tested with a fake.

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
};

export interface KubeList {
  metadata: { resourceVersion: string };
  items: KubeObject[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Defaults to application/json; patches must say which kind they are (client-node#862). */
  contentType?: string;
}

export interface KubeApi {
  request<T = KubeObject>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /**
   * Watches `path` until the server ends it (done(undefined)) or it fails (done(err)); abort() ends it
   * without calling done.
   */
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (type: WatchEventType, object: KubeObject) => void,
    done: (err?: unknown) => void,
  ): { abort(): void };
}

/** An answer of the API server other than 2xx, with its Status reason (NotFound, AlreadyExists…). */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const statusCodeOf = (err: unknown): number | undefined =>
  (err as { statusCode?: number } | undefined)?.statusCode ?? (err as { code?: number } | undefined)?.code;

export const isNotFound = (err: unknown) => statusCodeOf(err) === 404;
export const isConflict = (err: unknown) => statusCodeOf(err) === 409;
export const isGone = (err: unknown) => statusCodeOf(err) === 410;

/** metav1.MicroTime: RFC 3339 with six fractional digits (a plain Date's three are refused). */
export function microTime(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** metav1.Time: RFC 3339 in whole seconds. */
export function kubeTime(date = new Date()): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}
