// The image records: one JSON file per image (<root>/<id-hex>.json, written to a temp file,
// fsynced and renamed). The daemon and `nodelet image` see each other's changes: a query reads the
// directory again whenever its mtime moved (every write and removal renames or unlinks in it), and
// answers from the records it read last otherwise. A tag belongs to one image: tagging moves it.
// Changes run under StoreLock.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ImageConfig } from './manifest';
import { parseDigest } from './digest';
import { formatReference, repoName, tryParseReference } from './reference';
import { StoreLock } from './store_lock';
import { writeFileAtomic } from '../common/atomic_write';

export interface LayerRecord {
  digest: string;
  mediaType: string;
  size: number;
  diffId: string;
  chainId: string;
}

export interface ImageRecord {
  version: 1;
  /** The config digest, `sha256:<hex>`: the image id the CRI speaks of. */
  id: string;
  /** `docker.io/library/busybox:latest` */
  repoTags: string[];
  /** `docker.io/library/busybox@sha256:…` (the digest of what the tag pointed to: index or manifest). */
  repoDigests: string[];
  /** The platform manifest this image was built from. */
  manifestDigest: string;
  /** Every blob the image holds in the content store (manifests, index, config, layers). */
  blobs: string[];
  /** Bytes of the image content (config and compressed layers), as containerd reports. */
  size: number;
  /** Bottom layer first. */
  layers: LayerRecord[];
  /** The runtime part of the image config (Entrypoint, Cmd, Env, WorkingDir, User, …). */
  config: ImageConfig;
  pinned: boolean;
  createdAt: string;
}

/**
 * A directory's mtime comes from the kernel's coarse clock (one tick, up to 10 ms): a change in the
 * same tick as the one a snapshot saw leaves it as it was. A snapshot is kept only when the mtime it
 * saw is older than this when the read began (as git treats a "racily clean" index entry).
 */
const RACY_NS = 1_000_000_000n;

export class ImageStore {
  readonly lock: StoreLock;
  /** The records as read last, and the directory mtime they were read under. */
  private snapshot?: { mtimeNs: bigint; records: ImageRecord[] };

  constructor(readonly root: string) {
    this.lock = new StoreLock(path.join(root, '.lock'));
  }

  async open(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
    for (const name of await fsp.readdir(this.root)) {
      if (name.endsWith('.tmp')) await fsp.rm(path.join(this.root, name), { force: true });
    }
  }

  /** Every image, oldest first. The records are shared between callers: never change them. */
  async list(): Promise<ImageRecord[]> {
    // One stat instead of a readdir and a read and parse of every record: ImageStatus is asked
    // for every container the kubelet creates, and ListImages every few seconds.
    const readStartedNs = BigInt(Date.now()) * 1_000_000n;
    const { mtimeNs } = fs.statSync(this.root, { bigint: true });
    if (this.snapshot?.mtimeNs === mtimeNs) return [...this.snapshot.records];
    const names = (await fsp.readdir(this.root)).filter((n) => /^[a-f0-9]{64}\.json$/.test(n));
    const out: ImageRecord[] = [];
    for (const name of names) {
      const record = await this.readFile(path.join(this.root, name));
      if (record) out.push(record);
    }
    out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    this.snapshot = readStartedNs - mtimeNs > RACY_NS ? { mtimeNs, records: out } : undefined;
    return [...out];
  }

  async get(id: string): Promise<ImageRecord | undefined> {
    return this.readFile(this.fileOf(id));
  }

  /**
   * Finds an image by full id (`sha256:<hex>` or `<hex>`), tag or digest reference (normalized, so
   * `busybox` works), or a unique id prefix.
   */
  async resolve(ref: string): Promise<ImageRecord | undefined> {
    const images = await this.list();
    const bare = ref.startsWith('sha256:') ? ref.slice(7) : ref;
    if (/^[a-f0-9]{64}$/.test(bare)) {
      const byId = images.find((i) => i.id === `sha256:${bare}`);
      if (byId) return byId;
    }
    const parsed = tryParseReference(ref);
    if (parsed) {
      const name = formatReference(parsed);
      const byDigest = parsed.digest ? `${repoName(parsed)}@${parsed.digest}` : undefined;
      const found = images.find(
        (i) => i.repoTags.includes(name) || (byDigest && i.repoDigests.includes(byDigest)),
      );
      if (found) return found;
    }
    if (/^[a-f0-9]{3,63}$/.test(bare)) {
      const matches = images.filter((i) => i.id.startsWith(`sha256:${bare}`));
      if (matches.length === 1) return matches[0];
    }
    return undefined;
  }

  /** Saves an image, merging names with an existing record of the same id; moves the tag. */
  async put(record: ImageRecord): Promise<ImageRecord> {
    return this.lock.run(async () => {
      const existing = await this.get(record.id);
      const merged: ImageRecord = existing
        ? {
            ...record,
            repoTags: union(existing.repoTags, record.repoTags),
            repoDigests: union(existing.repoDigests, record.repoDigests),
            blobs: union(existing.blobs, record.blobs),
            createdAt: existing.createdAt,
          }
        : record;
      for (const other of await this.list()) {
        if (other.id === record.id) continue;
        const tags = other.repoTags.filter((t) => !record.repoTags.includes(t));
        if (tags.length !== other.repoTags.length) await this.write({ ...other, repoTags: tags });
      }
      await this.write(merged);
      return merged;
    });
  }

  /** Removes an image and every name it has; false when there was none. */
  async remove(id: string): Promise<boolean> {
    return this.lock.run(async () => {
      this.snapshot = undefined;
      try {
        await fsp.unlink(this.fileOf(id));
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw err;
      }
    });
  }

  private fileOf(id: string): string {
    return path.join(this.root, `${parseDigest(id).hex}.json`);
  }

  private async readFile(file: string): Promise<ImageRecord | undefined> {
    try {
      return JSON.parse(await fsp.readFile(file, 'utf8')) as ImageRecord;
    } catch (err) {
      // Removed between readdir and read: not an image any more.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private async write(record: ImageRecord): Promise<void> {
    this.snapshot = undefined;
    writeFileAtomic(this.fileOf(record.id), JSON.stringify(record, null, 2));
  }
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}
