import pino from 'pino';
import type { Image__Output } from '../gen/runtime/v1/Image';
import { FakeCri } from './fake_cri.testutil';
import { DEFAULT_IMAGE_GC_POLICY, ImageRecord, imagesInUse, planImageGc } from './image_gc';
import { startImageGc } from './image_gc_manager';
import type { ImageGcRuntime } from './image_gc_runtime';

const MB = 1024 * 1024;
const image = (id: string, sizeMb: number, extra: Partial<Image__Output> = {}): Image__Output =>
  ({
    id,
    repo_tags: [`example.com/${id}:1`],
    repo_digests: [],
    size: String(sizeMb * MB),
    pinned: false,
    ...extra,
  }) as Image__Output;
const seen = (firstDetectedMs: number, lastUsedMs = 0): ImageRecord => ({ firstDetectedMs, lastUsedMs });
const NOW = 10 * 60_000;
/** 1000 MB, 90% used: 100 MB must go to get back to 80%. */
const FULL = { capacityBytes: 1000 * MB, availableBytes: 100 * MB };

test('below the high threshold no image is removed', () => {
  const plan = planImageGc({
    images: [image('a', 500)],
    inUse: new Set(),
    records: new Map([['a', seen(0)]]),
    fs: { capacityBytes: 1000 * MB, availableBytes: 200 * MB },
    policy: DEFAULT_IMAGE_GC_POLICY,
    nowMs: NOW,
  });
  expect(plan.remove).toEqual([]);
});

test('above the threshold unused images go least recently used first, never-used ones before all', () => {
  const plan = planImageGc({
    images: [image('used-late', 40), image('used-early', 40), image('never', 40), image('spare', 40)],
    inUse: new Set(),
    records: new Map([
      ['used-late', seen(0, 9 * 60_000)],
      ['used-early', seen(0, 60_000)],
      ['never', seen(0)],
      ['spare', seen(0, 9.5 * 60_000)],
    ]),
    fs: FULL,
    policy: DEFAULT_IMAGE_GC_POLICY,
    nowMs: NOW,
  });
  // 100 MB to free: three images of 40 MB, the most recently used one stays.
  expect(plan.remove).toEqual(['never', 'used-early', 'used-late']);
});

test('images in use, pinned images and images younger than the minimum age are kept', () => {
  const plan = planImageGc({
    images: [
      image('running', 300),
      image('pinned', 300, { pinned: true }),
      image('young', 300),
      image('old', 10),
    ],
    inUse: new Set(['running']),
    records: new Map([
      ['running', seen(0)],
      ['pinned', seen(0)],
      ['young', seen(NOW - 60_000)],
      ['old', seen(0)],
    ]),
    fs: FULL,
    policy: DEFAULT_IMAGE_GC_POLICY,
    nowMs: NOW,
  });
  expect(plan.remove).toEqual(['old']);
});

test('a container naming its image by tag or digest keeps that image in use', () => {
  const images = [
    image('sha256:aa', 1),
    image('sha256:bb', 1, { repo_digests: ['example.com/b@sha256:bd'] }),
  ];
  expect([...imagesInUse(images, ['example.com/sha256:aa:1', 'example.com/b@sha256:bd'])].sort()).toEqual([
    'sha256:aa',
    'sha256:bb',
  ]);
});

/** The fake CRI's containers as the image GC sees them, with an image list and a filesystem. */
function fakeRuntime(cri: FakeCri, images: Image__Output[]): ImageGcRuntime & { removed: string[] } {
  const removed: string[] = [];
  return {
    removed,
    listImages: async () => images.filter((i) => !removed.includes(i.id)),
    removeImage: async (id) => void removed.push(id),
    imageFsInfo: async () =>
      ({ image_filesystems: [{ fs_id: { mountpoint: '/images' } }], container_filesystems: [] }) as never,
    containerImageRefs: async () => [...cri.containers.values()].map((c) => String(c.config.image?.image)),
  };
}

test('a GC round removes the images no container of the runtime uses, exited containers count as users', async () => {
  const cri = new FakeCri();
  const { pod_sandbox_id } = await cri.runPodSandbox({ config: { metadata: { name: 'p' } } });
  const { container_id } = await cri.createContainer({
    pod_sandbox_id,
    config: { metadata: { name: 'c' }, image: { image: 'example.com/app:1' } },
  });
  cri.exitContainer(container_id!, 0);
  const runtime = fakeRuntime(cri, [image('app', 100), image('other', 100)]);
  const gc = startImageGc(runtime, pino({ level: 'silent' }), {
    policy: { highThresholdPercent: 1, lowThresholdPercent: 0, minAgeMs: 0 },
    statFs: () => FULL,
  });
  try {
    expect(await gc.runOnce()).toEqual(['other']);
    expect(runtime.removed).toEqual(['other']);
  } finally {
    gc.stop();
  }
});
