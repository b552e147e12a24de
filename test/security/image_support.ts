// Helpers for the hostile-image tests: a small tmpfs to hold the state directory (so an attack
// that the daemon fails to stop fills 64 MiB of memory-backed disk, never the host's disk), the
// check that a refused pull left nothing behind, and zstd frames built by hand (the zstd tool
// never writes the lying frames these tests need).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SmallDisk {
  root: string;
  stateDir: string;
  /** Unmounts (waiting for files still open there to close) and removes the root. */
  remove(): Promise<void>;
}

/** Files this process still holds open under `dir`. */
export function openFilesUnder(dir: string): string[] {
  return fs
    .readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((p) => p.startsWith(dir));
}

/** A temp root whose `state` directory is a tmpfs of `sizeMiB`. */
export function smallDisk(sizeMiB = 64): SmallDisk {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-bomb-'));
  const stateDir = path.join(root, 'state');
  fs.mkdirSync(stateDir);
  const mounted = spawnSync('mount', [
    '-t',
    'tmpfs',
    '-o',
    `size=${sizeMiB}m,mode=0700`,
    'nodelet-test',
    stateDir,
  ]);
  if (mounted.status !== 0) throw new Error(`Cannot mount a tmpfs: ${mounted.stderr.toString()}`);
  return {
    root,
    stateDir,
    remove: async () => {
      for (let i = 0; i < 50 && spawnSync('umount', [stateDir]).status !== 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      spawnSync('umount', ['-l', stateDir]);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** What a refused pull must not leave in the state directory: images, ingest files, snapshots. */
export function leftovers(stateDir: string): string[] {
  const found: string[] = [];
  const list = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);
  for (const n of list(path.join(stateDir, 'images'))) if (n.endsWith('.json')) found.push(`images/${n}`);
  for (const n of list(path.join(stateDir, 'content/ingest'))) found.push(`content/ingest/${n}`);
  for (const n of list(path.join(stateDir, 'snapshots'))) found.push(`snapshots/${n}`);
  return found;
}

export const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** A zstd frame header with a window descriptor: window = 2^(10+exponent) * (1 + mantissa/8). */
export function zstdFrameHeader(exponent: number, mantissa = 0): Buffer {
  // Frame_Header_Descriptor 0: no single segment, no checksum, no dictionary, no content size.
  return Buffer.concat([ZSTD_MAGIC, Buffer.from([0x00, (exponent << 3) | mantissa])]);
}

function blockHeader(last: boolean, type: 0 | 1, size: number): Buffer {
  const v = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);
}

/** A raw block: the bytes as they are. */
export function zstdRawBlock(data: Buffer, last = false): Buffer {
  return Buffer.concat([blockHeader(last, 0, data.length), data]);
}

/** An RLE block: one byte that stands for `size` copies of itself (4 bytes on the wire). */
export function zstdRleBlock(byte: number, size: number, last = false): Buffer {
  return Buffer.concat([blockHeader(last, 1, size), Buffer.from([byte])]);
}

/** A 512-byte tar header of one regular file, so a bomb looks like a layer to the applier. */
export function tarFileHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/**
 * A zstd layer of `blocks` RLE blocks of 128 KiB zeros after a tar header announcing one huge
 * file: about 4 bytes on the wire per 128 KiB unpacked.
 */
export function zstdBomb(blocks: number, windowExponent = 7): Buffer {
  const parts = [zstdFrameHeader(windowExponent), zstdRawBlock(tarFileHeader('zeros', blocks * (128 << 10)))];
  for (let i = 0; i < blocks; i++) parts.push(zstdRleBlock(0, 128 << 10, i === blocks - 1));
  return Buffer.concat(parts);
}
