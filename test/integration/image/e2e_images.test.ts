// The offline images of the Kubernetes conformance suite (scripts/fixtures/build-e2e-images.sh),
// served by a real docker-registry behind a daemon's mirrors and run through the CRI as the specs
// run them: every name e2e.test v1.36.3 asks for pulls, agnhost's netexec answers /hostname over
// the pod network with the shell tools the specs exec beside it, CoreDNS runs as its non-root user
// and still binds :53, and nonroot and nonewprivs show the users those specs expect.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestCriClient } from '../../support/cri_client';
import { CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';
import { e2eImageStorage } from '../../support/registry';

const E2E = 'registry.k8s.io/e2e-test-images';
const AGNHOST = `${E2E}/agnhost:2.63.0`;
const COREDNS = 'registry.k8s.io/coredns/coredns:v1.14.2';
const EXITED = 'CONTAINER_EXITED';

let env: CriEnv | undefined;
let cri: TestCriClient;
let storage: string;
let logs: string;

jest.setTimeout(600_000);

beforeAll(async () => {
  storage = e2eImageStorage();
  logs = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-e2e-images-logs-'));
  env = await startCriEnv({ registryStorage: storage, images: [] });
  ({ cri } = env);
});

afterAll(async () => {
  await stopCriEnv(env);
  if (logs) fs.rmSync(logs, { recursive: true, force: true });
});

interface Pod {
  id: string;
  config: object;
  ip: string;
  logDir: string;
}

async function runPod(name: string): Promise<Pod> {
  const logDir = path.join(logs, name);
  const config = {
    metadata: { name, namespace: 'e2e-images', uid: `uid-${name}`, attempt: 0 },
    hostname: name,
    log_directory: logDir,
  };
  const { pod_sandbox_id: id } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config },
    120_000,
  );
  const { status } = await cri.runtime<{ status: { network: { ip: string } } }>('PodSandboxStatus', {
    pod_sandbox_id: id,
  });
  return { id, config, ip: status.network.ip, logDir };
}

async function removePod(pod: Pod): Promise<void> {
  await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id }, 120_000);
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }, 120_000);
}

async function startContainer(pod: Pod, name: string, image: string, config: object = {}): Promise<string> {
  await cri.image('PullImage', { image: { image } }, 300_000);
  const { container_id: id } = await cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod.id,
      config: { metadata: { name }, image: { image }, log_path: `${name}.log`, ...config },
      sandbox_config: pod.config,
    },
    120_000,
  );
  await cri.runtime('StartContainer', { container_id: id }, 120_000);
  return id;
}

