// One queue per key: work for the same key runs one after the other in the order it was asked for,
// work for different keys runs side by side. A failure is its caller's alone; the next work for that
// key still runs. A key with nothing queued holds no memory, so ids that come and go do not pile up.
export class KeyedQueue {
  /** The settled end of each key's queue; present only while work for the key is pending. */
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` once everything queued earlier under `key` has settled; answers with its outcome. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(work);
    // The tail never rejects, and forgets the key once nothing newer is queued behind it.
    const tail: Promise<void> = result.then(settle, settle).then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    this.tails.set(key, tail);
    return result;
  }

  /** How many keys have work pending (for tests and metrics). */
  get busyKeys(): number {
    return this.tails.size;
  }
}

function settle(): void {}
