// One fan-out of events to any number of subscribers, with memory bounded everywhere:
//   - each subscriber has a buffer of `bufferSize` events; a subscriber that falls that far behind
//     is dropped with an error (it must resubscribe and relist), so one slow client never makes the
//     daemon hold an unbounded backlog, nor slows the others;
//   - while nobody listens, events are held for `holdMs` (at most `bufferSize` of them) and given to
//     the next subscriber, as containerd's event queue does, so a kubelet that reconnects after a
//     short break misses nothing.
import { resourceExhausted } from '../common/errors';

export interface EventQueueOptions {
  bufferSize: number;
  holdMs: number;
  /** Told each time a subscriber is dropped for falling behind. */
  onDrop?: (buffered: number) => void;
}

class Subscription<T> {
  private readonly buffer: T[] = [];
  private waiter?: { resolve: (v: T | undefined) => void; reject: (err: unknown) => void };
  private ended = false;
  private error?: unknown;
  private markEnded!: () => void;
  /** Resolves when the subscription ends, for a reader busy elsewhere (a blocked write). */
  readonly ended$ = new Promise<void>((resolve) => (this.markEnded = resolve));

  constructor(
    private readonly capacity: number,
    private readonly detach: (sub: Subscription<T>) => void,
  ) {}

  /** The next event; undefined once closed; rejects when the subscriber was dropped. */
  next(): Promise<T | undefined> {
    const item = this.buffer.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** Ends the subscription; with an error, pending and later next() calls reject with it. */
  close(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.markEnded();
    this.detach(this);
    if (error !== undefined) {
      this.error = error;
      this.buffer.length = 0;
    }
    const waiter = this.waiter;
    this.waiter = undefined;
    if (!waiter) return;
    if (error !== undefined) waiter.reject(error);
    else waiter.resolve(undefined);
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Returns false, and takes nothing, when the buffer is full. */
  offer(item: T): boolean {
    if (this.ended) return true;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve(item);
      return true;
    }
    if (this.buffer.length >= this.capacity) return false;
    this.buffer.push(item);
    return true;
  }

  get backlog(): number {
    return this.buffer.length;
  }
}

export class EventQueue<T> {
  private readonly subscribers = new Set<Subscription<T>>();
  private held: { item: T; at: number }[] = [];

  constructor(private readonly options: EventQueueOptions) {}

  publish(item: T): void {
    if (this.subscribers.size === 0) {
      this.hold(item);
      return;
    }
    for (const sub of [...this.subscribers]) {
      if (sub.offer(item)) continue;
      this.options.onDrop?.(sub.backlog);
      sub.close(
        resourceExhausted(
          `Cannot send more events: the subscriber fell ${sub.backlog} events behind; subscribe again and relist`,
        ),
      );
    }
  }

  subscribe(): Subscription<T> {
    const sub = new Subscription<T>(this.options.bufferSize, (s) => this.subscribers.delete(s));
    this.expireHeld(Date.now());
    for (const { item } of this.held) sub.offer(item);
    this.held = [];
    this.subscribers.add(sub);
    return sub;
  }

  /** Ends every subscription with `error` (the server is going away). */
  closeAll(error: unknown): void {
    for (const sub of [...this.subscribers]) sub.close(error);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  get heldCount(): number {
    return this.held.length;
  }

  private hold(item: T): void {
    const now = Date.now();
    this.expireHeld(now);
    this.held.push({ item, at: now });
    if (this.held.length > this.options.bufferSize) this.held.shift();
  }

  private expireHeld(now: number): void {
    const keepFrom = this.held.findIndex((h) => now - h.at <= this.options.holdMs);
    this.held = keepFrom < 0 ? [] : this.held.slice(keepFrom);
  }
}