/** Runs a container to its exit in POD; returns its exit code and what it wrote (CRI log lines' text). */
async function runToExit(
  pod: Pod,
  name: string,
  image: string,
  config: object = {},
): Promise<{ exitCode: number; output: string }> {
  const id = await startContainer(pod, name, image, config);
  for (;;) {
    const { status } = await cri.runtime<{ status: { state: string; exit_code: number } }>(
      'ContainerStatus',
      { container_id: id },
    );
    if (status.state === EXITED) {
      const log = fs.readFileSync(path.join(pod.logDir, `${name}.log`), 'utf8');
      const output = log
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' ').slice(3).join(' '))
        .join('\n');
      return { exitCode: status.exit_code, output };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function execSync(
  id: string,
  cmd: string[],
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const res = await cri.runtime<{ exit_code: number; stdout: Buffer; stderr: Buffer }>(
    'ExecSync',
    { container_id: id, cmd, timeout: 30 },
    60_000,
  );
  return { exitCode: res.exit_code, stdout: res.stdout.toString(), stderr: res.stderr.toString() };
}

/** GET http://HOST:PORT/PATH, retried while the server is still starting. */
async function httpGet(host: string, port: number, urlPath: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://${host}:${port}${urlPath}`, { signal: AbortSignal.timeout(5000) });
      return await res.text();
    } catch (err) {
      if (i >= 100) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function tcpConnects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

describe('the images e2e.test v1.36.3 runs, built offline', () => {
  test('every image the script lists pulls through the mirrors under its upstream registry.k8s.io name', async () => {
    const names = fs
      .readFileSync(path.join(path.dirname(storage), 'images.txt'), 'utf8')
      .split('\n')
      .filter(Boolean);
    for (const wanted of [
      'e2e-test-images/agnhost:2.63.0',
      'e2e-test-images/agnhost:2.55',
      'e2e-test-images/busybox:1.37.0-1',
      'e2e-test-images/nginx:1.15-4',
      'e2e-test-images/nginx:1.27-0',
      'e2e-test-images/nonewprivs:1.4',
      'e2e-test-images/nonroot:1.5',
      'pause:3.10.2',
      'coredns/coredns:v1.14.2',
    ]) {
      expect(names).toContain(wanted);
    }
    for (const name of names) {
      const image = `registry.k8s.io/${name}`;
      await cri.image('PullImage', { image: { image } }, 300_000);
      const { image: status } = await cri.image<{ image: { repo_tags: string[] } | null }>('ImageStatus', {
        image: { image },
      });
      expect(status?.repo_tags).toContain(image);
    }
  });

  test('agnhost netexec answers /hostname with the pod’s hostname, and dig, curl, nc, ip and bash run beside it', async () => {
    const pod = await runPod('netexec');
    try {
      const id = await startContainer(pod, 'netexec', AGNHOST, { args: ['netexec', '--http-port=8080'] });
      expect(await httpGet(pod.ip, 8080, '/hostname')).toBe('netexec');
      // Each Debian tool with its libraries: a missing one fails to load, not to parse its flags.
      const tools = await execSync(id, [
        'sh',
        '-c',
        'dig -v && nslookup -version && curl --version && ip -V && bash --version && nc -h 2>&1 | head -1',
      ]);
      expect(tools).toMatchObject({ exitCode: 0, stdout: expect.stringContaining('curl') });
      expect(tools.stderr).not.toMatch(/not found|error while loading shared libraries/);
      // The specs' own use: curl and nc against netexec from inside the pod.
      expect((await execSync(id, ['curl', '-g', '-q', '-s', 'http://127.0.0.1:8080/hostname'])).stdout).toBe(
        'netexec',
      );
      const nc = await execSync(id, ['sh', '-c', 'echo hostName | nc -v -t -w 2 127.0.0.1 8080']);
      expect(nc.stderr).toMatch(/succeeded|open/);
      // /agnhost-2 (entrypoint-tester specs) and the SupplementalGroups specs' user and group.
      expect((await execSync(id, ['/agnhost-2', '--version'])).stdout).toContain('2.63.0');
      expect((await execSync(id, ['id', 'user-defined-in-image'])).stdout).toContain(
        '50000(group-defined-in-image)',
      );
    } finally {
      await removePod(pod);
    }
  });

  test('nginx serves the welcome page on port 80', async () => {
    const pod = await runPod('nginx');
    try {
      await startContainer(pod, 'nginx', `${E2E}/nginx:1.15-4`);
      expect(await httpGet(pod.ip, 80, '/')).toContain('Welcome to nginx!');
    } finally {
      await removePod(pod);
    }
  });

  test('CoreDNS reports its version, and runs as uid 65532 yet binds :53', async () => {
    const pod = await runPod('coredns');
    try {
      const version = await runToExit(pod, 'version', COREDNS, { args: ['-version'] });
      expect(version).toMatchObject({ exitCode: 0, output: expect.stringContaining('CoreDNS-1.15.0') });
      // Without a Corefile CoreDNS serves `whoami` on :53: only the file capability lets uid 65532 bind it.
      await startContainer(pod, 'serve', COREDNS);
      let connected = false;
      for (let i = 0; i < 100 && !connected; i++) {
        connected = await tcpConnects(pod.ip, 53);
        if (!connected) await new Promise((r) => setTimeout(r, 200));
      }
      expect(connected).toBe(true);
    } finally {
      await removePod(pod);
    }
  });

  test('nonroot runs as its image’s user 1234', async () => {
    const pod = await runPod('nonroot');
    try {
      expect(await runToExit(pod, 'id', `${E2E}/nonroot:1.5`, { command: ['id', '-u'] })).toEqual({
        exitCode: 0,
        output: '1234',
      });
    } finally {
      await removePod(pod);
    }
  });

  test('nonewprivs as uid 1000 gains root through its setuid bit, and keeps uid 1000 under no_new_privs', async () => {
    const pod = await runPod('nonewprivs');
    try {
      const asUser = (noNewPrivs: boolean) => ({
        linux: { security_context: { run_as_user: { value: 1000 }, no_new_privs: noNewPrivs } },
      });
      expect(await runToExit(pod, 'allowed', `${E2E}/nonewprivs:1.4`, asUser(false))).toEqual({
        exitCode: 0,
        output: 'Effective uid: 0',
      });
      expect(await runToExit(pod, 'refused', `${E2E}/nonewprivs:1.4`, asUser(true))).toEqual({
        exitCode: 0,
        output: 'Effective uid: 1000',
      });
    } finally {
      await removePod(pod);
    }
  });
});
