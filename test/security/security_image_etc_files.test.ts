// Attack: an image whose /etc/passwd is not a small regular file. The daemon reads the image's
// /etc/passwd and /etc/group at CreateContainer, as root, on its event loop: a FIFO there used to
// hang every CRI call for good, /dev/zero (1:5) to read until memory ran out, a 100 MB file to be
// read whole, and a symlink to point at a host file. Each image is pulled through CRI from a
// registry started here; CreateContainer must fail promptly with INVALID_ARGUMENT naming
// the file, while Version keeps answering, and the host file must never be read.
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildImage, HostileRegistry } from '../integration/image/hostile_registry';
import { criClient, type TestCriClient } from '../support/cri_client';
import { stopCriEnv } from '../support/cri_env';
import { startDaemon, type TestDaemon } from '../support/daemon';
import { hostileLayer, type HostileEntry } from './hostile_layers';

jest.setTimeout(180_000);

let registry: HostileRegistry;
let daemon: TestDaemon;
let cri: TestCriClient;
let hostDir: string;
let pod: string;
const podConfig = {
  metadata: { name: 'etc-files', namespace: 'security', uid: 'uid-etc-files', attempt: 0 },
};

beforeAll(async () => {
  hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-hostfiles-'));
  // A host file the image tries to reach: its user must never be found.
  fs.writeFileSync(path.join(hostDir, 'passwd'), 'hostonly:x:4242:4242::/:/bin/sh\n');
  registry = new HostileRegistry();
  await registry.start();
  daemon = await startDaemon({ timeoutMs: 30_000 });
  cri = criClient(daemon.endpoint);
  ({ pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config: podConfig },
    60_000,
  ));
});

afterAll(async () => {
  await stopCriEnv({ cri, daemon, registry });
  if (hostDir) fs.rmSync(hostDir, { recursive: true, force: true });
});

async function publish(name: string, entries: HostileEntry[]): Promise<string> {
  registry.add(`hostile/${name}`, '1', buildImage([await hostileLayer(entries)]));
  const image = `${registry.host}/hostile/${name}:1`;
  await cri.image('PullImage', { image: { image } }, 120_000);
  return image;
}

function createContainer(image: string, name: string, securityContext: object = {}): Promise<unknown> {
  return cri.runtime(
    'CreateContainer',
    {
      pod_sandbox_id: pod,
      config: {
        metadata: { name },
        image: { image },
        command: ['/bin/true'],
        linux: { security_context: securityContext },
      },
      sandbox_config: podConfig,
    },
    10_000,
  );
}

// A blocked open would last until the call's 10 s deadline; half of it tells the two apart even on
// a loaded machine (a CreateContainer there takes over a second). Version's 1 s deadline is what
// shows the event loop never stalled.
const PROMPTLY_MS = 5_000;

/** CreateContainer's error, and whether Version answered within a second all along. */
async function createWhileAskingVersion(
  image: string,
  name: string,
): Promise<{ error: grpc.ServiceError; ms: number }> {
  let settled = false;
  const versions: Promise<unknown>[] = [];
  const asking = (async () => {
    while (!settled) {
      versions.push(cri.runtime('Version', {}, 1_000));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const started = Date.now();
  const error = await createContainer(image, name).then(
    () => {
      throw new Error(`CreateContainer from ${image} succeeded`);
    },
    (err: grpc.ServiceError) => err,
  );
  const ms = Date.now() - started;
  settled = true;
  await asking;
  versions.push(cri.runtime('Version', {}, 1_000));
  await Promise.all(versions);
  return { error, ms };
}

async function expectNoContainers(): Promise<void> {
  const { containers } = await cri.runtime<{ containers: unknown[] }>('ListContainers', {
    filter: { pod_sandbox_id: pod },
  });
  expect(containers).toEqual([]);
}

describe("an image's /etc/passwd that is not a small regular file", () => {
  test('a FIFO fails CreateContainer promptly with INVALID_ARGUMENT, and Version answers throughout', async () => {
    const image = await publish('passwd-fifo', [
      { name: 'etc/', type: 'directory' },
      { name: 'etc/passwd', type: 'fifo' },
    ]);
    const { error, ms } = await createWhileAskingVersion(image, 'fifo');
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/the image's \/etc\/passwd: it is a FIFO, not a regular file/);
    expect(ms).toBeLessThan(PROMPTLY_MS);
    await expectNoContainers();
  });

  test('a character device 1:5 (/dev/zero) is refused without being opened', async () => {
    const image = await publish('passwd-zero', [
      { name: 'etc/', type: 'directory' },
      { name: 'etc/passwd', type: 'character-device', major: 1, minor: 5 },
    ]);
    const { error, ms } = await createWhileAskingVersion(image, 'zero');
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/the image's \/etc\/passwd: it is a character device \(1:5\)/);
    expect(ms).toBeLessThan(PROMPTLY_MS);
    await expectNoContainers();
  });

  test('a 100 MB file is refused as too big', async () => {
    const image = await publish('passwd-huge', [
      { name: 'etc/', type: 'directory' },
      { name: 'etc/passwd', type: 'file', data: Buffer.alloc(100 * 1024 * 1024, 'x') },
    ]);
    const { error, ms } = await createWhileAskingVersion(image, 'huge');
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/the image's \/etc\/passwd: it is 104857600 bytes, more than the 1048576/);
    expect(ms).toBeLessThan(PROMPTLY_MS);
    await expectNoContainers();
  });

  test('a symlink to a host file resolves inside the image: the host’s users are never found', async () => {
    const image = await publish('passwd-symlink', [
      { name: 'etc/', type: 'directory' },
      { name: 'etc/passwd', type: 'symlink', linkname: path.join(hostDir, 'passwd') },
    ]);
    await expect(createContainer(image, 'symlink', { run_as_username: 'hostonly' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/user 'hostonly': no such user in the image's \/etc\/passwd/),
    });
    await expectNoContainers();
  });

  test('a symlinked /etc pointing at a host directory resolves inside the image too', async () => {
    const image = await publish('etc-symlink', [{ name: 'etc', type: 'symlink', linkname: hostDir }]);
    await expect(createContainer(image, 'etcsymlink', { run_as_username: 'hostonly' })).rejects.toMatchObject(
      {
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringMatching(/user 'hostonly': no such user in the image's \/etc\/passwd/),
      },
    );
    await expectNoContainers();
  });

  test("an image's /etc/group that is a FIFO is refused the same way", async () => {
    const image = await publish('group-fifo', [
      { name: 'etc/', type: 'directory' },
      { name: 'etc/passwd', type: 'file', data: 'app:x:1000:1000::/:/bin/sh\n' },
      { name: 'etc/group', type: 'fifo' },
    ]);
    const started = Date.now();
    await expect(createContainer(image, 'groupfifo', { run_as_username: 'app' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/the image's \/etc\/group: it is a FIFO/),
    });
    expect(Date.now() - started).toBeLessThan(PROMPTLY_MS);
    await cri.runtime('Version', {}, 1_000);
    await expectNoContainers();
  });
});
