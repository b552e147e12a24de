// Root and the real kernel: hostPorts on 127.0.0.1 (portmap) and the bandwidth annotations.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createHarness, Harness, natRules } from './harness';
import { spawnInNetns, stopProcess } from '../../support/netns';

jest.setTimeout(120_000);

let h: Harness;
beforeAll(() => {
  h = createHarness();
  h.manager().installDefaultConflist();
});
afterAll(() => h.cleanup());

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/** Retries while the server inside the pod is still starting. */
async function getEventually(url: string): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      return await get(url);
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw last;
}

function tc(args: string[]): string {
  return execFileSync('tc', args, { encoding: 'utf8' });
}

describe('hostPort mappings and bandwidth limits', () => {
  // First, so that the shared portmap chains are created by racing ADDs.
  test('pods with hostPorts set up in parallel each get their own mapping, and DEL removes them all', async () => {
    const manager = h.manager();
    const base = 30000 + Math.floor(Math.random() * 10000);
    const pods = Array.from({ length: 8 }, (_, i) => ({
      podId: `hp${i}-${Math.random().toString(36).slice(2, 8)}`,
      name: `hp${i}`,
      namespace: 'default',
      uid: `uid-hp${i}`,
      netnsPath: h.netns(`hp${i}`),
      portMappings: [{ protocol: 'TCP', containerPort: 80, hostPort: base + i }],
    }));
    const results = await Promise.allSettled(pods.map((p) => manager.setUp(p)));
    try {
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const rules = natRules('CNI-HOSTPORT-DNAT').join('\n');
      for (const p of pods) expect(rules).toContain(p.podId);
    } finally {
      await Promise.all(pods.map((p) => manager.tearDown(p.podId)));
    }
    const rules = natRules('CNI-HOSTPORT-DNAT').join('\n');
    for (const p of pods) expect(rules).not.toContain(p.podId);
  });

  test('a hostPort on 127.0.0.1 reaches an httpd listening inside the pod', async () => {
    const manager = h.manager();
    const netnsPath = h.netns('web');
    const www = path.join(h.root, 'www');
    fs.mkdirSync(www);
    fs.writeFileSync(path.join(www, 'index.html'), 'hello from the pod\n');
    const hostPort = 20000 + Math.floor(Math.random() * 10000);
    const podId = `web-${Math.random().toString(36).slice(2, 8)}`;
    const httpd = spawnInNetns(netnsPath, ['busybox', 'httpd', '-f', '-p', '80', '-h', www]);
    try {
      const status = await manager.setUp({
        podId,
        name: 'web',
        namespace: 'default',
        uid: 'uid-web',
        netnsPath,
        portMappings: [{ protocol: 'TCP', containerPort: 80, hostPort, hostIp: '' }],
      });
      expect(await getEventually(`http://${status.ips[0]}:80/`)).toBe('hello from the pod\n');
      expect(await getEventually(`http://127.0.0.1:${hostPort}/`)).toBe('hello from the pod\n');
      expect(natRules('CNI-HOSTPORT-DNAT').join('\n')).toContain(podId);
    } finally {
      await manager.tearDown(podId);
      await stopProcess(httpd);
    }
    expect(natRules('CNI-HOSTPORT-DNAT').join('\n')).not.toContain(podId);
    await expect(get(`http://127.0.0.1:${hostPort}/`)).rejects.toThrow();
  });

  test('the bandwidth annotations shape the pod traffic both ways, and CHECK accepts them', async () => {
    const manager = h.manager();
    const podId = `bw-${Math.random().toString(36).slice(2, 8)}`;
    const status = await manager.setUp({
      podId,
      name: 'bw',
      namespace: 'default',
      uid: 'uid-bw',
      netnsPath: h.netns('bw'),
      annotations: { 'kubernetes.io/ingress-bandwidth': '10M', 'kubernetes.io/egress-bandwidth': '20M' },
    });
    let ifb: string | undefined;
    try {
      const veth = status.interfaces.find((i) => !i.sandbox && i.name !== h.bridge)!.name;
      expect(tc(['qdisc', 'show', 'dev', veth])).toMatch(/tbf .*rate 10Mbit/);
      ifb = status.interfaces.find((i) => i.name.startsWith('bwp'))?.name;
      expect(ifb).toBeDefined();
      expect(tc(['qdisc', 'show', 'dev', ifb!])).toMatch(/tbf .*rate 20Mbit/);
      await expect(manager.check(podId)).resolves.toBeUndefined();
    } finally {
      await manager.tearDown(podId);
    }
    expect(() => execFileSync('ip', ['link', 'show', 'dev', ifb!], { stdio: 'ignore' })).toThrow();
  });

  test('a malformed bandwidth annotation is refused before anything is set up', async () => {
    const manager = h.manager();
    const podId = `bwbad-${Math.random().toString(36).slice(2, 8)}`;
    const setUp = manager.setUp({
      podId,
      name: 'bwbad',
      namespace: 'default',
      uid: 'uid-bwbad',
      netnsPath: h.netns('bwbad'),
      annotations: { 'kubernetes.io/ingress-bandwidth': 'fast' },
    });
    await expect(setUp).rejects.toThrow(/kubernetes.io\/ingress-bandwidth='fast'/);
    expect(manager.status(podId)).toBeUndefined();
  });
});
