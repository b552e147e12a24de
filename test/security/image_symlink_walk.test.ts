// A layer whose entry names walk symlinks that expand into thousands of components: `s` points to
// `d/../d/../…` (800 round trips), and each entry is named `s/s/…/s/fN`, 40 of them, the most
// links a walk may follow. Every entry then costs 64,000 lstat calls in the applier, which runs
// on the daemon's event loop: 200 header-only entries (a 2 KiB gzip) froze the daemon for a
// minute, and a few megabytes for days. The walk now has a budget of path components per entry,
// and the applier yields to the event loop while it works, so a layer kept just under the budget
// is slow to apply but never stops the daemon answering. Through the real daemon (from dist/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { criClient, TestCriClient } from '../support/cri_client';
import { startDaemon, TestDaemon } from '../support/daemon';
import { buildImage, HostileRegistry } from '../integration/image/hostile_registry';
import { hostileLayer, HostileEntry } from './hostile_layers';
import { leftovers } from './image_support';

jest.setTimeout(180_000);

const FAILED_PRECONDITION = 9;
let registry: HostileRegistry;
let daemon: TestDaemon;
let cri: TestCriClient;
let stateDir: string;

beforeAll(async () => {
  registry = new HostileRegistry();
  await registry.start();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-test-'));
  stateDir = path.join(root, 'state');
  daemon = await startDaemon({
    root,
    timeoutMs: 30_000,
    config: { registry: { retries: 0, freeSpaceReserveBytes: 0 } },
  });
  cri = criClient(daemon.endpoint);
});

afterAll(async () => {
  cri?.close();
  await daemon?.stop();
  await daemon?.cleanup();
  await registry.stop();
});

/** `d`, a link `s` to `d/..` repeated `roundTrips` times, and `count` files under `hops` links. */
async function amplifyingLayer(roundTrips: number, hops: number, count: number): Promise<Buffer> {
  const entries: HostileEntry[] = [
    { name: 'd', type: 'directory' },
    { name: 's', type: 'symlink', linkname: Array.from({ length: roundTrips }, () => 'd/..').join('/') },
  ];
  const through = Array.from({ length: hops }, () => 's').join('/');
  for (let i = 0; i < count; i++) entries.push({ name: `${through}/f${i}`, type: 'file', data: '' });
  return hostileLayer(entries);
}

function pull(ref: string): Promise<ServiceError | undefined> {
  return cri.image('PullImage', { image: { image: ref } }, 150_000).then(
    () => undefined,
    (err: ServiceError) => err,
  );
}

/** Version and ImageStatus answer within 2 s each, five times, while `pulling` runs. */
async function daemonAnswers(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await expect(cri.runtime('Version', {}, 2000)).resolves.toMatchObject({ runtime_name: 'nodelet' });
    await expect(cri.image('ImageStatus', { image: { image: 'busybox' } }, 2000)).resolves.toBeDefined();
  }
}

it('refuses an entry whose walk through symlinks exceeds the budget, and answers other calls meanwhile', async () => {
  registry.add('walk/over', '1', buildImage([await amplifyingLayer(800, 40, 2000)]));
  const pulling = pull(`${registry.host}/walk/over:1`);
  while (registry.blobRequests < 2) await new Promise((r) => setTimeout(r, 10));
  await daemonAnswers();
  const err = await pulling;
  expect(err?.code).toBe(FAILED_PRECONDITION);
  expect(err?.details).toMatch(/layer entry 's\/s\/.*\/f0'.*more than 4096 path components/);
  expect(leftovers(stateDir)).toEqual([]);
});

it('applies a layer just under the budget without stopping the daemon answering', async () => {
  // 500 round trips and 4 hops: 4,000 lookups for each of 1,000 entries.
  registry.add('walk/under', '1', buildImage([await amplifyingLayer(500, 4, 1000)]));
  const pulling = pull(`${registry.host}/walk/under:1`);
  while (registry.blobRequests < 2) await new Promise((r) => setTimeout(r, 10));
  await daemonAnswers();
  expect(await pulling).toBeUndefined();
  const status = await cri.image('ImageStatus', { image: { image: `${registry.host}/walk/under:1` } }, 5000);
  expect(status).toMatchObject({ image: { repo_tags: [`${registry.host}/walk/under:1`] } });
});
