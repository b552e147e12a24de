// Applies one layer tarball to an empty snapshot directory in overlayfs form: OCI whiteouts become
// what overlayfs reads (a 0/0 character device for a deleted name, trusted.overlay.opaque=y on a
// directory whose lower contents are hidden). Ownership, modes, times, xattrs, hard links,
// symlinks, FIFOs and device nodes are kept. Every path is resolved inside the root (layer_paths).
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import * as tar from 'tar-stream';
import { lsetxattr, makeSpecialFile } from '../runtime/sys';
import {
  entryComponents,
  entryLocation,
  lstatOrUndefined,
  resolveDirInRoot,
  UnsafePathError,
} from './layer_paths';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const XATTR_PREFIX = 'SCHILY.xattr.';
const YIELD_EVERY_MS = 20;

type Body = AsyncIterable<Buffer> & { resume(): void };
type Pax = Record<string, string>;

export interface ApplyResult {
  entries: number;
}

/** Reads a tar stream and applies each entry under `root`; directory times are set last. */
export async function applyLayer(root: string, source: Readable): Promise<ApplyResult> {
  const extract = tar.extract();
  // tar-stream is streamx-based: wire errors by hand rather than through Node's pipeline.
  source.on('error', (err) => extract.destroy(err));
  source.pipe(completeTar()).pipe(extract as unknown as NodeJS.WritableStream);
  const dirTimes: Array<{ target: string; mtime: Date }> = [];
  let entries = 0;
  let lastYield = Date.now();
  try {
    for await (const entry of extract) {
      entries++;
      await applyEntry(root, entry.header, entry as unknown as Body, dirTimes);
      // Entries already buffered follow one another in microtasks, and each one's sync calls can
      // add up: let the daemon answer other calls now and then.
      if (Date.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = Date.now();
      }
    }
  } catch (err) {
    source.destroy();
    extract.destroy();
    throw err;
  }
  // Children changed their directories' mtimes: restore them deepest first.
  for (const { target, mtime } of dirTimes.reverse()) fs.lutimesSync(target, mtime, mtime);
  return { entries };
}

/**
 * Pads the archive to whole blocks and adds the end-of-archive blocks. umoci 0.4 writes layers that
 * stop right after the last file's data; Go's archive/tar (so containerd) accepts them, and so
 * must we. Zero blocks after a proper end are ignored.
 */
function completeTar(): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      cb(null, Buffer.alloc(((512 - (bytes % 512)) % 512) + 1024));
    },
  });
}

async function applyEntry(
  root: string,
  header: tar.Header,
  body: Body,
  dirTimes: Array<{ target: string; mtime: Date }>,
): Promise<void> {
  const name = header.name;
  const loc = entryLocation(root, name);
  if (!loc) {
    // "./" itself: the snapshot root takes the entry's metadata.
    if (header.type === 'directory') setMetadata(root, header, dirTimes, true);
    body.resume();
    return;
  }
  const { dir, base, target } = loc;
  if (base === OPAQUE) {
    lsetxattr(dir, 'trusted.overlay.opaque', Buffer.from('y'));
    body.resume();
    return;
  }
  if (base.startsWith(WHITEOUT)) {
    const hiddenName = base.slice(WHITEOUT.length);
    // '.wh.', '.wh..' and '.wh...' would whiteout the directory itself or its parent: path.join
    // makes the first two the directory, which was then removed with all it held.
    if (hiddenName === '' || hiddenName === '.' || hiddenName === '..') {
      throw new UnsafePathError(
        `Cannot apply layer entry '${name}': a whiteout must name an entry of its directory, not '${hiddenName || '(nothing)'}'`,
      );
    }
    const hidden = path.join(dir, hiddenName);
    removeExisting(hidden);
    makeSpecialFile(hidden, 'char', 0, 0);
    body.resume();
    return;
  }

  const existing = lstatOrUndefined(target);
  if (existing && !(existing.isDirectory() && header.type === 'directory')) removeExisting(target);

  switch (header.type) {
    case 'directory':
      if (!existing || !existing.isDirectory()) fs.mkdirSync(target, { mode: 0o700 });
      break;
    case 'file':
    case 'contiguous-file':
      await writeFile(target, body);
      break;
    case 'symlink':
      fs.symlinkSync(header.linkname ?? '', target);
      break;
    case 'link': {
      const parts = entryComponents(header.linkname ?? '');
      const linkDir = resolveDirInRoot(root, parts.slice(0, -1), name);
      const source = path.join(linkDir, parts[parts.length - 1] ?? '');
      const st = lstatOrUndefined(source);
      if (!st || st.isDirectory()) {
        throw new UnsafePathError(
          `Cannot apply layer entry '${name}': its hard link target '${header.linkname}' is not a file in this layer`,
        );
      }
      fs.linkSync(source, target);
      body.resume();
      return; // a hard link shares the target's metadata
    }
    case 'character-device':
    case 'block-device':
      makeSpecialFile(
        target,
        header.type === 'character-device' ? 'char' : 'block',
        header.devmajor ?? 0,
        header.devminor ?? 0,
      );
      break;
    case 'fifo':
      makeSpecialFile(target, 'fifo');
      break;
    default:
      // pax and GNU long-name headers are folded into the next entry by tar-stream.
      body.resume();
      return;
  }
  body.resume();
  setMetadata(target, header, dirTimes, header.type === 'directory');
}

async function writeFile(target: string, body: AsyncIterable<Buffer>): Promise<void> {
  const fd = fs.openSync(
    target,
    fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
    0o600,
  );
  try {
    for await (const chunk of body) {
      let off = 0;
      while (off < chunk.length) off += fs.writeSync(fd, chunk, off);
    }
  } finally {
    fs.closeSync(fd);
  }
}

function setMetadata(
  target: string,
  header: tar.Header,
  dirTimes: Array<{ target: string; mtime: Date }>,
  isDir: boolean,
): void {
  const pax = (header.pax ?? {}) as Pax;
  const uid = pax.uid !== undefined ? Number(pax.uid) : (header.uid ?? 0);
  const gid = pax.gid !== undefined ? Number(pax.gid) : (header.gid ?? 0);
  fs.lchownSync(target, uid, gid);
  for (const [key, value] of Object.entries(pax)) {
    if (key.startsWith(XATTR_PREFIX))
      lsetxattr(target, key.slice(XATTR_PREFIX.length), Buffer.from(value, 'binary'));
  }
  // chmod after chown: chown clears the setuid and setgid bits.
  if (header.type !== 'symlink') fs.chmodSync(target, (header.mode ?? 0o644) & 0o7777);
  const mtime = pax.mtime !== undefined ? new Date(Number(pax.mtime) * 1000) : (header.mtime ?? new Date(0));
  if (isDir) dirTimes.push({ target, mtime });
  else fs.lutimesSync(target, mtime, mtime);
}

function removeExisting(target: string): void {
  if (lstatOrUndefined(target)) fs.rmSync(target, { recursive: true, force: true });
}
