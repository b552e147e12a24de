import { Backoff } from './backoff';

function clock(start = 1_000_000) {
  const c = { now: start };
  return { c, backoff: new Backoff({ now: () => c.now }) };
}

test('the first restart is immediate and later ones wait 10 s, then twice as long each time', () => {
  const { c, backoff } = clock();
  expect(backoff.remainingMs('k', c.now)).toBe(0);
  backoff.next('k', c.now);
  expect(backoff.remainingMs('k', c.now)).toBe(10_000);
  c.now += 10_000;
  expect(backoff.remainingMs('k', c.now - 10_000)).toBe(0);
  backoff.next('k', c.now);
  expect(backoff.currentDelayMs('k')).toBe(20_000);
  backoff.next('k', c.now);
  expect(backoff.currentDelayMs('k')).toBe(40_000);
});

test('the delay never exceeds five minutes', () => {
  const { c, backoff } = clock();
  for (let i = 0; i < 12; i++) backoff.next('k', c.now);
  expect(backoff.currentDelayMs('k')).toBe(300_000);
});

test('a container that ran for more than ten minutes starts over at 10 s', () => {
  const { c, backoff } = clock();
  for (let i = 0; i < 5; i++) backoff.next('k', c.now);
  expect(backoff.currentDelayMs('k')).toBe(160_000);
  c.now += 11 * 60_000;
  expect(backoff.remainingMs('k', c.now)).toBe(0);
  backoff.next('k', c.now);
  expect(backoff.currentDelayMs('k')).toBe(10_000);
});

test('the wait is measured from the exit, not from when the agent looks', () => {
  const { c, backoff } = clock();
  backoff.next('k', c.now);
  const finished = c.now + 1000;
  c.now += 8000;
  expect(backoff.remainingMs('k', finished)).toBe(3000);
});
