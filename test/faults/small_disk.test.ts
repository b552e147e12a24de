// The state directory on a small filesystem (a 64 MiB tmpfs mounted in the test's root, with the
// container logs on it too). A pull that fills it fails with RESOURCE_EXHAUSTED naming the
// filesystem and leaves no partial blob, temp file or half snapshot, and works once space is back;
// a CreateContainer on a full disk fails cleanly; a running container keeps running while its log
// lines cannot be written, the lines lost are counted in /metrics, and logging resumes.
import { execFileSync } from 'node:child_process';
import { status as grpcStatus } from '@grpc/grpc-js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUSYBOX, scrapeMetrics } from '../support/cri_env';
import { criClient, TestCriClient } from '../support/cri_client';
import { shutdownMonitor, startDaemon, TestDaemon } from '../support/daemon';
import { startRegistry, TestRegistry } from '../support/registry';
import { buildImage, layerTar } from '../integration/image/hostile_registry';

jest.setTimeout(180_000);

const MiB = 1 << 20;

let root: string;
let small: string;
let registry: TestRegistry | undefined;
let daemon: TestDaemon | undefined;
let cri: TestCriClient | undefined;
let mounted = false;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-faults-disk-'));
  small = path.join(root, 'state');
  fs.mkdirSync(small);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0711', 'tmpfs', small]);
  mounted = true;
  registry = await startRegistry({ withFixtures: true });
  daemon = await startDaemon({
    root,
    // freeSpaceReserveBytes 0: the pull runs into the full disk itself, not into the reserve check.
    config: { registry: { ...registry.mirrorConfig(), freeSpaceReserveBytes: 0, retries: 0 } },
    args: ['--metrics-address', '127.0.0.1:0'],
    timeoutMs: 30_000,
  });
  cri = criClient(daemon.endpoint);
  await cri.image('PullImage', { image: { image: BUSYBOX } }, 120_000);
});

afterAll(async () => {
  freeUp();
  if (cri) {
    const { items } = await cri
      .runtime<{ items: { id: string }[] }>('ListPodSandbox', {})
      .catch(() => ({ items: [] }));
    for (const pod of items)
      await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }, 60_000).catch(() => undefined);
    cri.close();
  }
  await daemon?.stop();
  if (daemon) await shutdownMonitor(daemon.runDir);
  if (mounted) execFileSync('umount', [small]);
  await daemon?.cleanup();
  await registry?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const fillers: string[] = [];
afterEach(() => freeUp());
const freeBytes = () => {
  const st = fs.statfsSync(small);
  return st.bavail * st.bsize;
};

/** Takes space until `left` bytes are free (or none, without `left`). */
function fill(left = 0): void {
  const file = path.join(small, `filler-${fillers.length}`);
  fillers.push(file);
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 << 10, 1);
  try {
    while (freeBytes() - chunk.length >= left) fs.writeSync(fd, chunk);
    if (left === 0) for (;;) fs.writeSync(fd, chunk.subarray(0, 4096)); // the last pages too
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
}

function freeUp(): void {
  for (const file of fillers.splice(0)) fs.rmSync(file, { force: true });
}

const list = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

function storeView() {
  const d = daemon!;
  return {
    blobs: list(path.join(d.stateDir, 'content', 'blobs', 'sha256')),
    ingest: list(path.join(d.stateDir, 'content', 'ingest')),
    snapshots: list(path.join(d.stateDir, 'snapshots')),
    images: list(path.join(d.stateDir, 'images')),
  };
}

function rpcError(promise: Promise<unknown>) {
  return promise.then(
    () => undefined,
    (e: { code: number; details: string }) => e,
  );
}

async function runPod(name: string): Promise<{ id: string; config: object }> {
  const config = {
    metadata: { name, namespace: 'faults', uid: `uid-${name}`, attempt: 0 },
    log_directory: path.join(small, 'logs', name),
  };
  const { pod_sandbox_id: id } = await cri!.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config },
    60_000,
  );
  return { id, config };
}

const createRequest = (pod: { id: string; config: object }, name: string, script: string) => ({
  pod_sandbox_id: pod.id,
  config: {
    metadata: { name },
    image: { image: BUSYBOX },
    command: ['sh', '-c', script],
    log_path: `${name}.log`,
  },
  sandbox_config: pod.config,
});

it('a pull that fills the disk fails with RESOURCE_EXHAUSTED, leaves nothing half made, and works once space is back', async () => {
  const tar = await layerTar([{ name: 'big', data: crypto.randomBytes(24 * MiB) }]);
  const image = buildImage([tar]);
  await registry!.push('faults/big', '1', image);
  const ref = `${registry!.host}/faults/big:1`;
  const layer = image.layerDigests[0];

  // Room for the compressed layer, not for it and its unpacked copy.
  fill(32 * MiB);
  const before = storeView();
  const err = await rpcError(cri!.image('PullImage', { image: { image: ref } }, 120_000));
  expect(err?.code).toBe(grpcStatus.RESOURCE_EXHAUSTED);
  expect(err?.details).toContain(`'${daemon!.stateDir}`);
  expect(err?.details).toMatch(/no space left/i);

  const after = storeView();
  expect(after.ingest).toEqual([]);
  expect(after.snapshots).toEqual(before.snapshots);
  expect(after.images).toEqual(before.images);
  expect(after.blobs).not.toContain(layer.slice(7));
  // Whatever the store holds (the manifest and config came first) is complete and verified.
  for (const hex of after.blobs) {
    const bytes = fs.readFileSync(path.join(daemon!.stateDir, 'content', 'blobs', 'sha256', hex));
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(hex);
  }

  freeUp();
  await cri!.image('PullImage', { image: { image: ref } }, 120_000);
  expect(storeView().blobs).toContain(layer.slice(7));
  await cri!.image('RemoveImage', { image: { image: ref } }, 60_000);
});

