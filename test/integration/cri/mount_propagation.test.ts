// Mount propagation of a container's bind mounts, as the kubelet asks for it: a BIDIRECTIONAL
// (rshared) mount sends mounts made inside the container back to the host, HOST_TO_CONTAINER
// (rslave) only receives, PRIVATE neither.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestCriClient } from '../../support/cri_client';
import type { TestDaemon } from '../../support/daemon';
import { BUSYBOX, CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';

const IMAGE = BUSYBOX;
let env: CriEnv | undefined;
let daemon: TestDaemon;
let cri: TestCriClient;
let host: string;

jest.setTimeout(180_000);

beforeAll(async () => {
  env = await startCriEnv();
  ({ daemon, cri } = env);
  host = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-propagation-'));
});

afterAll(async () => {
  await stopCriEnv(env);
  if (host) {
    unmountUnder(host);
    fs.rmSync(host, { recursive: true, force: true });
  }
});

/** Unmounts everything below `dir`, deepest first (lazily: a container may still hold them). */
function unmountUnder(dir: string): void {
  const points = mountPoints().filter((p) => p === dir || p.startsWith(`${dir}/`));
  for (const p of points.sort().reverse()) execFileSync('umount', ['-l', p], { stdio: 'ignore' });
}

function mountPoints(): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter(Boolean);
}

/** A host directory on a shared mount of its own, as the kubelet's volumes are. */
function sharedHostDir(name: string): string {
  const dir = path.join(host, name);
  fs.mkdirSync(path.join(dir, 'from-host'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'from-container'), { recursive: true });
  execFileSync('mount', ['--bind', dir, dir]);
  execFileSync('mount', ['--make-rshared', dir]);
  return dir;
}

async function runWithMount(
  name: string,
  hostPath: string,
  propagation: string,
  readOnly: { readonly?: boolean; recursive_read_only?: boolean } = {},
): Promise<string> {
  const podConfig = { metadata: { name, namespace: 'propagation', uid: `uid-${name}`, attempt: 0 } };
  const { pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config: podConfig },
    60_000,
  );
  const { container_id: id } = await cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod,
      config: {
        metadata: { name },
        image: { image: IMAGE },
        command: ['sleep', '3600'],
        mounts: [{ host_path: hostPath, container_path: '/vol', propagation, ...readOnly }],
        linux: { security_context: { privileged: true } },
      },
      sandbox_config: podConfig,
    },
    60_000,
  );
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  return id;
}

async function sh(id: string, script: string): Promise<string> {
  const r = await cri.runtime<{ stdout: Buffer; stderr: Buffer; exit_code: number }>(
    'ExecSync',
    { container_id: id, cmd: ['sh', '-c', script], timeout: 30 },
    60_000,
  );
  const out = Buffer.from(r.stdout).toString() + Buffer.from(r.stderr).toString();
  if (r.exit_code !== 0) throw new Error(`'${script}' exited ${r.exit_code}: ${out}`);
  return out;
}

/** Mounts a tmpfs holding one file on the host; the container looks for the file. */
function mountOnHost(dir: string): void {
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(dir, 'from-host')]);
  fs.writeFileSync(path.join(dir, 'from-host', 'flag'), 'host');
}

const mountInContainer = (id: string) =>
  sh(id, 'mount -t tmpfs tmpfs /vol/from-container && echo container > /vol/from-container/flag');

describe('mount propagation', () => {
  test('a bidirectional mount sends the container’s mounts to the host and the host’s to the container', async () => {
    const dir = sharedHostDir('bidirectional');
    const id = await runWithMount('bidi', dir, 'PROPAGATION_BIDIRECTIONAL');
    mountOnHost(dir);
    expect(await sh(id, 'cat /vol/from-host/flag')).toBe('host');
    await mountInContainer(id);
    expect(fs.readFileSync(path.join(dir, 'from-container', 'flag'), 'utf8')).toBe('container\n');
    // Only the volume is shared: the container's root and its other mounts never reach the host.
    expect(mountPoints().filter((p) => p.startsWith(daemon.root))).toEqual(
      mountPoints().filter((p) => p.startsWith(daemon.root) && !p.includes('/containers/')),
    );
  });

  test('a host-to-container mount receives the host’s mounts but keeps its own', async () => {
    const dir = sharedHostDir('slave');
    const id = await runWithMount('slave', dir, 'PROPAGATION_HOST_TO_CONTAINER');
    mountOnHost(dir);
    expect(await sh(id, 'cat /vol/from-host/flag')).toBe('host');
    await mountInContainer(id);
    expect(fs.readdirSync(path.join(dir, 'from-container'))).toEqual([]);
  });

  test('a private mount neither receives nor sends mounts', async () => {
    const dir = sharedHostDir('private');
    const id = await runWithMount('private', dir, 'PROPAGATION_PRIVATE');
    mountOnHost(dir);
    expect(await sh(id, 'ls -A /vol/from-host')).toBe('');
    await mountInContainer(id);
    expect(fs.readdirSync(path.join(dir, 'from-container'))).toEqual([]);
  });
});

describe('read-only mounts', () => {
  /** A host dir with a tmpfs mounted below it, as a volume holding another volume. */
  function dirWithSubmount(name: string): string {
    const dir = path.join(host, name);
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(dir, 'sub')]);
    return dir;
  }
  const writes = async (id: string, file: string) =>
    (await sh(id, `touch ${file} 2>/dev/null && echo yes || echo no`)).trim();

  test('a read-only mount leaves the mounts below it writable; a recursively read-only one does not', async () => {
    const plain = await runWithMount('ro', dirWithSubmount('ro'), 'PROPAGATION_PRIVATE', { readonly: true });
    expect(await writes(plain, '/vol/top')).toBe('no');
    expect(await writes(plain, '/vol/sub/file')).toBe('yes');

    const rro = await runWithMount('rro', dirWithSubmount('rro'), 'PROPAGATION_PRIVATE', {
      readonly: true,
      recursive_read_only: true,
    });
    expect(await writes(rro, '/vol/top')).toBe('no');
    expect(await writes(rro, '/vol/sub/file')).toBe('no');
  });

  test('recursive read-only is refused without readonly, or with propagation from the host', async () => {
    const dir = dirWithSubmount('refused');
    await expect(
      runWithMount('rro-rw', dir, 'PROPAGATION_PRIVATE', { recursive_read_only: true }),
    ).rejects.toThrow(/readonly is false/);
    await expect(
      runWithMount('rro-slave', dir, 'PROPAGATION_HOST_TO_CONTAINER', {
        readonly: true,
        recursive_read_only: true,
      }),
    ).rejects.toThrow(/recursively read-only with propagation/);
  });
});
