// Image garbage collection as the kubelet's image_gc_manager does it: when the image filesystem is
// fuller than the high threshold, images no container uses (and not pinned, and old enough) are
// removed, least recently used first, until usage is back at the low threshold.
import type { Image__Output } from '../gen/runtime/v1/Image';

export interface ImageGcPolicy {
  /** Percent of the image filesystem's capacity at which GC starts (kubelet default 85). */
  highThresholdPercent: number;
  /** Percent GC frees down to (kubelet default 80). */
  lowThresholdPercent: number;
  /** Images first seen less than this long ago are kept (kubelet default 2 min). */
  minAgeMs: number;
}

export const DEFAULT_IMAGE_GC_POLICY: ImageGcPolicy = {
  highThresholdPercent: 85,
  lowThresholdPercent: 80,
  minAgeMs: 2 * 60_000,
};

/** What the agent remembers of an image: when it was first seen, and last seen in use (0: never). */
export interface ImageRecord {
  firstDetectedMs: number;
  lastUsedMs: number;
}

export interface FsStats {
  capacityBytes: number;
  availableBytes: number;
}

export interface ImageGcPlan {
  /** Image IDs to remove, in order. */
  remove: string[];
  /** Bytes the plan wants freed (0 below the high threshold). */
  bytesToFree: number;
  usagePercent: number;
}

/** The kubelet's arithmetic: usage from available/capacity, freeing down to the low threshold. */
export function bytesToFree(fs: FsStats, policy: ImageGcPolicy): { usagePercent: number; bytes: number } {
  if (fs.capacityBytes <= 0) return { usagePercent: 0, bytes: 0 };
  const usagePercent = 100 - Math.floor((fs.availableBytes * 100) / fs.capacityBytes);
  if (usagePercent < policy.highThresholdPercent) return { usagePercent, bytes: 0 };
  const bytes = (fs.capacityBytes * (100 - policy.lowThresholdPercent)) / 100 - fs.availableBytes;
  return { usagePercent, bytes: Math.max(0, bytes) };
}

/** Every name a container may refer to its image by: its ID, tags and digests. */
function imageNames(image: Image__Output): string[] {
  return [image.id, ...image.repo_tags, ...image.repo_digests];
}

export function planImageGc(input: {
  images: Image__Output[];
  /** Image IDs some container (running or not) uses. */
  inUse: Set<string>;
  records: Map<string, ImageRecord>;
  fs: FsStats;
  policy: ImageGcPolicy;
  nowMs: number;
}): ImageGcPlan {
  const { usagePercent, bytes } = bytesToFree(input.fs, input.policy);
  const plan: ImageGcPlan = { remove: [], bytesToFree: bytes, usagePercent };
  if (bytes <= 0) return plan;
  const candidates = input.images
    .filter((i) => !input.inUse.has(i.id) && !i.pinned)
    .map((i) => ({
      image: i,
      record: input.records.get(i.id) ?? { firstDetectedMs: input.nowMs, lastUsedMs: 0 },
    }))
    .filter((c) => input.nowMs - c.record.firstDetectedMs >= input.policy.minAgeMs)
    // Least recently used first; never used counts as oldest; ties by first detection.
    .sort(
      (a, b) =>
        a.record.lastUsedMs - b.record.lastUsedMs || a.record.firstDetectedMs - b.record.firstDetectedMs,
    );
  let freed = 0;
  for (const c of candidates) {
    if (freed >= bytes) break;
    plan.remove.push(c.image.id);
    freed += Number(c.image.size) || 0;
  }
  return plan;
}

/** Updates the records from one look at the runtime: new images are detected, used ones touched. */
export function trackImages(
  records: Map<string, ImageRecord>,
  images: Image__Output[],
  inUse: Set<string>,
  nowMs: number,
): void {
  const present = new Set(images.map((i) => i.id));
  for (const id of [...records.keys()]) if (!present.has(id)) records.delete(id);
  for (const i of images) {
    const r = records.get(i.id) ?? { firstDetectedMs: nowMs, lastUsedMs: 0 };
    if (inUse.has(i.id)) r.lastUsedMs = nowMs;
    records.set(i.id, r);
  }
}

/** Maps the containers' image references (ID, ref, tag or digest) to the IDs of the images listed. */
export function imagesInUse(images: Image__Output[], containerImageRefs: string[]): Set<string> {
  const idByName = new Map<string, string>();
  for (const i of images) for (const n of imageNames(i)) idByName.set(n, i.id);
  const used = new Set<string>();
  for (const ref of containerImageRefs) {
    const id = idByName.get(ref);
    if (id) used.add(id);
  }
  return used;
}
