import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContentStore } from './content_store';
import { sha256Of } from './digest';
import { SnapshotStore } from './snapshots';

describe('opening the stores after a crash', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-stores-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('removes half-written blobs and half-built snapshots, keeping complete ones', async () => {
    const content = new ContentStore(path.join(root, 'content'));
    await content.open();
    await content.put({ digest: sha256Of('kept') }, Buffer.from('kept'), 'a blob');
    fs.writeFileSync(path.join(content.ingestDir, 'partial'), 'half');
    const snapshots = new SnapshotStore(path.join(root, 'snapshots'));
    await snapshots.open();
    const done = await snapshots.begin(sha256Of('a'));
    await done.commit();
    await snapshots.begin(sha256Of('b'));

    await new ContentStore(path.join(root, 'content')).open();
    await new SnapshotStore(path.join(root, 'snapshots')).open();
    expect(fs.readdirSync(content.ingestDir)).toEqual([]);
    expect(await content.list()).toEqual([sha256Of('kept')]);
    expect(await snapshots.list()).toEqual([sha256Of('a')]);
    expect(fs.readdirSync(snapshots.root)).toEqual([sha256Of('a').slice(7)]);
  });

  it('refuses to keep a blob whose bytes do not match its digest', async () => {
    const content = new ContentStore(path.join(root, 'content'));
    await content.open();
    await expect(content.put({ digest: sha256Of('x') }, Buffer.from('y'), 'the blob')).rejects.toThrow(
      /Cannot verify the blob/,
    );
    expect(await content.list()).toEqual([]);
    expect(fs.readdirSync(content.ingestDir)).toEqual([]);
  });
});
