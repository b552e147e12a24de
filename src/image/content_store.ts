// The content store: blobs under <root>/blobs/sha256/<hex>, addressed by digest. A blob is written
// to <root>/ingest/ first and renamed only after its digest and size check out, so a reader never
// sees a partial or unverified blob, and a crash leaves only ingest files that open() removes.
// A download that broke off may keep what it received (<hex>.partial) so that the next attempt
// asks the registry for the rest only, as containerd's resumable ingests do; the kept bytes are
// hashed again when the download resumes, and the whole blob is verified before the rename.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { DigestStream, parseDigest } from './digest';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

export interface Ingest {
  /** Bytes already in the file from an earlier attempt: the sink takes the blob from there on. */
  offset: number;
  /** The kept bytes, for a reader that needs the whole blob (the unpacker); empty when offset is 0. */
  existing(): Readable;
  /** Where the bytes go; verified on the way. */
  sink: Writable;
  /** Settles when the verified bytes are on disk (or the check failed). */
  done: Promise<void>;
  /** Renames the verified file into the store; call after the pipeline into sink finished. */
  commit(): Promise<string>;
  /** Removes the temp file; safe to call after commit or twice. */
  abort(): Promise<void>;
  /** Closes the file but keeps what was written, for a resumed attempt (abort for a plain ingest). */
  keep(): Promise<void>;
}

export class ContentStore {
  readonly blobs: string;
  readonly ingestDir: string;
  /** Digests whose kept partial download an ingest is using now: a second one starts its own file. */
  private readonly resuming = new Set<string>();

  constructor(readonly root: string) {
    this.blobs = path.join(root, 'blobs');
    this.ingestDir = path.join(root, 'ingest');
  }

  /** Creates the layout and removes what an interrupted write left. */
  async open(): Promise<void> {
    await fsp.mkdir(path.join(this.blobs, 'sha256'), { recursive: true, mode: 0o700 });
    await fsp.rm(this.ingestDir, { recursive: true, force: true });
    await fsp.mkdir(this.ingestDir, { recursive: true, mode: 0o700 });
  }

  pathOf(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(this.blobs, algorithm, hex);
  }

  async has(digest: string): Promise<boolean> {
    return fsp.access(this.pathOf(digest)).then(
      () => true,
      () => false,
    );
  }

  async read(digest: string): Promise<Buffer> {
    return fsp.readFile(this.pathOf(digest));
  }

  stream(digest: string): Readable {
    return fs.createReadStream(this.pathOf(digest));
  }

  /**
   * Starts writing a blob whose digest (and size, when known) must match. A `resumable` ingest
   * continues the file an earlier one kept, and may itself be kept.
   */
  async ingest(
    expected: { digest: string; size?: number },
    what: string,
    options: { resumable?: boolean } = {},
  ): Promise<Ingest> {
    const final = this.pathOf(expected.digest);
    await fsp.mkdir(path.dirname(final), { recursive: true, mode: 0o700 });
    const { hex } = parseDigest(expected.digest);
    const resumable = options.resumable === true && !this.resuming.has(expected.digest);
    if (resumable) this.resuming.add(expected.digest);
    const release = () => resumable && this.resuming.delete(expected.digest);
    const temp = path.join(this.ingestDir, resumable ? `${hex}.partial` : `${hex}-${crypto.randomUUID()}`);
    const check = new DigestStream(what, expected);
    let offset = 0;
    try {
      offset = resumable ? await primeFrom(temp, check, expected.size) : 0;
    } catch (err) {
      release();
      throw err;
    }
    const file = fs.createWriteStream(temp, { mode: 0o600, flags: offset > 0 ? 'a' : 'w' });
    const written = pipeline(check, file);
    written.catch(() => undefined);
    // A refusal can come before the sink ended: close the file before removing it, or the open
    // descriptor would keep the deleted bytes on disk for as long as the daemon runs.
    const close = async () => {
      check.destroy();
      file.destroy();
      if (!file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
    };
    const abort = async () => {
      await close();
      await fsp.rm(temp, { force: true });
      release();
    };
    return {
      offset,
      existing: () => (offset > 0 ? fs.createReadStream(temp, { end: offset - 1 }) : Readable.from([])),
      sink: check,
      done: written,
      commit: async () => {
        await written;
        await fsp.rename(temp, final);
        release();
        return final;
      },
      abort,
      keep: async () => {
        if (!resumable) return abort();
        await close();
        release();
      },
    };
  }

  /** Stores bytes held in memory (manifests, configs) after checking their digest. */
  async put(expected: { digest: string; size?: number }, data: Buffer, what: string): Promise<void> {
    if (await this.has(expected.digest)) return;
    const ingest = await this.ingest(expected, what);
    try {
      await pipeline(Readable.from([data]), ingest.sink);
      await ingest.commit();
    } catch (err) {
      await ingest.abort();
      throw err;
    }
  }

  /**
   * Removes kept partial downloads untouched for `idleMs` (a pull that was never retried), except
   * those an ingest of this process uses. A download that still writes touches its file.
   */
  async removeStalePartials(idleMs: number): Promise<void> {
    for (const name of await fsp.readdir(this.ingestDir).catch(() => [] as string[])) {
      const m = /^([a-f0-9]+)\.partial$/.exec(name);
      if (!m || this.resuming.has(`sha256:${m[1]}`)) continue;
      const file = path.join(this.ingestDir, name);
      const st = await fsp.stat(file).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > idleMs) await fsp.rm(file, { force: true });
    }
  }

  /** Every stored digest. */
  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const algorithm of await fsp.readdir(this.blobs).catch(() => [] as string[])) {
      for (const hex of await fsp.readdir(path.join(this.blobs, algorithm))) out.push(`${algorithm}:${hex}`);
    }
    return out;
  }

  async remove(digest: string): Promise<void> {
    await fsp.rm(this.pathOf(digest), { force: true });
  }

  async size(digest: string): Promise<number> {
    return (await fsp.stat(this.pathOf(digest))).size;
  }
}

/**
 * Feeds a kept partial file through the digest check and returns its length; 0 (and the file
 * removed) when there is none or it is longer than the blob can be.
 */
async function primeFrom(file: string, check: DigestStream, size: number | undefined): Promise<number> {
  const st = await fsp.stat(file).catch(() => undefined);
  if (!st || st.size === 0 || (size !== undefined && st.size >= size)) {
    await fsp.rm(file, { force: true });
    return 0;
  }
  let length = 0;
  for await (const chunk of fs.createReadStream(file)) {
    check.prime(chunk as Buffer);
    length += (chunk as Buffer).length;
  }
  return length;
}
