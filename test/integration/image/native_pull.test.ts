// Pulls with the layers decompressed by unpigz and zstd (registry.nativeDecompress: auto) and by
// the daemon's own zlib and fzstd (off): the same images unpack the same, and hostile layers are
// refused the same way, with nothing left in the stores and no decompressor process left behind.
// Root: the applier sets owners.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Images } from '../../../src/image';
import { childDecoders } from '../../support/child_decoders';
import { buildImage, HostileRegistry, layerTar, sha256 } from './hostile_registry';

let root: string;
let registry: HostileRegistry;

beforeEach(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-native-pull-'));
  registry = new HostileRegistry();
  await registry.start();
});

afterEach(async () => {
  await registry.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const zstd = (data: Buffer, ...args: string[]) =>
  execFileSync('zstd', ['-c', '-q', ...args], { input: data, maxBuffer: 1 << 30 });

/** Hex text: compresses to about half, big enough to take many reads of the pipes. */
const text = Buffer.from(crypto.randomBytes(300_000).toString('hex'));

async function expectNothingLeft(images: Images): Promise<void> {
  expect(await images.list()).toEqual([]);
  expect(fs.readdirSync(path.join(root, 'state/content/ingest'))).toEqual([]);
  expect(fs.readdirSync(path.join(root, 'state/snapshots')).filter((n) => n.startsWith('.tmp'))).toEqual([]);
  expect(childDecoders()).toEqual([]);
}

describe.each(['auto', 'off'] as const)('pulls with registry.nativeDecompress: %s', (nativeDecompress) => {
  const open = () =>
    Images.open({
      stateDir: path.join(root, 'state'),
      registry: {
        retries: 0,
        requestTimeoutSeconds: 5,
        layerExpansionFloorBytes: 1 << 20,
        maxLayerExpansionRatio: 20,
        nativeDecompress,
      },
    });

  it('uses the native tools only when asked to', async () => {
    const images = await open();
    expect(images.native.gzip !== undefined).toBe(nativeDecompress === 'auto');
    expect(images.native.zstd !== undefined).toBe(nativeDecompress === 'auto');
  });

  it('unpacks gzip and zstd layers of one image, in parallel', async () => {
    const a = await layerTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/a', data: text },
    ]);
    const b = await layerTar([{ name: 'b', data: Buffer.concat([text, text]) }]);
    const c = await layerTar([{ name: 'etc/.wh.a', data: '' }]);
    const img = buildImage([zlib.gzipSync(a), zstd(b, '--long=27'), zlib.gzipSync(c)], {
      compress: false,
      diffIds: [sha256(a), sha256(b), sha256(c)],
    });
    registry.add('ok/mixed', '1', img);
    const images = await open();
    const image = await images.pull(`${registry.host}/ok/mixed:1`);
    const [top, middle, bottom] = images.lowerDirs(image);
    expect(fs.readFileSync(path.join(bottom, 'etc/a')).equals(text)).toBe(true);
    expect(fs.statSync(path.join(middle, 'b')).size).toBe(2 * text.length);
    expect(fs.statSync(path.join(top, 'etc/a')).isCharacterDevice()).toBe(true);
    expect(childDecoders()).toEqual([]);
  });

  it('refuses a gzip bomb', async () => {
    const bomb = await layerTar([{ name: 'zeros', data: Buffer.alloc(64 << 20) }]);
    registry.add('bad/bomb', '1', buildImage([bomb]));
    const images = await open();
    await expect(images.pull(`${registry.host}/bad/bomb:1`)).rejects.toThrow(/decompression bomb/);
    await expectNothingLeft(images);
  });

  it('refuses a zstd layer whose window is over the limit, before decoding it', async () => {
    const tar = await layerTar([{ name: 'data', data: text }]);
    const img = buildImage([zstd(tar, '--long=28')], { compress: false, diffIds: [sha256(tar)] });
    registry.add('bad/window', '1', img);
    const images = await open();
    await expect(images.pull(`${registry.host}/bad/window:1`)).rejects.toThrow(
      /a zstd frame asks for a window of 268435456 bytes, more than the 134217728 bytes allowed/,
    );
    await expectNothingLeft(images);
  });

  it('refuses a layer whose bytes do not match its digest', async () => {
    const img = buildImage([await layerTar([{ name: 'data', data: text }])]);
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

  it('refuses a corrupt gzip layer', async () => {
    const tar = await layerTar([{ name: 'data', data: text }]);
    const corrupt = zlib.gzipSync(tar);
    corrupt.fill(0xff, 200, 400);
    registry.add('bad/corrupt', '1', buildImage([corrupt], { compress: false, diffIds: [sha256(tar)] }));
    const images = await open();
    // zlib's own message in the daemon (which explain() prefixes with the image), unpigz's here.
    // Which of zlib's data errors comes first depends on the random text under the overwritten
    // bytes: one of its "invalid ..." messages, or the CRC's "incorrect data check", and so on.
    await expect(images.pull(`${registry.host}/bad/corrupt:1`)).rejects.toThrow(
      nativeDecompress === 'auto'
        ? /Cannot pull .*bad\/corrupt:1: .*unpigz exited with status/
        : /invalid |incorrect (data|length) check|too many length or distance symbols/,
    );
    await expectNothingLeft(images);
  });

  it("refuses a layer with a '../' entry, the decompressor still running", async () => {
    // The bad entry comes first and a long body follows: the child is mid-stream when the
    // applier refuses, and must be killed.
    const tar = await layerTar([
      { name: '../escape', data: 'x' },
      { name: 'data', data: Buffer.concat([text, text, text, text]) },
    ]);
    registry.add('bad/path', '1', buildImage([tar]));
    const images = await open();
    await expect(images.pull(`${registry.host}/bad/path:1`)).rejects.toThrow(/'\.\.' are refused/);
    await expectNothingLeft(images);
    expect(fs.existsSync(path.join(root, 'state', 'escape'))).toBe(false);
  });
});