it('a CreateContainer on a full disk fails cleanly and the same create works once space is back', async () => {
  const pod = await runPod('create');
  const containersBefore = list(path.join(daemon!.stateDir, 'containers'));
  const runBefore = list(path.join(daemon!.runDir, 'containers'));
  const mountsBefore = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(root));
  fill();
  const err = await rpcError(
    cri!.runtime('CreateContainer', createRequest(pod, 'full', 'sleep 1000'), 60_000),
  );
  expect(err?.code).toBe(grpcStatus.RESOURCE_EXHAUSTED);
  expect(err?.details).toMatch(/no space left/i);
  expect(err?.details).toContain(`state directory '${daemon!.stateDir}'`);

  const { containers } = await cri!.runtime<{ containers: unknown[] }>('ListContainers', {});
  expect(containers).toEqual([]);
  expect(list(path.join(daemon!.stateDir, 'containers'))).toEqual(containersBefore);
  expect(list(path.join(daemon!.runDir, 'containers'))).toEqual(runBefore);
  const mountsAfter = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(root));
  expect(mountsAfter.length).toBe(mountsBefore.length);

  freeUp();
  await cri!.runtime('CreateContainer', createRequest(pod, 'full', 'sleep 1000'), 60_000);
  await cri!.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }, 60_000).catch(async () => {
    await cri!.runtime('StopPodSandbox', { pod_sandbox_id: pod.id }, 60_000);
    await cri!.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }, 60_000);
  });
});

it('a running container keeps running on a full disk; its lost log lines are counted and logging resumes', async () => {
  const pod = await runPod('logs');
  // Lines of about 1 KiB, 50 a second: a full tmpfs refuses them within a page or two.
  const script =
    'pad=$(printf "%0900d" 0); i=0; while true; do echo "line $i $pad"; i=$((i+1)); sleep 0.02; done';
  const { container_id: id } = await cri!.runtime<{ container_id: string }>(
    'CreateContainer',
    createRequest(pod, 'talker', script),
    60_000,
  );
  await cri!.runtime('StartContainer', { container_id: id }, 60_000);
  const logFile = path.join(small, 'logs', 'logs', 'talker.log');
  const lines = () =>
    fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean) : [];
  const lastNumber = () => Number(/ line (\d+) /.exec(lines().at(-1) ?? '')?.[1] ?? -1);
  for (let i = 0; i < 100 && lines().length < 5; i++) await new Promise((r) => setTimeout(r, 100));
  expect(lines().length).toBeGreaterThanOrEqual(5);

  const dropped = async () =>
    Number(
      /^nodelet_container_log_lines_dropped_total (\d+)/m.exec(await scrapeMetrics(daemon!))?.[1] ?? NaN,
    );
  expect(await dropped()).toBe(0);
  fill();
  const beforeResume = await (async () => {
    for (let i = 0; i < 100; i++) {
      if ((await dropped()) >= 20) return lastNumber();
      await new Promise((r) => setTimeout(r, 100));
    }
    return lastNumber();
  })();
  expect(await dropped()).toBeGreaterThanOrEqual(20);
  const { status } = await cri!.runtime<{ status: { state: string } }>('ContainerStatus', {
    container_id: id,
  });
  expect(status.state).toBe('CONTAINER_RUNNING');
  // Every line that reached the file is whole: a write the disk cut short was taken back.
  for (const line of lines()) expect(line).toMatch(/^\S+ stdout F line \d+ 0{900}$/);

  freeUp();
  for (let i = 0; i < 100 && lastNumber() <= beforeResume + 5; i++)
    await new Promise((r) => setTimeout(r, 100));
  // The gap in the numbers is the lines lost, and the counter has them all. One read of the
  // file gives both the last number and the count: the container keeps talking meanwhile.
  const numbers = lines().map((l) => Number(/ line (\d+) /.exec(l)?.[1]));
  const resumed = numbers.at(-1) ?? -1;
  expect(resumed).toBeGreaterThan(beforeResume + 5);
  const missing = resumed + 1 - numbers.length;
  expect(missing).toBeGreaterThan(0);
  expect(await dropped()).toBe(missing);
  for (const line of lines()) expect(line).toMatch(/^\S+ stdout F line \d+ 0{900}$/);
  await cri!.runtime('StopPodSandbox', { pod_sandbox_id: pod.id }, 60_000);
  await cri!.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }, 60_000);
});
