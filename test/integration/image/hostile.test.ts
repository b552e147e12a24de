// Pulls from a hostile registry: every lie is caught with a clear message, nothing is written
// outside the store, a failed or cancelled pull leaves no image and no partial files, and the
// next good pull works. Root: the applier sets owners and creates device nodes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Images } from '../../../src/image';
import { buildImage, HostileRegistry, layerTar, sha256 } from './hostile_registry';

let root: string;
let registry: HostileRegistry;
let outside: string;

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-hostile-'));
  outside = path.join(root, 'outside');
  fs.mkdirSync(outside);
  registry = new HostileRegistry();
  await registry.start();
});

afterEach(async () => {
  await registry.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const open = () =>
  Images.open({
    stateDir: path.join(root, 'state'),
    registry: {
      retries: 0,
      requestTimeoutSeconds: 5,
      layerExpansionFloorBytes: 1 << 20,
      maxLayerExpansionRatio: 20,
    },
  });

const good = () =>
  layerTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/hello', data: 'hi\n' },
  ]);

/** What a failed pull must not leave: images, ingest files, snapshots being built, files outside. */
async function expectNothingLeft(images: Images): Promise<void> {
  expect(await images.list()).toEqual([]);
  expect(fs.readdirSync(path.join(root, 'state/content/ingest'))).toEqual([]);
  expect(fs.readdirSync(path.join(root, 'state/snapshots')).filter((n) => n.startsWith('.tmp'))).toEqual([]);
  expect(fs.readdirSync(outside)).toEqual([]);
}

