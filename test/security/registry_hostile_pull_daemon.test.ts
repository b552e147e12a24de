// A hostile pull through the real daemon (from dist/, over its CRI socket): while it unpacks a
// zstd bomb whose every 4 bytes stand for 128 KiB, with an 8 MiB window that fzstd shifts for
// each block, the daemon still answers Version and ImageStatus within 2 s, then refuses the pull
// with RESOURCE_EXHAUSTED naming the cap, leaving no partial content or snapshot. A gzip bomb
// gets the same answer. The daemon's state directory is a 64 MiB tmpfs, so a bomb that got
// through would fill that, not the host's disk.
//
// The registry is the small Node server of hostile_registry.ts, not docker-registry: a real
// registry will not serve a blob that is not what its digest says, and these are built here.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { ServiceError } from '@grpc/grpc-js';
import { criClient, TestCriClient } from '../support/cri_client';
import { startDaemon, TestDaemon } from '../support/daemon';
import { buildImage, HostileRegistry, sha256 } from '../integration/image/hostile_registry';
import { leftovers, tarFileHeader, zstdBomb } from './image_support';

jest.setTimeout(120_000);

const RESOURCE_EXHAUSTED = 8;
let registry: HostileRegistry;
let daemon: TestDaemon;
let cri: TestCriClient;
let stateDir: string;

beforeAll(async () => {
  registry = new HostileRegistry();
  await registry.start();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-test-'));
  stateDir = path.join(root, 'state');
  fs.mkdirSync(stateDir);
  spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0700', 'nodelet-test', stateDir]);
  daemon = await startDaemon({
    root,
    timeoutMs: 30_000,
    config: {
      registry: { retries: 0, maxUncompressedLayerBytes: 32 << 20, freeSpaceReserveBytes: 0 },
    },
  });
  cri = criClient(daemon.endpoint);
});

afterAll(async () => {
  cri?.close();
  await daemon?.stop();
  for (let i = 0; i < 50 && spawnSync('umount', [stateDir]).status !== 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await daemon?.cleanup();
  await registry.stop();
});

function pull(ref: string): Promise<ServiceError | undefined> {
  return cri.image('PullImage', { image: { image: ref } }, 60_000).then(
    () => undefined,
    (err: ServiceError) => err,
  );
}

it('answers other calls while it unpacks a zstd bomb, then refuses it with RESOURCE_EXHAUSTED', async () => {
  const bomb = zstdBomb(64 << 10, 13);
  registry.add('bomb/zstd', '1', buildImage([bomb], { compress: false, diffIds: [sha256('x')] }));
  const pulling = pull(`${registry.host}/bomb/zstd:1`);
  while (registry.blobRequests < 2) await new Promise((r) => setTimeout(r, 10));
  for (let i = 0; i < 5; i++) {
    await expect(cri.runtime('Version', {}, 2000)).resolves.toMatchObject({ runtime_name: 'nodelet' });
    await expect(cri.image('ImageStatus', { image: { image: 'busybox' } }, 2000)).resolves.toBeDefined();
  }
  const err = await pulling;
  expect(err?.code).toBe(RESOURCE_EXHAUSTED);
  expect(err?.details).toMatch(/beyond 33554432 bytes.*maxUncompressedLayerBytes/);
  expect(leftovers(stateDir)).toEqual([]);
});

it('refuses a gzip bomb with RESOURCE_EXHAUSTED at the cap', async () => {
  const zeros = zlib.gzipSync(Buffer.alloc(64 << 20));
  const blob = Buffer.concat([
    zlib.gzipSync(tarFileHeader('zeros', 4 * (64 << 20))),
    zeros,
    zeros,
    zeros,
    zeros,
  ]);
  registry.add('bomb/gzip', '1', buildImage([blob], { compress: false, diffIds: [sha256('x')] }));
  const err = await pull(`${registry.host}/bomb/gzip:1`);
  expect(err?.code).toBe(RESOURCE_EXHAUSTED);
  expect(err?.details).toMatch(/beyond \d+ bytes/);
  expect(leftovers(stateDir)).toEqual([]);
  await expect(cri.runtime('Version', {}, 2000)).resolves.toMatchObject({ runtime_name: 'nodelet' });
});
