import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sha256Of } from './digest';
import { Images } from './images';
import type { ImageRecord } from './image_store';

describe('garbage collection', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-gc-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const snapshot = async (images: Images, chainId: string) =>
    (await images.snapshots.begin(chainId)).commit();

  it('keeps what images and containers use and removes the rest', async () => {
    const images = await Images.open({ stateDir: root });
    const [imageLayer, containerLayer, orphan] = ['a', 'b', 'c'].map((s) => sha256Of(s));
    for (const id of [imageLayer, containerLayer, orphan]) await snapshot(images, id);
    const blob = Buffer.from('layer');
    const stray = Buffer.from('stray');
    await images.content.put({ digest: sha256Of(blob) }, blob, 'blob');
    await images.content.put({ digest: sha256Of(stray) }, stray, 'blob');
    const record: ImageRecord = {
      version: 1,
      id: sha256Of('config'),
      repoTags: ['example.com/a:1'],
      repoDigests: [],
      manifestDigest: sha256Of('manifest'),
      blobs: [sha256Of(blob)],
      size: 5,
      layers: [{ digest: sha256Of(blob), mediaType: 'x', size: 5, diffId: imageLayer, chainId: imageLayer }],
      config: {},
      pinned: false,
      createdAt: new Date().toISOString(),
    };
    await images.store.put(record);
    // The CRI layer names container snapshots by directory name: the bare hex.
    images.setInUseSnapshots(() => [containerLayer.slice(7)]);

    const result = await images.gc();
    expect(result.removedSnapshots).toEqual([orphan]);
    expect(result.removedBlobs).toEqual([sha256Of(stray)]);
    expect((await images.snapshots.list()).sort()).toEqual([imageLayer, containerLayer].sort());
  });

  it('removes an image by any of its names together with its layers', async () => {
    const images = await Images.open({ stateDir: root });
    const layer = sha256Of('only');
    await snapshot(images, layer);
    await images.store.put({
      version: 1,
      id: sha256Of('cfg'),
      repoTags: ['example.com/x:1', 'example.com/x:2'],
      repoDigests: [],
      manifestDigest: sha256Of('m'),
      blobs: [],
      size: 0,
      layers: [{ digest: sha256Of('l'), mediaType: 'x', size: 0, diffId: layer, chainId: layer }],
      config: {},
      pinned: false,
      createdAt: new Date().toISOString(),
    });
    expect(await images.remove('example.com/x:2')).toBe(true);
    expect(await images.list()).toEqual([]);
    expect(await images.snapshots.list()).toEqual([]);
    expect(await images.remove('example.com/x:1')).toBe(false);
  });
});
