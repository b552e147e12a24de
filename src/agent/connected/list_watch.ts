// List, then watch from the list's resourceVersion, for as long as the agent runs. The server ends
// each watch after `timeoutSeconds` (a fresh one starts from the last version seen, bookmarks
// included); 410 Gone (too old a version) means list again; any other failure waits, 1 s doubling to
// 30 s, then resumes. client-node's ListWatch stops for good on such failures (its issue #1496), and
// its Watch has no timeout of its own, so a watchdog aborts a watch that went silent.
import { apiStatusSchema } from './api_objects';
import { isGone, KubeApi, KubeApiError, KubeList, KubeObject } from './kube_api';

export interface ListWatchHandlers {
  /** Every object there is now (at start and after each re-list). */
  onList(items: KubeObject[]): void;
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): void;
  onError(err: unknown, retryMs: number): void;
}

export interface ListWatchOptions {
  query?: Record<string, string>;
  watchTimeoutS?: number;
  initialRetryMs?: number;
  maxRetryMs?: number;
}

export interface ListWatch {
  /** Resolves after the first successful list. */
  readonly synced: Promise<void>;
  close(): void;
}

type WatchEnd = { rv: string; gone: boolean; err?: unknown };

export function listWatch(
  api: KubeApi,
  path: string,
  handlers: ListWatchHandlers,
  options: ListWatchOptions = {},
): ListWatch {
  const timeoutS = options.watchTimeoutS ?? 300;
  let closed = false;
  let abortCurrent: (() => void) | undefined;
  let resolveSynced!: () => void;
  const synced = new Promise<void>((r) => (resolveSynced = r));

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      abortCurrent = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const watchOnce = (rv: string) =>
    new Promise<WatchEnd>((resolve) => {
      let last = rv;
      let ended = false;
      const end = (result: Omit<WatchEnd, 'rv'>) => {
        if (ended) return;
        ended = true;
        clearTimeout(watchdog);
        handle.abort();
        resolve({ rv: last, ...result });
      };
      const handle = api.watch(
        path,
        { ...options.query, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: timeoutS },
        (type, object) => {
          if (type === 'ERROR') {
            const status = apiStatusSchema.safeParse(object).data ?? {};
            const err = new KubeApiError(
              status.code ?? 500,
              status.reason ?? '',
              `watch ${path}: ${status.message}`,
            );
            return end({ gone: status.code === 410, err: status.code === 410 ? undefined : err });
          }
          last = object.metadata?.resourceVersion ?? last;
          if (type !== 'BOOKMARK') handlers.onEvent(type, object);
        },
        (err) => end({ gone: isGone(err), err: isGone(err) ? undefined : err }),
      );
      // The server closes the watch after timeoutSeconds; silence well past that is a dead connection.
      const watchdog = setTimeout(
        () => end({ gone: false, err: new Error(`watch ${path}: no end after ${timeoutS + 30} s`) }),
        (timeoutS + 30) * 1000,
      );
      abortCurrent = () => end({ gone: false });
    });

  const run = async () => {
    const initialMs = options.initialRetryMs ?? 1000;
    let retryMs = initialMs;
    let rv: string | undefined;
    while (!closed) {
      try {
        if (rv === undefined) {
          const list = await api.request<KubeList>('GET', path, { query: options.query });
          if (closed) break;
          rv = list.metadata.resourceVersion;
          handlers.onList(list.items);
          resolveSynced();
        }
        const startedMs = Date.now();
        const end = await watchOnce(rv);
        rv = end.gone ? undefined : end.rv;
        if (end.err) throw end.err;
        // A server that ends every watch at once must not make this a busy loop.
        if (!end.gone && Date.now() - startedMs < 1000) await sleep(initialMs);
        retryMs = initialMs;
      } catch (err) {
        if (closed) break;
        if (isGone(err)) {
          rv = undefined;
          continue;
        }
        handlers.onError(err, retryMs);
        await sleep(retryMs);
        retryMs = Math.min(retryMs * 2, options.maxRetryMs ?? 30_000);
      }
    }
  };
  // Only a handler that throws gets here: it is told, and the loop ends rather than spin on it.
  run().catch((err: unknown) => handlers.onError(err, 0));

  return {
    synced,
    close() {
      closed = true;
      abortCurrent?.();
    },
  };
}
