import { TokenCache } from './tokens';

const exec = {
  kind: 'exec' as const,
  containerId: 'c1',
  cmd: ['ls'],
  tty: false,
  stdin: false,
  stdout: true,
  stderr: true,
};

describe('TokenCache', () => {
  it('gives the request back once, then never again', () => {
    const cache = new TokenCache();
    const token = cache.insert(exec);
    expect(cache.consume(token)).toEqual(exec);
    expect(cache.consume(token)).toBeUndefined();
  });

  it('forgets a request nobody came for once its time is up', () => {
    let now = 1000;
    const cache = new TokenCache({ ttlMs: 100, now: () => now });
    const token = cache.insert(exec);
    now += 100;
    expect(cache.consume(token)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('refuses new requests when too many wait for their connection', () => {
    const cache = new TokenCache({ maxPending: 1 });
    cache.insert(exec);
    expect(() => cache.insert(exec)).toThrow(/Cannot start a exec stream: 1 requests are already waiting/);
  });

  it('makes tokens that are safe in a URL path and unguessable', () => {
    const cache = new TokenCache();
    const tokens = new Set(Array.from({ length: 50 }, () => cache.insert(exec)));
    expect(tokens.size).toBe(50);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});
