// Bombs and lies from a registry: sizes that lie, layers that inflate without end, manifests
// without end, zstd frames that ask for gigabytes of window, pulls that would fill the disk. Each
// is refused with RESOURCE_EXHAUSTED naming the number exceeded, early, and leaves no partial
// content or snapshot. The state directory is a 64 MiB tmpfs: a bomb that got through fills it,
// not the host's disk.
//
// The registry is the small Node server of hostile_registry.ts, not docker-registry: a real
// registry checks what it is given and refuses to serve a blob whose size or digest lies.
import zlib from 'node:zlib';
import { Images } from '../../src/image';
import type { RegistrySettings } from '../../src/image';
import { buildImage, HostileRegistry, layerTar, sha256 } from '../integration/image/hostile_registry';
import {
  openFilesUnder,
  leftovers,
  smallDisk,
  SmallDisk,
  zstdBomb,
  zstdFrameHeader,
  zstdRawBlock,
  tarFileHeader,
} from './image_support';

jest.setTimeout(60_000);

let disk: SmallDisk;
let registry: HostileRegistry;

beforeEach(async () => {
  disk = smallDisk(64);
  registry = new HostileRegistry();
  await registry.start();
});

afterEach(async () => {
  await registry.stop();
  await disk.remove();
});

const open = (settings: Partial<RegistrySettings> = {}) =>
  Images.open({
    stateDir: disk.stateDir,
    registry: {
      retries: 0,
      requestTimeoutSeconds: 10,
      layerExpansionFloorBytes: 1 << 20,
      maxLayerExpansionRatio: 20,
      freeSpaceReserveBytes: 0,
      ...settings,
    } as Partial<RegistrySettings>,
  });

const exhausted = (message: RegExp) =>
  expect.objectContaining({ kind: 'ResourceExhausted', message: expect.stringMatching(message) });

async function refused(images: Images, ref: string, message: RegExp): Promise<void> {
  await expect(images.pull(`${registry.host}/${ref}`)).rejects.toEqual(exhausted(message));
  expect(leftovers(disk.stateDir)).toEqual([]);
  expect(openFilesUnder(disk.stateDir)).toEqual([]);
}

const zerosTar = (bytes: number) => layerTar([{ name: 'zeros', data: Buffer.alloc(bytes) }]);

describe('sizes that lie', () => {
  it('refuses a layer announced larger than registry.maxLayerBytes before downloading it', async () => {
    const img = buildImage([await zerosTar(1 << 20)], { declaredSizes: [1e12] });
    registry.add('lie/huge', '1', img);
    const images = await open();
    await refused(images, 'lie/huge:1', /1000000000000 bytes.*maxLayerBytes/);
    expect(registry.blobRequests).toBe(1); // the config, never the layer
  });

  it('holds a blob announced as huge to the bytes that really came, not the size announced', async () => {
    // 30 gzip members of 64 MiB of zeros: 2 MB that unpack to 1.9 GiB. The manifest announces
    // 32 MiB: a limit taken from that (20 x 32 MiB) lets it fill the disk long before the short
    // blob is noticed, since back-pressure keeps the download in step with the unpack.
    const zeros = zlib.gzipSync(Buffer.alloc(64 << 20));
    const members = Array.from({ length: 30 }, () => zeros);
    const blob = Buffer.concat([zlib.gzipSync(tarFileHeader('zeros', 30 * (64 << 20))), ...members]);
    const img = buildImage([blob], { compress: false, declaredSizes: [32 << 20], diffIds: [sha256('x')] });
    registry.add('lie/bomb', '1', img);
    const images = await open();
    await refused(images, 'lie/bomb:1', /decompression bomb/);
  });

  it('stops a blob as soon as it runs past its announced size', async () => {
    const tarball = await layerTar([{ name: 'data', data: Buffer.alloc(8 << 20, 1) }]);
    const img = buildImage([tarball], { compress: false, declaredSizes: [4096] });
    registry.add('lie/long', '1', img);
    registry.behaviour.set(img.layerDigests[0], { drip: { chunk: 64 << 10, everyMs: 5 } });
    const images = await open();
    await refused(images, 'lie/long:1', /longer than the 4096 bytes announced/);
    expect(registry.blobBytesSent).toBeLessThan(4 << 20);
  });

  it('refuses a layer whose Content-Length is larger than its announced size without reading it', async () => {
    const tarball = await layerTar([{ name: 'data', data: Buffer.alloc(1 << 20, 1) }]);
    const img = buildImage([tarball], { compress: false, declaredSizes: [4096] });
    registry.add('lie/length', '1', img);
    const images = await open();
    await refused(images, 'lie/length:1', /Content-Length of \d+ bytes.*4096 bytes announced/);
  });
});

