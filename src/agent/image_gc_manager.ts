// The image GC loop: every period (the kubelet's is 5 minutes) look at the images and the containers,
// remember when each image was last in use, and remove what the plan says when the image filesystem
// is too full. A failed round is logged and the next one tries again.
import type { Logger } from '../common/log';
import { messageOf } from '../common/errors';
import {
  DEFAULT_IMAGE_GC_POLICY,
  ImageGcPolicy,
  ImageRecord,
  imagesInUse,
  planImageGc,
  trackImages,
  type FsStats,
} from './image_gc';
import { ImageGcRuntime, statFs } from './image_gc_runtime';

export interface ImageGcOptions {
  policy?: ImageGcPolicy;
  /** How often GC looks (default 5 min, the kubelet's ImageGCPeriod). */
  periodMs?: number;
  /** For tests: the filesystem's figures instead of statfs. */
  statFs?: (mountpoint: string) => FsStats;
}

export interface ImageGc {
  /** One round now; resolves with the image IDs removed. */
  runOnce(): Promise<string[]>;
  stop(): void;
}

export function startImageGc(runtime: ImageGcRuntime, log: Logger, options: ImageGcOptions = {}): ImageGc {
  const policy = options.policy ?? DEFAULT_IMAGE_GC_POLICY;
  const stat = options.statFs ?? statFs;
  const records = new Map<string, ImageRecord>();
  let running: Promise<string[]> | undefined;

  async function round(): Promise<string[]> {
    const images = await runtime.listImages();
    const inUse = imagesInUse(images, await runtime.containerImageRefs());
    const now = Date.now();
    trackImages(records, images, inUse, now);
    const fsInfo = (await runtime.imageFsInfo()).image_filesystems[0];
    const mountpoint = fsInfo?.fs_id?.mountpoint;
    if (!mountpoint) throw new Error('Cannot collect images: the runtime reports no image filesystem');
    const plan = planImageGc({ images, inUse, records, fs: stat(mountpoint), policy, nowMs: now });
    if (plan.bytesToFree <= 0) return [];
    log.info(
      { usagePercent: plan.usagePercent, bytesToFree: plan.bytesToFree, images: plan.remove.length },
      'image filesystem above the GC threshold: removing unused images',
    );
    const removed: string[] = [];
    for (const id of plan.remove) {
      try {
        await runtime.removeImage(id);
        records.delete(id);
        removed.push(id);
        log.info({ image: id }, 'removed unused image');
      } catch (err) {
        log.warn({ image: id, err: messageOf(err) }, 'cannot remove unused image');
      }
    }
    return removed;
  }

  // Rounds never overlap: a slow runtime makes the next tick wait for the one in flight.
  const runOnce = () => {
    running ??= round().finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(
    () => {
      runOnce().catch((err) => log.warn({ err: messageOf(err) }, 'image garbage collection failed'));
    },
    options.periodMs ?? 5 * 60_000,
  );
  timer.unref();
  return { runOnce, stop: () => clearInterval(timer) };
}
