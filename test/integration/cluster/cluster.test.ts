// scripts/cluster.sh end to end: a 2-node cluster of `kubelet` nodes (the upstream kubelet on
// nodelet) comes up in a temp dir, its nodes are Ready, a pod runs on each node and reaches the other
// node's pod by its IP (routes between the nodes' network namespaces), and `down` leaves nothing:
// no process, network namespace, bridge, route, mount or cgroup of the cluster, and its dir is gone.
// Needs root, the Kubernetes binaries (scripts/install-kube-tools.sh) and nodelet built in dist/.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cgroupsUnder, mountsUnder, processesIn, processesOfRoot } from '../../support/leftovers';

const ROOT = path.resolve(__dirname, '../../..');
const CLUSTER = path.join(ROOT, 'scripts/cluster.sh');
const KUBECTL = '/usr/local/bin/nodelet-kubectl';
const NEEDED = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
  'kube-proxy',
];
// The e2e images (scripts/fixtures/build-e2e-images.sh), which cluster.sh serves.
const BUSYBOX = 'registry.k8s.io/e2e-test-images/busybox:1.37.0-1';

const installed =
  [KUBECTL, ...NEEDED.map((b) => `/usr/local/bin/nodelet-${b}`)].every((f) => fs.existsSync(f)) &&
  fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));
const suite = installed ? describe : (describe.skip as typeof describe);
const reason = installed
  ? ''
  : ' (skipped: run scripts/install-kube-tools.sh for the Kubernetes binaries and npm run build)';

function script(args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(CLUSTER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

const podOn = (name: string, node: string) => `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: default }
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: ${BUSYBOX}
      command: [sh, -c, "mkdir -p /www && echo hello-from-${name} > /www/index.html && exec httpd -f -p 8080 -h /www"]
`;

suite(`scripts/cluster.sh: a 2-node cluster of kubelet nodes on nodelet${reason}`, () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-cluster-test-')), 'cluster');
  let kubeconfig = '';
  let tag = '';
  let slot = '';
  let upOutput = '';

  const kubectl = (...args: string[]): string => {
    const r = spawnSync(KUBECTL, ['--kubeconfig', kubeconfig, ...args], {
      encoding: 'utf8',
      timeout: 240_000,
    });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    const up = await script(['up', '--nodes', '2', '--node-kind', 'kubelet', '--dir', dir], 480_000);
    upOutput = up.out;
    const last = up.out.trim().split('\n').pop() ?? '';
    if (up.code !== 0 || !last.startsWith('KUBECONFIG=')) {
      throw new Error(`cluster.sh up failed (exit ${up.code}):\n${up.out.slice(-4000)}`);
    }
    kubeconfig = last.slice('KUBECONFIG='.length);
    tag = fs.readFileSync(path.join(dir, 'state/tag'), 'utf8').trim();
    slot = fs.readFileSync(path.join(dir, 'state/slot'), 'utf8').trim();
  }, 540_000);

  afterAll(async () => {
    // A failed test still removes the cluster.
    if (fs.existsSync(dir)) await script(['down', '--dir', dir], 300_000);
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  }, 320_000);

  test('up ends with the admin kubeconfig, and both nodes are Ready', () => {
    expect(upOutput.trim().split('\n').pop()).toBe(`KUBECONFIG=${kubeconfig}`);
    const nodes = JSON.parse(kubectl('get', 'nodes', '-o', 'json')) as {
      items: {
        metadata: { name: string };
        spec: { podCIDR?: string };
        status: {
          conditions: { type: string; status: string }[];
          nodeInfo: { containerRuntimeVersion: string };
        };
      }[];
    };
    expect(nodes.items).toHaveLength(2);
    for (const node of nodes.items) {
      expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^nodelet:\/\//);
    }
    expect(new Set(nodes.items.map((n) => n.spec.podCIDR)).size).toBe(2);
  });

  test("a pod on each node runs and reaches the other node's pod by its IP", () => {
    const nodes = kubectl('get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}')
      .trim()
      .split(' ')
      .sort();
    const apply = spawnSync(KUBECTL, ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {
      input: podOn('a', nodes[0]) + '---\n' + podOn('b', nodes[1]),
      encoding: 'utf8',
    });
    expect(apply.stderr).toBe('');
    kubectl('wait', '--for=condition=Ready', 'pod/a', 'pod/b', '--timeout=180s');
    const ip = (pod: string) => kubectl('get', 'pod', pod, '-o', 'jsonpath={.status.podIP}').trim();
    const [ipA, ipB] = [ip('a'), ip('b')];
    expect(ipA).not.toBe(ipB);
    const fetchFrom = (pod: string, target: string) =>
      kubectl('exec', pod, '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${target} 8080`);
    expect(fetchFrom('a', ipB)).toContain('hello-from-b');
    expect(fetchFrom('b', ipA)).toContain('hello-from-a');
  }, 300_000);

  test('down removes everything up made, and a second down does nothing', async () => {
    const down = await script(['down', '--dir', dir], 300_000);
    expect(down.code).toBe(0);
    expect(fs.existsSync(dir)).toBe(false);
    const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(netns.split('\n').filter((l) => l.includes(`nlc${tag}`))).toEqual([]);
    const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    expect(links.split('\n').filter((l) => l.includes(`nlc${tag}`))).toEqual([]);
    const routes = spawnSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).stdout;
    expect(routes.split('\n').filter((l) => l.includes(`10.250.${slot}.`))).toEqual([]);
    expect(mountsUnder(dir)).toEqual([]);
    expect(cgroupsUnder(`/nodelet-cluster-${tag}`)).toEqual([]);
    const hierarchies = fs.readdirSync('/sys/fs/cgroup');
    expect(hierarchies.filter((h) => fs.existsSync(`/sys/fs/cgroup/${h}/nodelet-cluster-${tag}`))).toEqual(
      [],
    );
    expect(processesIn(`/nodelet-cluster-${tag}`)).toEqual([]);
    expect(processesOfRoot(dir)).toEqual([]);
    expect(fs.existsSync(`/run/nodelet-cluster/${slot}`)).toBe(false);
    const again = await script(['down', '--dir', dir], 60_000);
    expect(again.code).toBe(0);
  }, 320_000);
});
