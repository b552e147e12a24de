import { KeyedQueue } from './keyed_queue';

/** A promise the test settles by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('KeyedQueue', () => {
  it('runs the work of one key one after the other, in the order it was asked for', async () => {
    const queue = new KeyedQueue();
    const events: string[] = [];
    const first = gate();
    const a = queue.run('pod', async () => {
      events.push('first starts');
      await first.promise;
      events.push('first ends');
    });
    const b = queue.run('pod', async () => {
      events.push('second runs');
    });
    const c = queue.run('pod', async () => {
      events.push('third runs');
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['first starts']);
    first.open();
    await Promise.all([a, b, c]);
    expect(events).toEqual(['first starts', 'first ends', 'second runs', 'third runs']);
  });

  it('runs the work of different keys side by side', async () => {
    const queue = new KeyedQueue();
    const held = gate();
    const events: string[] = [];
    const a = queue.run('pod-a', async () => {
      events.push('a starts');
      await held.promise;
    });
    // b finishes while a is still held: the keys do not wait for each other.
    await queue.run('pod-b', async () => {
      events.push('b runs');
    });
    expect(events).toEqual(['a starts', 'b runs']);
    held.open();
    await a;
  });

  it('answers each caller with its own outcome, and a failure does not block the next work of the key', async () => {
    const queue = new KeyedQueue();
    const failed = queue.run('pod', async () => {
      throw new Error('setup failed');
    });
    const next = queue.run('pod', async () => 'torn down');
    await expect(failed).rejects.toThrow('setup failed');
    await expect(next).resolves.toBe('torn down');
  });

  it('runs the next work even when the earlier one throws before its first await', async () => {
    const queue = new KeyedQueue();
    const failed = queue.run('pod', () => {
      throw new Error('bad request');
    });
    await expect(failed).rejects.toThrow('bad request');
    await expect(queue.run('pod', async () => 1)).resolves.toBe(1);
  });

  it('keeps no memory for a key once its work is done', async () => {
    const queue = new KeyedQueue();
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        queue
          .run(`pod-${i}`, async () => {
            if (i % 2) throw new Error('odd');
          })
          .catch(() => undefined),
      ),
    );
    // The forgetting runs one step after the work settles.
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.busyKeys).toBe(0);
  });

  it('keeps the key while newer work is queued behind finished work', async () => {
    const queue = new KeyedQueue();
    const held = gate();
    await queue.run('pod', async () => undefined);
    const later = queue.run('pod', () => held.promise);
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.busyKeys).toBe(1);
    held.open();
    await later;
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.busyKeys).toBe(0);
  });
});
