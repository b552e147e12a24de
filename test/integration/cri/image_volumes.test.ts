// Image volumes (a CRI Mount with `image`, the kubelet's `image` volume source): the image's root
// filesystem read-only at the container path, or a sub path of it; an image not pulled is NOT_FOUND
// and a sub path leading outside the image is refused.
import fs from 'node:fs';
import path from 'node:path';
import { criClient, type TestCriClient } from '../../support/cri_client';
import { startDaemon, type TestDaemon } from '../../support/daemon';
import { BUSYBOX, CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';

/** Three layers: busybox, then /opt/a/a ("a"), then /opt/b/b ("b"). */
const MULTILAYER = 'registry.k8s.io/nodelet-test/multilayer:1';
/** One layer: busybox with an /etc/passwd naming www-data. */
const SINGLE = 'registry.k8s.io/nodelet-test/busybox:1';
const NOT_PULLED = 'registry.k8s.io/nodelet-test/whiteout:1';

let env: CriEnv | undefined;
let daemon: TestDaemon;
let cri: TestCriClient;
let pod: string;
let created = 0;

jest.setTimeout(180_000);

beforeAll(async () => {
  env = await startCriEnv({ images: [BUSYBOX, MULTILAYER, SINGLE] });
  ({ daemon, cri } = env);
  const config = { metadata: { name: 'images', namespace: 'image-volumes', uid: 'uid-images', attempt: 0 } };
  ({ pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config },
    60_000,
  ));
});

afterAll(async () => {
  await stopCriEnv(env);
});

interface ImageMount {
  image: string;
  sub?: string;
}

function createWith(volume: ImageMount): Promise<{ container_id: string }> {
  const name = `c${created++}`;
  return cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod,
      config: {
        metadata: { name },
        image: { image: BUSYBOX },
        command: ['sleep', '3600'],
        mounts: [
          {
            container_path: '/volume',
            readonly: true,
            image: { image: volume.image },
            image_sub_path: volume.sub ?? '',
          },
        ],
      },
      sandbox_config: {
        metadata: { name: 'images', namespace: 'image-volumes', uid: 'uid-images', attempt: 0 },
      },
    },
    60_000,
  );
}

async function runWith(volume: ImageMount): Promise<string> {
  const { container_id: id } = await createWith(volume);
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  return id;
}

async function sh(id: string, script: string): Promise<{ code: number; out: string }> {
  const r = await cri.runtime<{ stdout: Buffer; stderr: Buffer; exit_code: number }>(
    'ExecSync',
    { container_id: id, cmd: ['sh', '-c', script], timeout: 30 },
    60_000,
  );
  return { code: r.exit_code, out: Buffer.from(r.stdout).toString() + Buffer.from(r.stderr).toString() };
}

function hostMountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p) => p && p.startsWith(dir) && p.includes('image-volumes'));
}

describe('image volumes', () => {
  test("a multi-layer image's files are readable at the path, and the volume is read-only", async () => {
    const id = await runWith({ image: MULTILAYER });
    expect(await sh(id, 'cat /volume/opt/a/a /volume/opt/b/b')).toEqual({ code: 0, out: 'a\nb\n' });
    const write = await sh(id, 'echo x > /volume/opt/a/a');
    expect(write.code).not.toBe(0);
    expect(write.out).toMatch(/read-only/i);
    expect((await sh(id, 'cat /volume/opt/a/a')).out).toBe('a\n');
    // The host's view of the image was detached once the container held its bind.
    expect(hostMountsUnder(daemon.root)).toEqual([]);
  });

  test('image_sub_path mounts only that directory of the image', async () => {
    const id = await runWith({ image: MULTILAYER, sub: 'opt/b' });
    expect(await sh(id, 'ls /volume; cat /volume/b')).toEqual({ code: 0, out: 'b\nb\n' });
  });

  test('a single-layer image is mounted read-only too, with or without a sub path', async () => {
    const whole = await runWith({ image: SINGLE });
    expect((await sh(whole, 'grep -c www-data /volume/etc/passwd')).out).toBe('1\n');
    expect((await sh(whole, 'touch /volume/new')).code).not.toBe(0);
    const etc = await runWith({ image: SINGLE, sub: 'etc' });
    expect((await sh(etc, 'grep -c www-data /volume/passwd')).out).toBe('1\n');
    expect((await sh(etc, 'touch /volume/new')).code).not.toBe(0);
  });

  test("a sub path with '..' is refused, naming it", async () => {
    await expect(createWith({ image: MULTILAYER, sub: 'opt/../..' })).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining("image_sub_path 'opt/../..'"),
    });
  });

  test('a sub path missing from the image is refused, naming it', async () => {
    await expect(createWith({ image: MULTILAYER, sub: 'opt/c' })).rejects.toMatchObject({
      code: 3,
      details: expect.stringContaining("image_sub_path 'opt/c' does not exist"),
    });
  });

  test('an image that is not pulled is NOT_FOUND, naming it', async () => {
    await expect(createWith({ image: NOT_PULLED })).rejects.toMatchObject({
      code: 5,
      details: expect.stringContaining(`'${NOT_PULLED}' is not present`),
    });
  });

  test('an image removed while a container mounts it keeps its layers until the container goes', async () => {
    const id = await runWith({ image: MULTILAYER, sub: 'opt/a' });
    const snapshots = path.join(daemon.stateDir, 'snapshots');
    const before = fs.readdirSync(snapshots).sort();
    await cri.image('RemoveImage', { image: { image: MULTILAYER } }, 60_000);
    // busybox's layer is the multilayer image's first: every one of its layers is still in use.
    expect(fs.readdirSync(snapshots).sort()).toEqual(before);
    expect(await sh(id, 'cat /volume/a')).toEqual({ code: 0, out: 'a\n' });
  });

  test('after a daemon restart the volumes still work and their layers are still kept', async () => {
    // The multilayer image's two top layers are its own: only its volume's record keeps them.
    await cri.image('PullImage', { image: { image: MULTILAYER } }, 120_000);
    const id = await runWith({ image: MULTILAYER, sub: 'opt' });
    await cri.image('RemoveImage', { image: { image: MULTILAYER } }, 60_000);
    const snapshots = path.join(daemon.stateDir, 'snapshots');
    const before = fs.readdirSync(snapshots).sort();
    cri.close();
    await daemon.stop();
    daemon = await startDaemon({
      root: daemon.root,
      config: { registry: env!.registry.mirrorConfig() },
      timeoutMs: 30_000,
    });
    cri = criClient(daemon.endpoint);
    env = { ...env!, daemon, cri };
    // Removing another image collects garbage with what the restarted daemon read from disk.
    await cri.image('RemoveImage', { image: { image: SINGLE } }, 60_000);
    expect(fs.readdirSync(snapshots).sort()).toEqual(before);
    expect(await sh(id, 'cat /volume/a/a /volume/b/b')).toEqual({ code: 0, out: 'a\nb\n' });
  });
});
