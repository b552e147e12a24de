import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ImageStore, type ImageRecord } from './image_store';

function image(hex: string, tag: string): ImageRecord {
  return {
    version: 1,
    id: `sha256:${hex.repeat(64)}`,
    repoTags: [tag],
    repoDigests: [],
    manifestDigest: `sha256:${'f'.repeat(64)}`,
    blobs: [],
    size: 1,
    layers: [],
    config: {},
    pinned: false,
    createdAt: new Date().toISOString(),
  };
}

describe('the image store', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-images-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test("each store sees the other's changes, answered from memory or not", async () => {
    const daemon = new ImageStore(root);
    const cli = new ImageStore(root);
    await daemon.open();
    await cli.put(image('a', 'docker.io/library/a:1'));
    expect((await daemon.list()).map((i) => i.repoTags)).toEqual([['docker.io/library/a:1']]);
    // Old enough that the daemon keeps what it read: the next change must still be seen.
    const past = new Date(Date.now() - 5000);
    fs.utimesSync(root, past, past);
    await daemon.list();
    await cli.put(image('b', 'docker.io/library/b:1'));
    expect((await daemon.resolve('docker.io/library/b:1'))?.id).toBe(`sha256:${'b'.repeat(64)}`);
    fs.utimesSync(root, past, past);
    await daemon.list();
    await cli.remove(`sha256:${'a'.repeat(64)}`);
    expect((await daemon.list()).map((i) => i.repoTags)).toEqual([['docker.io/library/b:1']]);
  });
});
