// Work that several callers wait for at once (two pulls of one image, two images sharing a base
// layer): it runs once, and it is cancelled only when every caller waiting on it has given up.

interface Running<T> {
  promise: Promise<T>;
  ctl: AbortController;
  waiters: number;
}

export class SharedWork<T> {
  private readonly running = new Map<string, Running<T>>();

  /** Keys of the work now in flight. */
  keys(): string[] {
    return [...this.running.keys()];
  }

  run(key: string, signal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    let entry = this.running.get(key);
    if (!entry) {
      const ctl = new AbortController();
      const promise = work(ctl.signal).finally(() => this.running.delete(key));
      promise.catch(() => undefined);
      entry = { promise, ctl, waiters: 0 };
      this.running.set(key, entry);
    }
    const shared = entry;
    shared.waiters++;
    if (!signal) return shared.promise;
    if (signal.aborted) return this.leave(shared, signal);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.leave(shared, signal).catch(reject);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      shared.promise.then(
        (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
        (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
      );
    });
  }

  private leave(shared: Running<T>, signal: AbortSignal): Promise<T> {
    if (--shared.waiters === 0) shared.ctl.abort(signal.reason);
    return Promise.reject(signal.reason);
  }
}

/** Runs async tasks with at most `limit` at a time, in order. */
export async function mapLimit<A, B>(
  items: A[],
  limit: number,
  fn: (item: A, index: number) => Promise<B>,
): Promise<B[]> {
  const results = new Array<B>(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
  return results;
}