describe('pulling from a hostile registry', () => {
  it('pulls a good image, and a second pull downloads no blob', async () => {
    registry.add('ok/img', '1', buildImage([await good()]));
    const images = await open();
    const image = await images.pull(`${registry.host}/ok/img:1`);
    expect(fs.readFileSync(path.join(images.lowerDirs(image)[0], 'etc/hello'), 'utf8')).toBe('hi\n');
    const before = registry.blobRequests;
    expect((await images.pull(`${registry.host}/ok/img:1`)).id).toBe(image.id);
    expect(registry.blobRequests).toBe(before);
  });

  it('shares one download between concurrent pulls of one image', async () => {
    registry.add('ok/shared', '1', buildImage([await good()]));
    const images = await open();
    const [a, b] = await Promise.all([
      images.pull(`${registry.host}/ok/shared:1`),
      images.pull(`${registry.host}/ok/shared:1`),
    ]);
    expect(a.id).toBe(b.id);
    expect(registry.blobRequests).toBe(2); // one config, one layer
  });

  it('starts a layer again when its transfer breaks off', async () => {
    const big = await layerTar([
      { name: 'data', data: Buffer.from(Array.from({ length: 1 << 17 }, (_, i) => (i * 31) % 253)) },
    ]);
    const img = buildImage([big]);
    registry.add('flaky/img', '1', img);
    registry.behaviour.set(img.layerDigests[0], { dropAfter: 1000, times: 1 });
    const images = await Images.open({ stateDir: path.join(root, 'state'), registry: { retries: 1 } });
    expect((await images.pull(`${registry.host}/flaky/img:1`)).id).toBe(img.configDigest);
  });

  it('refuses a layer whose bytes do not match its digest', async () => {
    const img = buildImage([await good()]);
    registry.add('bad/digest', '1', img);
    // Same length, still valid gzip (only the header's mtime differs), so only the digest can tell.
    const forged = Buffer.from(img.blobs.get(img.layerDigests[0])!);
    forged.writeUInt32LE(12345, 4);
    registry.behaviour.set(img.layerDigests[0], { replaceWith: forged });
    const images = await open();
    await expect(images.pull(`${registry.host}/bad/digest:1`)).rejects.toThrow(
      /Cannot pull .*bad\/digest:1.*expected sha256:/,
    );
    await expectNothingLeft(images);
  });

  it('refuses an image whose config has a field of the wrong shape, naming the field', async () => {
    registry.add('bad/config', '1', buildImage([await good()], { configFields: { Env: 'PATH=/bin' } }));
    const images = await open();
    await expect(images.pull(`${registry.host}/bad/config:1`)).rejects.toThrow(
      expect.objectContaining({
        kind: 'InvalidArgument',
        message: expect.stringMatching(
          /Cannot read the config of .*bad\/config:1: config\.Env: Expected array/,
        ),
      }),
    );
    await expectNothingLeft(images);
  });

  it('refuses a manifest that does not match the digest asked for', async () => {
    const img = buildImage([await good()]);
    registry.add('bad/manifest', '1', img);
    const wrong = sha256('something else');
    registry.manifests.set(`bad/manifest:${wrong}`, {
      body: img.manifest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
    const images = await open();
    await expect(images.pull(`${registry.host}/bad/manifest@${wrong}`)).rejects.toThrow(
      /has digest .* not sha256:/,
    );
    await expectNothingLeft(images);
  });

  it('refuses a truncated blob', async () => {
    const img = buildImage([await good()]);
    registry.add('bad/short', '1', img);
    registry.behaviour.set(img.layerDigests[0], { truncateTo: 20 });
    const images = await open();
    await expect(images.pull(`${registry.host}/bad/short:1`)).rejects.toThrow(/truncated|Cannot pull/);
    await expectNothingLeft(images);
  });

  it("refuses a layer with a '../' entry and writes nothing outside", async () => {
    registry.add(
      'bad/dotdot',
      '1',
      buildImage([await layerTar([{ name: '../../../outside/x', data: 'pwned' }])]),
    );
    const images = await open();
    await expect(images.pull(`${registry.host}/bad/dotdot:1`)).rejects.toThrow(/'\.\.' are refused/);
    await expectNothingLeft(images);
  });

  it('refuses a write through an absolute symlink that points outside', async () => {
    const tarball = await layerTar([
      { name: 'evil', type: 'symlink', linkname: outside },
      { name: 'evil/pwned', data: 'pwned' },
    ]);
    registry.add('bad/symlink', '1', buildImage([tarball]));
    const images = await open();
    await expect(images.pull(`${registry.host}/bad/symlink:1`)).rejects.toThrow(/absolute symlink 'evil'/);
    await expectNothingLeft(images);
  });

  it('refuses a relative symlink that climbs above the root', async () => {
    const tarball = await layerTar([
      { name: 'up', type: 'symlink', linkname: '../../../../../../../..' + outside },
      { name: 'up/pwned', data: 'pwned' },
    ]);
    registry.add('bad/climb', '1', buildImage([tarball]));
    const images = await open();
    await expect(images.pull(`${registry.host}/bad/climb:1`)).rejects.toThrow(/leads above the root/);
    await expectNothingLeft(images);
  });

  it('refuses a hard link to a file outside the layer', async () => {
    registry.add(
      'bad/link',
      '1',
      buildImage([await layerTar([{ name: 'passwd', type: 'link', linkname: '/etc/passwd' }])]),
    );
    const images = await open();
    await expect(images.pull(`${registry.host}/bad/link:1`)).rejects.toThrow(/absolute paths are refused/);
    await expectNothingLeft(images);
  });

  it('refuses a gzip bomb', async () => {
    const bomb = await layerTar([{ name: 'zeros', data: Buffer.alloc(64 << 20) }]);
    registry.add('bad/bomb', '1', buildImage([bomb]));
    const images = await open();
    await expect(images.pull(`${registry.host}/bad/bomb:1`)).rejects.toThrow(/decompression bomb/);
    await expectNothingLeft(images);
  });

  it('leaves no partial image when a pull is cancelled half way, and the next pull succeeds', async () => {
    const big = await layerTar([{ name: 'random', data: crypto.randomBytes(1 << 18) }]);
    const img = buildImage([big]);
    registry.add('slow/img', '1', img);
    registry.behaviour.set(img.layerDigests[0], { stallAfter: 1000 });
    const images = await open();
    const ctl = new AbortController();
    const pulling = images.pull(`${registry.host}/slow/img:1`, { signal: ctl.signal });
    while (registry.blobRequests === 0) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    ctl.abort(new Error('the client went away'));
    await expect(pulling).rejects.toThrow('the client went away');
    // The shared work winds down in the background; wait for its temp files to go.
    for (let i = 0; i < 100 && fs.readdirSync(path.join(root, 'state/snapshots')).length > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await expectNothingLeft(images);
    registry.behaviour.delete(img.layerDigests[0]);
    const reopened = await open();
    expect((await reopened.pull(`${registry.host}/slow/img:1`)).id).toBe(img.configDigest);
  });

  it('asks the token service for a bearer token with the credentials given', async () => {
    registry.requireAuth = { user: 'alice', password: 'secret', token: 'tok123' };
    registry.add('private/img', '1', buildImage([await good()]));
    const images = await open();
    await expect(images.pull(`${registry.host}/private/img:1`)).rejects.toThrow(/credentials were refused/);
    const image = await images.pull(`${registry.host}/private/img:1`, {
      creds: { username: 'alice', password: 'secret' },
    });
    expect(image.repoTags).toEqual([`${registry.host}/private/img:1`]);
  });

  it('picks the linux/amd64 image of an index and records the index digest', async () => {
    const amd = buildImage([await good()]);
    const arm = buildImage([await layerTar([{ name: 'arm', data: 'arm' }])]);
    registry.add('multi/img', 'amd', amd);
    registry.add('multi/img', 'arm', arm);
    const entry = (i: typeof amd, architecture: string) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: i.digest,
      size: i.manifest.length,
      platform: { os: 'linux', architecture },
    });
    const index = Buffer.from(
      JSON.stringify({ schemaVersion: 2, manifests: [entry(arm, 'arm64'), entry(amd, 'amd64')] }),
    );
    registry.addIndex('multi/img', '1', index);
    const images = await open();
    const image = await images.pull(`${registry.host}/multi/img:1`);
    expect(image.id).toBe(amd.configDigest);
    expect(image.repoDigests).toEqual([`${registry.host}/multi/img@${sha256(index)}`]);
  });
});
