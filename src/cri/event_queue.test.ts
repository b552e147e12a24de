import { NodeletError } from '../common/errors';
import { EventQueue } from './event_queue';

const queue = (bufferSize = 3, holdMs = 60_000) => new EventQueue<number>({ bufferSize, holdMs });

async function drain(sub: { next(): Promise<number | undefined> }, n: number): Promise<number[]> {
  const got: number[] = [];
  for (let i = 0; i < n; i++) got.push((await sub.next()) as number);
  return got;
}

describe('the event queue', () => {
  test('every subscriber gets every event in order', async () => {
    const q = queue();
    const a = q.subscribe();
    const b = q.subscribe();
    q.publish(1);
    q.publish(2);
    expect(await drain(a, 2)).toEqual([1, 2]);
    expect(await drain(b, 2)).toEqual([1, 2]);
  });

  test('a waiting subscriber is woken by the next event', async () => {
    const q = queue();
    const sub = q.subscribe();
    const next = sub.next();
    q.publish(7);
    await expect(next).resolves.toBe(7);
  });

  test('a subscriber that falls a whole buffer behind is dropped with RESOURCE_EXHAUSTED, the others go on', async () => {
    const drops: number[] = [];
    const q = new EventQueue<number>({ bufferSize: 3, holdMs: 0, onDrop: (n) => drops.push(n) });
    const slow = q.subscribe();
    const fast = q.subscribe();
    for (let i = 1; i <= 4; i++) {
      q.publish(i);
      expect(await fast.next()).toBe(i);
    }
    const err = await slow.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeletError);
    expect((err as NodeletError).kind).toBe('ResourceExhausted');
    expect((err as NodeletError).message).toMatch(/fell 3 events behind/);
    expect(drops).toEqual([3]);
    expect(q.subscriberCount).toBe(1);
  });

  test('events published while nobody listens go to the next subscriber, at most a buffer of them', async () => {
    const q = queue(3);
    for (let i = 1; i <= 5; i++) q.publish(i);
    expect(q.heldCount).toBe(3);
    const sub = q.subscribe();
    expect(await drain(sub, 3)).toEqual([3, 4, 5]);
    expect(q.heldCount).toBe(0);
  });

  test('held events older than the hold time are not replayed', async () => {
    const q = queue(3, 0);
    q.publish(1);
    await new Promise((r) => setTimeout(r, 5));
    const sub = q.subscribe();
    q.publish(2);
    expect(await sub.next()).toBe(2);
  });

  test('closing a subscription ends its reader and stops its deliveries', async () => {
    const q = queue();
    const sub = q.subscribe();
    const next = sub.next();
    sub.close();
    await expect(next).resolves.toBeUndefined();
    expect(q.subscriberCount).toBe(0);
    q.publish(1);
    await expect(sub.next()).resolves.toBeUndefined();
  });

  test('closeAll ends every subscription with the given error', async () => {
    const q = queue();
    const sub = q.subscribe();
    q.closeAll(new Error('going away'));
    await expect(sub.next()).rejects.toThrow('going away');
  });
});
