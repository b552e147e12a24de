// The content store: blobs under <root>/blobs/sha256/<hex>, addressed by digest. A blob is written
// to <root>/ingest/ first and renamed only after its digest and size check out, so a reader never
// sees a partial or unverified blob, and a crash leaves only ingest files that open() removes.
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
  /** Where the bytes go; verified on the way. */
  sink: Writable;
  /** Settles when the verified bytes are on disk (or the check failed). */
  done: Promise<void>;
  /** Renames the verified file into the store; call after the pipeline into sink finished. */
  commit(): Promise<string>;
  /** Removes the temp file; safe to call after commit or twice. */
  abort(): Promise<void>;
}

export class ContentStore {
  readonly blobs: string;
  readonly ingestDir: string;

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

  /** Starts writing a blob whose digest (and size, when known) must match. */
  async ingest(expected: { digest: string; size?: number }, what: string): Promise<Ingest> {
    const final = this.pathOf(expected.digest);
    await fsp.mkdir(path.dirname(final), { recursive: true, mode: 0o700 });
    const temp = path.join(this.ingestDir, `${parseDigest(expected.digest).hex}-${crypto.randomUUID()}`);
    const check = new DigestStream(what, expected);
    const file = fs.createWriteStream(temp, { mode: 0o600 });
    const written = pipeline(check, file);
    written.catch(() => undefined);
    // A refusal can come before the sink ended: close the file before removing it, or the open
    // descriptor would keep the deleted bytes on disk for as long as the daemon runs.
    const abort = async () => {
      check.destroy();
      file.destroy();
      if (!file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
      await fsp.rm(temp, { force: true });
    };
    return {
      sink: check,
      done: written,
      commit: async () => {
        await written;
        await fsp.rename(temp, final);
        return final;
      },
      abort,
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
