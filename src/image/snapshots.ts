// Layer snapshots: one directory per layer chain, <root>/<chainid-hex>/fs, holding that layer's
// files in overlayfs form, so a container's lower dirs are these fs dirs, top layer first.
// A snapshot is built under <root>/.tmp-*/ and renamed into place when complete.
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { sha256Of, parseDigest } from './digest';

/** OCI chain ids: chain[0] = diff[0]; chain[n] = sha256(chain[n-1] + " " + diff[n]). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const diff of diffIds) out.push(out.length === 0 ? diff : sha256Of(`${out[out.length - 1]} ${diff}`));
  return out;
}

export interface SnapshotBuild {
  /** The empty directory to apply the layer into. */
  fs: string;
  /** Renames the build into place (or drops it if another build won the race). */
  commit(): Promise<string>;
  abort(): Promise<void>;
}

export class SnapshotStore {
  constructor(readonly root: string) {}

  /** Creates the root and removes builds an interrupted pull left behind. */
  async open(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
    for (const name of await fsp.readdir(this.root)) {
      if (name.startsWith('.tmp-'))
        await fsp.rm(path.join(this.root, name), { recursive: true, force: true });
    }
  }

  dirOf(chainId: string): string {
    return path.join(this.root, parseDigest(chainId).hex);
  }

  fsOf(chainId: string): string {
    return path.join(this.dirOf(chainId), 'fs');
  }

  async has(chainId: string): Promise<boolean> {
    return fsp.access(this.fsOf(chainId)).then(
      () => true,
      () => false,
    );
  }

  async begin(chainId: string): Promise<SnapshotBuild> {
    const temp = path.join(this.root, `.tmp-${parseDigest(chainId).hex.slice(0, 12)}-${crypto.randomUUID()}`);
    await fsp.mkdir(path.join(temp, 'fs'), { recursive: true, mode: 0o755 });
    await fsp.chmod(temp, 0o700);
    const abort = () => fsp.rm(temp, { recursive: true, force: true });
    return {
      fs: path.join(temp, 'fs'),
      commit: async () => {
        try {
          await fsp.rename(temp, this.dirOf(chainId));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
          await abort();
        }
        return this.fsOf(chainId);
      },
      abort,
    };
  }

  /** Chain ids of every complete snapshot. */
  async list(): Promise<string[]> {
    const names = await fsp.readdir(this.root).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  async remove(chainId: string): Promise<void> {
    // Rename first so a half-removed tree is never mistaken for a snapshot.
    const doomed = path.join(this.root, `.tmp-rm-${crypto.randomUUID()}`);
    try {
      await fsp.rename(this.dirOf(chainId), doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await fsp.rm(doomed, { recursive: true, force: true });
  }
}