describe('inflating layers', () => {
  it('stops a gzip layer at registry.maxUncompressedLayerBytes', async () => {
    const img = buildImage([await zerosTar(48 << 20)]);
    registry.add('bomb/gzip', '1', img);
    const images = await open({ maxLayerExpansionRatio: 1e6, maxUncompressedLayerBytes: 8 << 20 });
    await refused(images, 'bomb/gzip:1', /8388608 bytes.*maxUncompressedLayerBytes/);
  });

  it('refuses a zstd frame whose window is larger than 128 MiB before allocating it', async () => {
    // exponent 20, mantissa 4: a 1.5 GiB window, which fzstd would allocate at once.
    const blob = Buffer.concat([zstdFrameHeader(20, 4), zstdRawBlock(tarFileHeader('x', 0), true)]);
    const img = buildImage([blob], { compress: false, diffIds: [sha256('x')] });
    registry.add('bomb/window', '1', img);
    const images = await open();
    await refused(images, 'bomb/window:1', /window of 1610612736 bytes.*134217728/);
  });

  it('stops a zstd bomb of RLE blocks at the limit without holding gigabytes in memory', async () => {
    // 64 Ki blocks of 128 KiB: 8 GiB from 256 KiB. Fed to the decoder at once, one network chunk
    // would become gigabytes of buffers before any limit saw them.
    const blob = zstdBomb(64 << 10);
    const img = buildImage([blob], { compress: false, diffIds: [sha256('x')] });
    registry.add('bomb/zstd', '1', img);
    const images = await open({ maxLayerExpansionRatio: 1e6, maxUncompressedLayerBytes: 32 << 20 });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      await refused(images, 'bomb/zstd:1', /33554432 bytes.*maxUncompressedLayerBytes/);
    } finally {
      clearInterval(sample);
    }
    expect(peak - before).toBeLessThan(512 << 20);
  });
});

describe('manifests and configs', () => {
  it('refuses a manifest larger than 4 MiB from its Content-Length', async () => {
    const img = buildImage([await zerosTar(1024)], { manifestPadding: 5 << 20 });
    registry.add('big/manifest', '1', img);
    const images = await open();
    await refused(images, 'big/manifest:1', /manifest .*larger than the 4194304 bytes/);
  });

  it('stops a manifest sent without a Content-Length at 4 MiB', async () => {
    const img = buildImage([await zerosTar(1024)], { manifestPadding: 64 << 20 });
    registry.manifests.set('big/chunked:1', {
      body: img.manifest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      chunked: true,
    });
    const images = await open();
    await refused(images, 'big/chunked:1', /manifest .*larger than the 4194304 bytes/);
  });

  it('refuses a config announced larger than 4 MiB before fetching it', async () => {
    const img = buildImage([await zerosTar(1024)], { configSize: 5 << 20 });
    registry.add('big/config', '1', img);
    const images = await open();
    await refused(images, 'big/config:1', /config .*5242880 bytes.*4194304/);
    expect(registry.blobRequests).toBe(0);
  });

  it('refuses an index entry announced larger than 4 MiB before fetching it', async () => {
    const img = buildImage([await zerosTar(1024)]);
    registry.add('big/index', 'img', img);
    const entry = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: img.digest,
      size: 8 << 20,
      platform: { os: 'linux', architecture: 'amd64' },
    };
    registry.addIndex(
      'big/index',
      '1',
      Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [entry] })),
    );
    const images = await open();
    await refused(images, 'big/index:1', /8388608 bytes.*4194304/);
  });
});

describe('the free-space reserve of the state directory', () => {
  it('refuses a pull whose layers, as announced, would leave less than the reserve', async () => {
    const img = buildImage([await zerosTar(1024)], { declaredSizes: [40 << 20] });
    registry.add('disk/announced', '1', img);
    const images = await open({ freeSpaceReserveBytes: 32 << 20 });
    await refused(
      images,
      'disk/announced:1',
      /41943040 bytes.*reserve of 33554432 bytes.*freeSpaceReserveBytes/,
    );
    expect(registry.blobRequests).toBe(1);
  });

  it('stops an unpack that would eat into the reserve', async () => {
    // 40 MiB of zeros: 40 KiB gzipped, so the announced size passes; the unpack does not.
    const img = buildImage([await zerosTar(40 << 20)]);
    registry.add('disk/unpack', '1', img);
    const images = await open({ freeSpaceReserveBytes: 32 << 20, maxLayerExpansionRatio: 1e6 });
    await refused(images, 'disk/unpack:1', /reserve of 33554432 bytes.*freeSpaceReserveBytes/);
  });

  it('still pulls a good image afterwards', async () => {
    const img = buildImage([await layerTar([{ name: 'hello', data: 'hi\n' }])]);
    registry.add('ok/img', '1', img);
    const images = await open({ freeSpaceReserveBytes: 32 << 20 });
    expect((await images.pull(`${registry.host}/ok/img:1`)).id).toBe(img.configDigest);
  });
});
