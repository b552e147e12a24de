// SPDY/3 header blocks: a count, then length-prefixed lower-case names and values (several values
// joined by NUL), all inside ONE zlib stream per direction and connection, with the SPDY dictionary
// and a sync flush after each block.
//
// Outgoing blocks are written as stored (uncompressed) deflate blocks: a valid zlib stream any peer
// inflates, produced synchronously and without keeping a deflate context. Each block ends with an
// empty stored block, as Z_SYNC_FLUSH does: Go's flate reader hands data out only at such a flush.
// Incoming blocks go through one persistent inflate context.
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary';

export type HeaderMap = Record<string, string>;

function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

export function encodeHeaderBlock(headers: HeaderMap): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n, 0);
    return b;
  };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(value);
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(raw: Buffer): HeaderMap {
  const headers: HeaderMap = {};
  let pos = 0;
  const u32 = () => {
    if (pos + 4 > raw.length) throw new Error('truncated header block');
    const n = raw.readUInt32BE(pos);
    pos += 4;
    return n;
  };
  const str = () => {
    const len = u32();
    if (pos + len > raw.length) throw new Error('truncated header block');
    const s = raw.toString('utf8', pos, pos + len);
    pos += len;
    return s;
  };
  const count = u32();
  for (let i = 0; i < count; i++) {
    const name = str().toLowerCase();
    headers[name] = str().split('\0').join(',');
  }
  return headers;
}

/** One direction's compressor: stored blocks behind the zlib header sent once. */
export class HeaderCompressor {
  private started = false;

  compress(headers: HeaderMap): Buffer {
    const raw = encodeHeaderBlock(headers);
    const parts: Buffer[] = [];
    if (!this.started) {
      // CMF 0x78 (deflate, 32K window), FLG 0x20 (FDICT, level 0; 0x7820 is a multiple of 31).
      const head = Buffer.from([0x78, 0x20, 0, 0, 0, 0]);
      head.writeUInt32BE(adler32(SPDY3_DICTIONARY), 2);
      parts.push(head);
      this.started = true;
    }
    for (let pos = 0; pos < raw.length; pos += 0xffff)
      parts.push(storedBlock(raw.subarray(pos, pos + 0xffff)));
    parts.push(storedBlock(Buffer.alloc(0)));
    return Buffer.concat(parts);
  }
}

function storedBlock(data: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 0; // BFINAL 0, BTYPE 00, padding to the byte boundary
  head.writeUInt16LE(data.length, 1);
  head.writeUInt16LE(~data.length & 0xffff, 3);
  return Buffer.concat([head, data]);
}

/**
 * One direction's decompressor: a persistent inflate context fed one header block at a time. Async
 * (a flush completes on the zlib thread), so the connection handles frames through a queue.
 */
export class HeaderDecompressor {
  private readonly inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY });

  async decompress(block: Buffer): Promise<HeaderMap> {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer) => chunks.push(c);
    this.inflate.on('data', onData);
    try {
      await new Promise<void>((resolve, reject) => {
        this.inflate.once('error', reject);
        this.inflate.write(block);
        this.inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          this.inflate.off('error', reject);
          resolve();
        });
      });
    } finally {
      this.inflate.off('data', onData);
    }
    return decodeHeaderBlock(Buffer.concat(chunks));
  }

  close(): void {
    this.inflate.close();
  }
}
