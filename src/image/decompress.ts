// Layer decompression chosen by the bytes themselves (gzip, zstd or plain tar), because media types
// lie often enough (docker-archive layers are plain tars called "layer.tar"), and a guard against
// decompression bombs: a layer may not expand beyond a limit derived from its compressed size.
import { Transform, TransformCallback, Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { resourceExhausted } from '../common/errors';
import { MAX_ZSTD_WINDOW_BYTES } from './limits';
import { NativeDecoder, NativeDecoders, zstdArgv } from './native_decompress';
import { ZstdFrameWalker } from './zstd_frames';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
// zlib's default 16 KiB output chunks cost more in per-chunk stream work (and 64 KiB no less) than
// the inflating itself: with 128 KiB a cold pull of a 100 MB image took half the time here.
const GUNZIP_CHUNK = 128 << 10;

export type Compression = 'gzip' | 'zstd' | 'none';

function detectCompression(head: Buffer): Compression {
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return 'gzip';
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

/**
 * fzstd's push API as a Node transform that cannot be made to hold more than a little output:
 * fzstd decodes every complete block of what it is given in one synchronous call, and an RLE block
 * is 4 bytes on the wire for 128 KiB out, so one 64 KiB network chunk could become gigabytes
 * before any limit downstream saw a byte, with the event loop stalled all the while. The frame
 * walker finds the block ends; the decoder gets a few blocks at a time, and waits while the
 * reader is behind. Frames asking for a window over the limit are refused before fzstd sees them.
 */
class ZstdStream extends Transform {
  private readonly z = new ZstdDecompress((data) => {
    if (!this.push(Buffer.from(data))) this.full = true;
  });
  private readonly walker: ZstdFrameWalker;
  private full = false;
  private wake?: () => void;

  constructor(what: string, maxWindow: number) {
    super();
    this.walker = new ZstdFrameWalker(maxWindow, what);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.feed(chunk).then(() => done(), done);
  }

  private async feed(chunk: Buffer): Promise<void> {
    const ends = this.walker.walk(chunk);
    // fzstd shifts the whole window for each block: fewer blocks per call when the window is big.
    const perCall = Math.max(1, Math.min(8, Math.floor((32 << 20) / Math.max(1, this.walker.window))));
    let from = 0;
    for (let k = perCall - 1; k < ends.length; k += perCall) {
      this.z.push(chunk.subarray(from, ends[k]), false);
      from = ends[k];
      await this.breathe();
    }
    if (from < chunk.length) this.z.push(chunk.subarray(from), false);
    await this.breathe();
  }

  /** Waits for the reader when it is behind; otherwise lets the event loop run once. */
  private breathe(): Promise<void> {
    if (this.full) return new Promise((resolve) => (this.wake = resolve));
    return new Promise((resolve) => setImmediate(resolve));
  }

  override _read(size: number): void {
    this.full = false;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    super._read(size);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.walker.end();
      this.z.push(new Uint8Array(0), true);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

export interface DecompressOptions {
  /** The largest zstd window a frame may ask for. */
  maxZstdWindow?: number;
  /** Child-process decompressors to use where found; the JavaScript ones otherwise. */
  native?: NativeDecoders;
}

/**
 * Decompresses whatever arrives, deciding from the first bytes. A transform that buffers until it
 * has four bytes, then forwards through the chosen decoder.
 */
export class AutoDecompress extends Transform {
  private head: Buffer[] = [];
  private readonly maxZstdWindow: number;
  private readonly native: NativeDecoders;

  constructor(
    private readonly what = 'a layer',
    options: DecompressOptions = {},
  ) {
    super();
    this.maxZstdWindow = options.maxZstdWindow ?? MAX_ZSTD_WINDOW_BYTES;
    this.native = options.native ?? {};
  }

  private headLength = 0;
  private decoder?: Duplex;
  compression?: Compression;
  /** The child process that decompresses, when a native tool does. */
  nativeTool?: string;

  /** Settles once the decoder's child process (if any) is gone: a failed unpack waits for it. */
  settled(): Promise<void> {
    return this.decoder instanceof NativeDecoder ? this.decoder.exited : Promise.resolve();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.decoder) return this.feed(chunk, done);
    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength < 4) return done();
    this.start();
    this.feed(Buffer.concat(this.head), done);
    this.head = [];
  }

  override _flush(done: TransformCallback): void {
    if (!this.decoder) {
      this.start();
      if (this.headLength > 0) this.decoder!.write(Buffer.concat(this.head));
    }
    const decoder = this.decoder!;
    // A child decompressor may have finished already, having ignored bytes after its last frame.
    if (decoder.readableEnded) return done();
    decoder.once('end', () => done());
    decoder.once('error', (err) => done(err));
    decoder.end();
  }

  private start(): void {
    this.compression = detectCompression(Buffer.concat(this.head));
    this.decoder = this.chooseDecoder(this.compression);
    // Back-pressure: a paused decoder stops taking input, so a bomb cannot fill memory.
    this.decoder.on('data', (data: Buffer) => {
      if (!this.push(data)) this.decoder!.pause();
    });
    this.decoder.on('error', (err) => this.destroy(err));
  }

  override _read(size: number): void {
    if (this.decoder?.isPaused()) this.decoder.resume();
    super._read(size);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // A native decoder's child is killed here, whichever stage of the unpack failed.
    this.decoder?.destroy();
    done(err);
  }

  private chooseDecoder(compression: Compression): Duplex {
    const { gzip, zstd } = this.native;
    if (compression === 'gzip' && gzip) {
      this.nativeTool = gzip[0];
      return new NativeDecoder(gzip, this.what);
    }
    if (compression === 'zstd' && zstd) {
      this.nativeTool = zstd;
      // The walker still reads the frame headers as they go in, so a window over the limit is
      // refused with the same message as on the JavaScript path; --memory is the second lock.
      const walker = new ZstdFrameWalker(this.maxZstdWindow, this.what);
      return new NativeDecoder(zstdArgv(zstd, this.maxZstdWindow), this.what, walker);
    }
    if (compression === 'gzip') return zlib.createGunzip({ chunkSize: GUNZIP_CHUNK });
    if (compression === 'zstd') return new ZstdStream(this.what, this.maxZstdWindow);
    return new Transform({ transform: (c, _e, cb) => cb(null, c) });
  }

  private feed(chunk: Buffer, done: TransformCallback): void {
    if (this.decoder!.write(chunk)) done();
    else this.decoder!.once('drain', () => done());
  }
}

export interface ExpansionPolicy {
  /** Uncompressed bytes allowed per compressed byte received. */
  maxRatio: number;
  /** Uncompressed bytes always allowed, whatever the ratio says (small layers compress well). */
  floorBytes: number;
  /** Uncompressed bytes never exceeded, whatever the ratio allows. */
  maxBytes: number;
}

/** Counts the bytes that pass: the compressed bytes really received, whatever was announced. */
export class ByteCount extends Transform {
  bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/**
 * Counts uncompressed bytes and fails past the policy's cap, or past `maxRatio` times the
 * compressed bytes received so far (with `floorBytes` always allowed). The ratio is taken from
 * what came, never from the size a manifest announced: a small blob announced as huge would
 * otherwise get a huge limit.
 */
export class ExpansionLimit extends Transform {
  bytes = 0;

  constructor(
    private readonly policy: ExpansionPolicy,
    private readonly compressed: () => number,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    const { maxBytes, maxRatio, floorBytes } = this.policy;
    if (this.bytes > maxBytes) {
      done(
        resourceExhausted(
          `Cannot unpack ${this.what}: it expands beyond ${maxBytes} bytes, the most registry.maxUncompressedLayerBytes allows`,
        ),
      );
      return;
    }
    const received = this.compressed();
    const limit = Math.max(floorBytes, received * maxRatio);
    if (this.bytes > limit) {
      done(
        resourceExhausted(
          `Cannot unpack ${this.what}: it expands beyond ${limit} bytes from ${received} compressed bytes, more than registry.maxLayerExpansionRatio (${maxRatio}) allows (decompression bomb?)`,
        ),
      );
      return;
    }
    done(null, chunk);
  }
}
