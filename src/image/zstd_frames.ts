// Walks the frame and block structure of a zstd stream as it arrives, without decoding it, so the
// decoder (fzstd, pure JS) can be fed whole blocks at a time and a frame refused before fzstd
// allocates its window. Layout (RFC 8878): a frame is magic, a header (whose window descriptor or
// content size gives the window), blocks of a 3-byte header each (last flag, type, size) and an
// optional 4-byte checksum; a skippable frame is magic, a 4-byte length and that many bytes.
import { invalidArgument, resourceExhausted } from '../common/errors';

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC = 0x184d2a50; // low 4 bits vary
const MAX_BLOCK = 128 << 10;
const DICT_ID_BYTES = [0, 1, 2, 4];
const CONTENT_SIZE_BYTES = [0, 2, 4, 8];

type State = 'magic' | 'skipLength' | 'skip' | 'frameHeader' | 'blockHeader' | 'blockBody' | 'checksum';

export class ZstdFrameWalker {
  private state: State = 'magic';
  /** Bytes gathered of the header being read. */
  private header: number[] = [];
  /** Bytes left of the skip, block body or checksum being passed over. */
  private remaining = 0;
  private lastBlock = false;
  private checksum = false;
  /** The window of the current frame, and so the most one of its blocks may hold. */
  window = 0;

  constructor(
    private readonly maxWindow: number,
    private readonly what: string,
  ) {}

  /**
   * Walks `chunk`; returns the offsets just past each block that ends in it (where the decoder
   * may emit up to 128 KiB). Throws when a frame asks for too large a window or is malformed.
   */
  walk(chunk: Uint8Array): number[] {
    const ends: number[] = [];
    let i = 0;
    while (i < chunk.length) {
      switch (this.state) {
        case 'magic':
        case 'skipLength':
        case 'blockHeader':
        case 'frameHeader':
          this.header.push(chunk[i++]);
          this.headerByte(ends, i);
          break;
        default: {
          const n = Math.min(this.remaining, chunk.length - i);
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.passed(ends, i);
        }
      }
    }
    return ends;
  }

  /** The stream ended: it must end between frames. */
  end(): void {
    if (this.state !== 'magic' || this.header.length > 0)
      throw invalidArgument(`Cannot decompress ${this.what}: the zstd stream ends inside a frame`);
  }

  private headerByte(ends: number[], at: number): void {
    const h = this.header;
    if (this.state === 'magic' && h.length === 4) {
      const magic = (h[0] | (h[1] << 8) | (h[2] << 16) | (h[3] << 24)) >>> 0;
      this.header = [];
      if (magic === FRAME_MAGIC) this.state = 'frameHeader';
      else if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) this.state = 'skipLength';
      else throw invalidArgument(`Cannot decompress ${this.what}: a zstd frame has a bad magic number`);
    } else if (this.state === 'skipLength' && h.length === 4) {
      this.remaining = (h[0] | (h[1] << 8) | (h[2] << 16) | (h[3] << 24)) >>> 0;
      this.header = [];
      this.state = 'skip';
      if (this.remaining === 0) this.passed(ends, at);
    } else if (this.state === 'frameHeader' && h.length === frameHeaderLength(h[0])) {
      this.startFrame(h);
      this.header = [];
      this.state = 'blockHeader';
    } else if (this.state === 'blockHeader' && h.length === 3) {
      const v = h[0] | (h[1] << 8) | (h[2] << 16);
      this.header = [];
      this.lastBlock = (v & 1) === 1;
      const type = (v >> 1) & 3;
      const size = v >> 3;
      if (type === 3 || size > Math.min(this.window, MAX_BLOCK)) {
        throw invalidArgument(
          `Cannot decompress ${this.what}: a zstd block is malformed or larger than its frame allows`,
        );
      }
      this.remaining = type === 1 ? 1 : size; // an RLE block carries one byte
      this.state = 'blockBody';
      if (this.remaining === 0) this.passed(ends, at);
    }
  }

  private startFrame(h: number[]): void {
    const descriptor = h[0];
    if (descriptor & 0x08)
      throw invalidArgument(`Cannot decompress ${this.what}: a zstd frame header sets its reserved bit`);
    const singleSegment = (descriptor >> 5) & 1;
    this.checksum = ((descriptor >> 2) & 1) === 1;
    let window: number;
    if (singleSegment) {
      // The window is the whole content: its size follows the dictionary id.
      const at = 1 + DICT_ID_BYTES[descriptor & 3];
      const bytes = h.slice(at);
      window = bytes.reduceRight((n, b) => n * 256 + b, 0) + (bytes.length === 2 ? 256 : 0);
    } else {
      const exponent = h[1] >> 3;
      const base = 2 ** (10 + exponent);
      window = base + (base / 8) * (h[1] & 7);
    }
    if (window > this.maxWindow) {
      throw resourceExhausted(
        `Cannot decompress ${this.what}: a zstd frame asks for a window of ${window} bytes, more than the ${this.maxWindow} bytes allowed (zstd's own default limit, --long=27)`,
      );
    }
    this.window = window;
  }

  /** A skip, block body or checksum has been passed over. */
  private passed(ends: number[], at: number): void {
    if (this.state === 'blockBody') {
      ends.push(at);
      this.state = !this.lastBlock ? 'blockHeader' : this.checksum ? 'checksum' : 'magic';
      if (this.state === 'checksum') this.remaining = 4;
      return;
    }
    this.state = 'magic';
  }
}

/** Header length after the magic: descriptor, window byte, dictionary id, content size. */
function frameHeaderLength(descriptor: number): number {
  const singleSegment = (descriptor >> 5) & 1;
  const sizeFlag = descriptor >> 6;
  const contentSize = sizeFlag === 0 ? singleSegment : CONTENT_SIZE_BYTES[sizeFlag];
  return 1 + (singleSegment ? 0 : 1) + DICT_ID_BYTES[descriptor & 3] + contentSize;
}
