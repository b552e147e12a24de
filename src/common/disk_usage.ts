// Bytes and inodes a directory tree holds on disk, as `du` counts them: allocated blocks, hard
// links once. Used for ImageFsInfo and the writable-layer stats.
import fs from 'node:fs/promises';
import path from 'node:path';

export interface DiskUsage {
  bytes: bigint;
  inodes: bigint;
}

async function diskUsage(root: string): Promise<DiskUsage> {
  const seen = new Set<bigint>();
  let bytes = 0n;
  let inodes = 0n;
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      // A directory removed while we walk is simply no longer counted.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      const st = await fs.lstat(full, { bigint: true }).catch(() => undefined);
      if (!st || seen.has(st.ino)) continue;
      if (st.nlink > 1n) seen.add(st.ino);
      bytes += st.blocks * 512n;
      inodes += 1n;
      if (entry.isDirectory()) await walk(full);
    }
  };
  const top = await fs.lstat(root, { bigint: true }).catch(() => undefined);
  if (!top) return { bytes: 0n, inodes: 0n };
  bytes += top.blocks * 512n;
  inodes += 1n;
  await walk(root);
  return { bytes, inodes };
}

/** Remembers a usage figure for a while: the kubelet asks every few seconds, trees change slowly. */
export class CachedDiskUsage {
  private value?: { at: number; usage: Promise<DiskUsage> };

  constructor(
    readonly root: string,
    private readonly maxAgeMs = 5000,
  ) {}

  get(): Promise<DiskUsage> {
    const now = Date.now();
    if (!this.value || now - this.value.at > this.maxAgeMs) {
      const usage = diskUsage(this.root);
      this.value = { at: now, usage };
      usage.catch(() => (this.value = undefined));
    }
    return this.value.usage;
  }
}
