// The upstream kubelet's checkpoint endpoint (POST /checkpoint/<ns>/<pod>/<container>, the
// ContainerCheckpoint feature, on by default) on nodelet: the kubelet calls CRI CheckpointContainer
// with a location under <root-dir>/checkpoints/ and nodelet writes CRI-O's archive there, leaving
// the container running. Needs root, the real kernel, the kubelet binary and a CRIU that works
// here (scripts/install-criu.sh).
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { workingCriu } from '../../support/criu';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { startRegistry, TestRegistry } from '../../support/registry';
import { kubeletInstalled, KUBELET_BIN, startKubelet, TestKubelet } from './kubelet';
import { BUSYBOX } from './pods';
import { crictl, kubeletPods, waitFor } from './observe';

const suite = kubeletInstalled() ? describe : (describe.skip as typeof describe);
const reason = kubeletInstalled() ? '' : ` (skipped: no ${KUBELET_BIN}; run scripts/install-kube-tools.sh)`;

const counterPod = `
apiVersion: v1
kind: Pod
metadata: { name: counter, namespace: default }
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: count
      image: ${BUSYBOX}
      command: ["sh", "-c", "i=0; while true; do echo $i; i=$((i+1)); sleep 0.2; done"]
`;

function post(address: string, port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: address, port, path: urlPath, method: 'POST', rejectUnauthorized: false, timeout: 120_000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`POST ${urlPath}: timed out`)));
    req.end();
  });
}

suite(`the upstream kubelet checkpoints a container on nodelet${reason}`, () => {
  let registry: TestRegistry;
  let daemon: TestDaemon;
  let kubelet: TestKubelet | undefined;

  beforeAll(async () => {
    registry = await startRegistry({ withFixtures: true });
    daemon = await startDaemon({
      config: { registry: registry.mirrorConfig(), criuPath: workingCriu() },
      timeoutMs: 30_000,
    });
    kubelet = await startKubelet({ endpoint: daemon.endpoint });
    kubelet.addManifest('counter.yaml', counterPod);
  }, 180_000);

  afterAll(async () => {
    await kubelet?.stop().catch(() => undefined);
    await daemon?.stop();
    await daemon?.cleanup();
    await registry?.stop();
  }, 180_000);

  test('POST /checkpoint writes the archive under the root dir and the container keeps running', async () => {
    const name = `counter-${kubelet!.nodeName}`;
    await waitFor(
      'the counter pod to run',
      async () => (await kubeletPods(kubelet!.address, kubelet!.port)).get(name)?.status.phase === 'Running',
      150_000,
    );
    const res = await post(kubelet!.address, kubelet!.port, `/checkpoint/default/${name}/count`);
    expect(res.status).toBe(200);
    const { items } = JSON.parse(res.body) as { items: string[] };
    expect(items).toHaveLength(1);
    expect(path.dirname(items[0])).toBe(path.join(kubelet!.rootDir, 'checkpoints'));
    expect(path.basename(items[0])).toMatch(new RegExp(`^checkpoint-${name}_default-count-.*\\.tar$`));
    const entries = execFileSync('tar', ['-tf', items[0]], { encoding: 'utf8' })
      .split('\n')
      .map((e) => e.replace(/^\.\//, ''));
    for (const want of ['config.dump', 'spec.dump', 'rootfs-diff.tar']) expect(entries).toContain(want);
    expect(entries.some((e) => e.startsWith('checkpoint/'))).toBe(true);
    const id = crictl(daemon.endpoint, 'ps', '-q', '--name', '^count$').out.trim();
    expect(
      crictl(
        daemon.endpoint,
        'inspect',
        '-o',
        'go-template',
        '--template',
        '{{.status.state}}',
        id,
      ).out.trim(),
    ).toBe('CONTAINER_RUNNING');
    fs.rmSync(items[0], { force: true });
  }, 200_000);
});
