// Garbage collection of content and snapshots no image record and no container uses. Runs under
// the store lock so no record appears half way; what a pull in this process is building (newer
// than the oldest pull in flight) is left alone, since its record is written last.
import fsp from 'node:fs/promises';
import type { ContentStore } from './content_store';
import type { ImageStore } from './image_store';
import type { SnapshotStore } from './snapshots';

/** A kept partial download (content_store.ts) nobody resumed for this long is collected. */
const PARTIAL_IDLE_MS = 60 * 60 * 1000;

export interface GcInputs {
  content: ContentStore;
  snapshots: SnapshotStore;
  images: ImageStore;
  /** Chain ids that containers use as lower dirs, whatever happened to their image. */
  inUseSnapshots: () => Iterable<string>;
  /** Chain ids being built now. */
  inFlightSnapshots: () => Iterable<string>;
  /** Start of the oldest pull in flight; newer blobs and snapshots are kept. */
  busySince: () => number | undefined;
}

export interface GcResult {
  removedBlobs: string[];
  removedSnapshots: string[];
}

export async function collectGarbage(inputs: GcInputs): Promise<GcResult> {
  const { content, snapshots, images } = inputs;
  return images.lock.run(async () => {
    const records = await images.list();
    // Callers may name a snapshot by chain id or by its directory name (the bare hex).
    const asChainId = (s: string) => (s.includes(':') ? s : `sha256:${s}`);
    const keepSnapshots = new Set<string>(
      [...inputs.inUseSnapshots(), ...inputs.inFlightSnapshots()].map(asChainId),
    );
    const keepBlobs = new Set<string>();
    for (const r of records) {
      for (const l of r.layers) keepSnapshots.add(l.chainId);
      for (const b of r.blobs) keepBlobs.add(b);
    }
    const since = inputs.busySince();
    const young = async (file: string) =>
      since !== undefined && ((await fsp.stat(file).catch(() => undefined))?.mtimeMs ?? 0) >= since - 1000;
    const result: GcResult = { removedBlobs: [], removedSnapshots: [] };
    for (const chainId of await snapshots.list()) {
      if (keepSnapshots.has(chainId) || (await young(snapshots.dirOf(chainId)))) continue;
      await snapshots.remove(chainId);
      result.removedSnapshots.push(chainId);
    }
    for (const digest of await content.list()) {
      if (keepBlobs.has(digest) || (await young(content.pathOf(digest)))) continue;
      await content.remove(digest);
      result.removedBlobs.push(digest);
    }
    await content.removeStalePartials(PARTIAL_IDLE_MS);
    return result;
  });
}
