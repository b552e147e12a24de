// Files other processes read (records, the conflist, CNI results) are replaced whole.
import fs from 'node:fs';

/** Temp file, fsync, rename: a reader never sees half a file, a crash never leaves one. */
export function writeFileAtomic(file: string, data: string, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    try {
      const bytes = Buffer.from(data);
      // A full disk may take part of a write before it refuses the rest: write until all is in.
      for (let off = 0; off < bytes.length;) off += fs.writeSync(fd, bytes, off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    // No temp file stays behind, whatever failed (ENOSPC on a full disk, most often).
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
