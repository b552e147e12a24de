import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AutoDecompress } from './decompress';
import { ZstdFrameWalker } from './zstd_frames';

/** Real zstd output, from the zstd tool itself. */
function zstd(data: Buffer, ...args: string[]): Buffer {
  return execFileSync('zstd', ['-c', '-q', ...args], { input: data, maxBuffer: 1 << 30 });
}

/** Feeds `blob` in pieces of random sizes, as a network would. */
async function decompress(blob: Buffer, maxWindow?: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < blob.length;) {
    const n = 1 + crypto.randomInt(70_000);
    pieces.push(blob.subarray(at, (at += n)));
  }
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    new AutoDecompress('layer x', { maxZstdWindow: maxWindow }),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

// Random text that compresses, with long repeats a big window finds.
const part = Buffer.from(crypto.randomBytes(1 << 19).toString('base64'));
const data = Buffer.concat([part, crypto.randomBytes(1 << 18), part, Buffer.alloc(1 << 20, 7), part]);

describe('zstd layers', () => {
  it.each([
    ['the default level', []],
    ['level 19 without a checksum', ['-19', '--no-check']],
    ['a 128 MiB window', ['--long=27']],
    ['a content size in the header', ['--content-size']],
  ])('decompress as zstd wrote them, with %s', async (_what, args) => {
    expect((await decompress(zstd(data, ...(args as string[])))).equals(data)).toBe(true);
  });

  it('decompress several frames and skippable frames in a row', async () => {
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]), Buffer.from('abc')]);
    const blob = Buffer.concat([zstd(part), skippable, zstd(data, '-1'), zstd(Buffer.alloc(0))]);
    expect((await decompress(blob)).equals(Buffer.concat([part, data]))).toBe(true);
  });

  it('refuses a frame written with a window over the limit, before decoding it', async () => {
    await expect(decompress(zstd(data, '--long=28'))).rejects.toThrow(
      /window of 268435456 bytes, more than the 134217728 bytes allowed/,
    );
    await expect(decompress(zstd(data, '--long=21'), 1 << 20)).rejects.toThrow(/window of 2097152 bytes/);
  });

  it('refuses a stream that ends inside a frame', async () => {
    const blob = zstd(data);
    await expect(decompress(blob.subarray(0, blob.length - 10))).rejects.toThrow(/ends inside a frame/);
  });

  it('reports each block end so the decoder can be fed block by block', () => {
    const walker = new ZstdFrameWalker(1 << 27, 'x');
    const blob = zstd(Buffer.alloc(1 << 20, 1), '--no-check');
    const ends = walker.walk(blob);
    expect(ends.length).toBeGreaterThanOrEqual(1);
    expect(ends[ends.length - 1]).toBe(blob.length);
    walker.end();
  });
});
