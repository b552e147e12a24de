// The free-space reserve of the state directory's filesystem: a pull may not leave it below
// registry.freeSpaceReserveBytes. Checked from the announced sizes before a download starts, and
// while a layer unpacks (its uncompressed size is known only then), with statfs.
import fsp from 'node:fs/promises';
import { Transform, TransformCallback } from 'node:stream';
import { resourceExhausted } from '../common/errors';

/** Bytes an unprivileged writer may still use on the filesystem holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const st = await fsp.statfs(dir);
  return st.bavail * st.bsize;
}

export function belowReserve(dir: string, free: number, reserve: number, why: string): Error {
  return resourceExhausted(
    `${why}: the filesystem of '${dir}' has ${free} bytes free, and pulls keep a reserve of ${reserve} bytes (registry.freeSpaceReserveBytes)`,
  );
}

/** How many bytes pass between two looks at the free space. */
const CHECK_EVERY = 4 << 20;

/** Passes bytes on, looking at the free space every few MiB; fails once it is under the reserve. */
export class FreeSpaceWatch extends Transform {
  private sinceCheck = 0;

  constructor(
    private readonly dir: string,
    private readonly reserve: number,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.sinceCheck += chunk.length;
    if (this.reserve === 0 || this.sinceCheck < CHECK_EVERY) return done(null, chunk);
    this.sinceCheck = 0;
    freeBytes(this.dir).then(
      (free) =>
        free < this.reserve
          ? done(belowReserve(this.dir, free, this.reserve, `Cannot unpack ${this.what}`))
          : done(null, chunk),
      (err: Error) => done(err),
    );
  }
}
