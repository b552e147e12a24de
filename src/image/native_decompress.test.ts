import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { childDecoders } from '../../test/support/child_decoders';
import { AutoDecompress, ExpansionLimit } from './decompress';
import { findNativeDecoders } from './native_decompress';

// Debian's pigz and zstd (scripts/apt-packages-run.txt): the native path is what these test.
const native = findNativeDecoders('auto');

function zstd(data: Buffer, ...args: string[]): Buffer {
  return execFileSync('zstd', ['-c', '-q', ...args], { input: data, maxBuffer: 1 << 30 });
}

/** Feeds `blob` in pieces of random sizes, as a network would, through the native decoders. */
async function decompress(
  blob: Buffer | Readable,
  ...after: Transform[]
): Promise<{ out: Buffer; tool?: string }> {
  const pieces: Buffer[] = [];
  for (let at = 0; Buffer.isBuffer(blob) && at < blob.length;) {
    const n = 1 + crypto.randomInt(70_000);
    pieces.push(blob.subarray(at, (at += n)));
  }
  const out: Buffer[] = [];
  const auto = new AutoDecompress('layer x', { native });
  try {
    await pipeline([
      Buffer.isBuffer(blob) ? Readable.from(pieces) : blob,
      auto,
      ...after,
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          out.push(chunk);
          cb();
        },
      }),
    ]);
  } finally {
    await auto.settled();
  }
  return { out: Buffer.concat(out), tool: auto.nativeTool };
}

const part = Buffer.from(crypto.randomBytes(1 << 19).toString('base64'));
const data = Buffer.concat([part, crypto.randomBytes(1 << 18), part, Buffer.alloc(1 << 20, 7), part]);

afterEach(() => expect(childDecoders()).toEqual([]));

describe('native layer decompression', () => {
  it('finds unpigz and zstd on PATH, and nothing when turned off or absent', () => {
    expect(native.gzip?.[0]).toMatch(/\/unpigz$/);
    expect(native.zstd).toMatch(/\/zstd$/);
    expect(findNativeDecoders('off')).toEqual({});
    expect(findNativeDecoders('auto', '/nonexistent')).toEqual({ gzip: undefined, zstd: undefined });
  });

  it('decompresses gzip through unpigz, several members in a row', async () => {
    const blob = Buffer.concat([zlib.gzipSync(data), zlib.gzipSync(part)]);
    const { out, tool } = await decompress(blob);
    expect(tool).toMatch(/unpigz$/);
    expect(out.equals(Buffer.concat([data, part]))).toBe(true);
  });

  it('ignores bytes after the last gzip member, as zlib does, even when unpigz stops reading early', async () => {
    const blob = Buffer.concat([zlib.gzipSync(data), crypto.randomBytes(5 << 20)]);
    expect((await decompress(blob)).out.equals(data)).toBe(true);
  }, 20_000);

  it('decompresses zstd through zstd, with a 128 MiB window and skippable frames', async () => {
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]), Buffer.from('abc')]);
    const blob = Buffer.concat([zstd(data, '--long=27'), skippable, zstd(part)]);
    const { out, tool } = await decompress(blob);
    expect(tool).toMatch(/zstd$/);
    expect(out.equals(Buffer.concat([data, part]))).toBe(true);
  });

  it('passes a plain tar through without a child', async () => {
    const { out, tool } = await decompress(data);
    expect(tool).toBeUndefined();
    expect(out.equals(data)).toBe(true);
  });

  it('refuses a zstd window over the limit with the message of the JavaScript path', async () => {
    await expect(decompress(zstd(data, '--long=28'))).rejects.toThrow(
      /window of 268435456 bytes, more than the 134217728 bytes allowed/,
    );
  });

  it('refuses a gzip bomb at the expansion limit and kills the decompressor', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(64 << 20));
    const limit = new ExpansionLimit(
      { maxRatio: 10, floorBytes: 1 << 20, maxBytes: 1 << 30 },
      () => bomb.length,
      'layer x',
    );
    await expect(decompress(bomb, limit)).rejects.toThrow(/decompression bomb/);
  });

  it('fails corrupt gzip with what unpigz said', async () => {
    const blob = zlib.gzipSync(data);
    blob.fill(0xff, 100, 200);
    await expect(decompress(blob)).rejects.toThrow(
      /Cannot decompress layer x: unpigz exited with status \d+/,
    );
  });

  it('fails a zstd stream that ends inside a frame', async () => {
    const blob = zstd(data);
    await expect(decompress(blob.subarray(0, blob.length - 10))).rejects.toThrow(/ends inside a frame/);
  });

  it('kills the decompressor when a later stage fails half way', async () => {
    let seen = 0;
    const failing = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        cb(seen > 1 << 20 ? new Error('the applier refused an entry') : null, chunk);
      },
    });
    await expect(decompress(zlib.gzipSync(Buffer.concat([data, data, data])), failing)).rejects.toThrow(
      'the applier refused an entry',
    );
  });

  it('kills the decompressor when the download fails half way, while it waits for input', async () => {
    const blob = zlib.gzipSync(data);
    const broken = Readable.from(
      (async function* () {
        yield blob.subarray(0, 1000);
        await new Promise((r) => setTimeout(r, 200));
        throw new Error('the registry went away');
      })(),
    );
    await expect(decompress(broken)).rejects.toThrow('the registry went away');
  });
});
