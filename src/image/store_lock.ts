// Serializes changes to the image records: a promise chain inside this process, and an flock on a
// lock file across processes (the daemon and `nodelet image` share the state directory). The
// kernel drops the flock when its holder dies, so a crashed command never blocks the store.
import fs from 'node:fs';
import { tryLockExclusive, unlock } from '../runtime/sys';
import { unavailable } from '../common/errors';

export class StoreLock {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly waitMs = 30_000,
  ) {}

  /** Runs fn while holding the lock. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(() => this.withFlock(fn));
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async withFlock<T>(fn: () => Promise<T>): Promise<T> {
    const fd = fs.openSync(this.file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    try {
      const started = Date.now();
      // flock is polled rather than waited for: a blocking call would stall the event loop.
      while (!tryLockExclusive(fd, this.file)) {
        if (Date.now() - started > this.waitMs) {
          throw unavailable(
            `Cannot lock the image store '${this.file}': another process held it for ${this.waitMs} ms`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      try {
        return await fn();
      } finally {
        unlock(fd, this.file);
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}
