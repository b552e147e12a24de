// A container's log as a series of files, oldest first: its rotated files (`<log>.<timestamp>`,
// gzipped but the newest) and then the live log. What the kubelet API reads for `kubectl logs`.
import fs from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import zlib from 'node:zlib';
import { COMPRESS_SUFFIX, TMP_SUFFIX } from './policy';
import { rotatedFiles } from './rotate';

/** The rotated files then the live log (when it exists), oldest first. */
export async function containerLogFiles(log: string): Promise<string[]> {
  const rotated = await rotatedFiles(log);
  const all = new Set(rotated);
  const kept = rotated.filter(
    // A plain file whose .gz exists was being removed after its compression: the .gz holds it all.
    (f) => !f.endsWith(TMP_SUFFIX) && !(!f.endsWith(COMPRESS_SUFFIX) && all.has(f + COMPRESS_SUFFIX)),
  );
  const stamp = (f: string) => (f.endsWith(COMPRESS_SUFFIX) ? f.slice(0, -COMPRESS_SUFFIX.length) : f);
  kept.sort((a, b) => (stamp(a) < stamp(b) ? -1 : stamp(a) > stamp(b) ? 1 : 0));
  return fs.existsSync(log) ? [...kept, log] : kept;
}

export const isCompressed = (file: string) => file.endsWith(COMPRESS_SUFFIX);

/** The file's bytes (decompressed for a .gz), from `start` (of a plain file). */
export function openLogStream(file: string, start = 0): Readable {
  // pipeline, not pipe: a read error reaches the reader through the gunzip stream.
  if (isCompressed(file)) return pipeline(fs.createReadStream(file), zlib.createGunzip(), () => undefined);
  return fs.createReadStream(file, { start });
}
