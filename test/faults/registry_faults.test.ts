// A registry that dies mid-layer: the real docker-registry behind the test proxy, which closes the
// connection after part of a layer or stops sending. The pull fails within a bound with an error
// that names the blob and what happened, keeps what it received, and the retry asks only for the
// rest (HTTP Range, answered 206) and verifies the whole blob's digest. A registry that ignores
// ranges (answers 200) gets the blob again from the start.
import { status as grpcStatus } from '@grpc/grpc-js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { criClient, TestCriClient } from '../support/cri_client';
import { startDaemon, TestDaemon } from '../support/daemon';
import { startRegistry, TestRegistry } from '../support/registry';
import { buildImage, layerTar } from '../integration/image/hostile_registry';

jest.setTimeout(120_000);

const STALL_SECONDS = 2;
const LAYER_BYTES = 4 << 20;

let registry: TestRegistry;
let daemon: TestDaemon;
let cri: TestCriClient;

beforeAll(async () => {
  registry = await startRegistry({ faults: true });
  daemon = await startDaemon({
    config: { registry: { retries: 0, pullProgressTimeoutSeconds: STALL_SECONDS } },
    timeoutMs: 30_000,
  });
  cri = criClient(daemon.endpoint);
});

afterAll(async () => {
  cri?.close();
  await daemon?.stop();
  await daemon?.cleanup();
  await registry?.stop();
});

/** Pushes a one-layer image of incompressible bytes; returns its reference and layer digest. */
async function pushImage(name: string) {
  const tar = await layerTar([{ name: 'blob', data: crypto.randomBytes(LAYER_BYTES) }]);
  const image = buildImage([tar]);
  await registry.push(`faults/${name}`, '1', image);
  return {
    ref: `${registry.host}/faults/${name}:1`,
    layer: image.layerDigests[0],
    size: image.blobs.get(image.layerDigests[0])!.length,
  };
}

async function pullError(ref: string) {
  const began = Date.now();
  const err = await cri.image('PullImage', { image: { image: ref } }, 60_000).then(
    () => undefined,
    (e: { code: number; details: string }) => e,
  );
  return { err, seconds: (Date.now() - began) / 1000 };
}

const ingestFiles = () =>
  fs.readdirSync(path.join(daemon.stateDir, 'content', 'ingest')).map((name) => ({
    name,
    size: fs.statSync(path.join(daemon.stateDir, 'content', 'ingest', name)).size,
  }));
const tempSnapshots = () =>
  fs.readdirSync(path.join(daemon.stateDir, 'snapshots')).filter((n) => n.startsWith('.tmp'));

const blobGets = (layer: string) =>
  registry.faults!.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${layer}`));

/** The retry succeeds and the blob in the store is the one the manifest names, byte for byte. */
async function pullAndVerify(ref: string, layer: string) {
  await cri.image('PullImage', { image: { image: ref } }, 60_000);
  const stored = fs.readFileSync(path.join(daemon.stateDir, 'content', 'blobs', 'sha256', layer.slice(7)));
  expect(`sha256:${crypto.createHash('sha256').update(stored).digest('hex')}`).toBe(layer);
  expect(ingestFiles()).toEqual([]);
  expect(tempSnapshots()).toEqual([]);
}

it('a connection closed mid-layer fails the pull clearly, and the retry asks only for the rest', async () => {
  const { ref, layer, size } = await pushImage('closed');
  registry.faults!.breakNext(layer, { closeAfter: 1 << 20 });
  const { err, seconds } = await pullError(ref);
  expect(err?.code).toBe(grpcStatus.UNAVAILABLE);
  expect(err?.details).toContain(layer);
  expect(err?.details).toMatch(new RegExp(`connection closed after \\d+ of ${size} bytes`));
  expect(seconds).toBeLessThan(15);
  // What came is kept for the retry; nothing unverified is in the store or half unpacked.
  const kept = ingestFiles();
  expect(kept).toHaveLength(1);
  expect(kept[0].size).toBeGreaterThan(0);
  expect(kept[0].size).toBeLessThanOrEqual(1 << 20);
  expect(tempSnapshots()).toEqual([]);

  await pullAndVerify(ref, layer);
  const gets = blobGets(layer);
  expect(gets).toHaveLength(2);
  expect(gets[0]).toMatchObject({ range: undefined, status: 200 });
  expect(gets[1]).toMatchObject({ range: `bytes=${kept[0].size}-`, status: 206 });
});

it('a registry that stalls fails the pull after pullProgressTimeoutSeconds, and the retry resumes', async () => {
  const { ref, layer } = await pushImage('stalled');
  registry.faults!.breakNext(layer, { stallAfter: 512 << 10 });
  const { err, seconds } = await pullError(ref);
  expect(err?.code).toBe(grpcStatus.UNAVAILABLE);
  expect(err?.details).toContain(layer);
  expect(err?.details).toContain(`no data for ${STALL_SECONDS} s`);
  expect(seconds).toBeLessThan(STALL_SECONDS + 15);
  const kept = ingestFiles();
  expect(kept).toHaveLength(1);
  expect(kept[0].size).toBeGreaterThan(0);

  await pullAndVerify(ref, layer);
  const gets = blobGets(layer);
  expect(gets).toHaveLength(2);
  expect(gets[1]).toMatchObject({ range: `bytes=${kept[0].size}-`, status: 206 });
});

it('a registry without range support sends the whole blob again, and the pull verifies it', async () => {
  const { ref, layer } = await pushImage('norange');
  registry.faults!.breakNext(layer, { closeAfter: 1 << 20 });
  expect((await pullError(ref)).err?.code).toBe(grpcStatus.UNAVAILABLE);
  const kept = ingestFiles();
  expect(kept).toHaveLength(1);
  registry.faults!.ignoreRanges = true;
  try {
    await pullAndVerify(ref, layer);
  } finally {
    registry.faults!.ignoreRanges = false;
  }
  const gets = blobGets(layer);
  expect(gets).toHaveLength(2);
  expect(gets[1]).toMatchObject({ range: `bytes=${kept[0].size}-`, status: 200 });
});
