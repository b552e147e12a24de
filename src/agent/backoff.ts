// CrashLoopBackOff, as the kubelet's flowcontrol.Backoff: the first restart is immediate, then the
// container waits 10 s, 20 s, 40 s … up to 5 min after each exit. An entry not touched for twice the
// maximum (10 min, e.g. a container that ran that long) is forgotten, so the delay starts over.

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  now?: () => number;
}

interface Entry {
  delayMs: number;
  lastUpdateMs: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 10_000;
    this.maxMs = options.maxMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  private expired(entry: Entry, eventMs: number): boolean {
    return eventMs - entry.lastUpdateMs > 2 * this.maxMs;
  }

  /**
   * How long the container that finished at `finishedMs` must still wait before its restart (0: it
   * may restart now). Measured from the exit, so the wait is not lost when the agent polls late.
   */
  remainingMs(key: string, finishedMs: number): number {
    const entry = this.entries.get(key);
    if (!entry || this.expired(entry, finishedMs)) return 0;
    return Math.max(0, finishedMs + entry.delayMs - this.now());
  }

  /** Records a restart: the next exit waits twice as long (capped), or the initial delay after a reset. */
  next(key: string, finishedMs: number): void {
    const entry = this.entries.get(key);
    if (!entry || this.expired(entry, finishedMs)) {
      this.entries.set(key, { delayMs: this.initialMs, lastUpdateMs: this.now() });
    } else {
      entry.delayMs = Math.min(entry.delayMs * 2, this.maxMs);
      entry.lastUpdateMs = this.now();
    }
  }

  /** The delay the next exit will wait (for messages such as "back-off 20s restarting …"). */
  currentDelayMs(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  forget(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}
