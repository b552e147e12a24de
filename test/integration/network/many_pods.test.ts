// Root and the real kernel: fifty pods at once, and nothing left on the host once they are gone.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createHarness, Harness } from './harness';

jest.setTimeout(300_000);

let h: Harness;
beforeAll(() => {
  h = createHarness();
  h.manager().installDefaultConflist();
});
afterAll(() => h.cleanup());

test('fifty pods set up in parallel get distinct IPs, and tearing them down leaves no veth or allocation', async () => {
  const manager = h.manager();
  const pods = Array.from({ length: 50 }, (_, i) => ({
    podId: `many${i}-${Math.random().toString(36).slice(2, 8)}`,
    name: `many${i}`,
    namespace: 'default',
    uid: `uid-many${i}`,
    netnsPath: h.netns(`many${i}`),
  }));
  const results = await Promise.allSettled(pods.map((p) => manager.setUp(p)));
  try {
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const ips = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.ips : []));
    expect(new Set(ips).size).toBe(50);
    expect(portsOnBridge(h.bridge)).toHaveLength(50);
  } finally {
    await Promise.all(pods.map((p) => manager.tearDown(p.podId)));
  }
  expect(portsOnBridge(h.bridge)).toEqual([]);
  const ipamDir = path.join(h.cacheDir, 'networks', 'nodelet');
  expect(fs.readdirSync(ipamDir).filter((n) => /^\d/.test(n))).toEqual([]);
  expect(fs.readdirSync(path.join(h.cacheDir, 'results'))).toEqual([]);
});

function portsOnBridge(bridge: string): string[] {
  const out = execFileSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}
