// ImageFsInfo: cri-client calls it to validate every ImageService connection, and the kubelet
// uses it for image garbage collection and eviction, so it answers with real figures.
import type { ImageServiceHandlers } from '../gen/runtime/v1/ImageService';
import type { FilesystemUsage } from '../gen/runtime/v1/FilesystemUsage';
import { CachedDiskUsage } from '../common/disk_usage';
import { nowNs } from '../common/time';
import type { ServiceImpl } from './rpc';

export interface ImageFsInfoOptions {
  /** Where image layers (snapshots) live. */
  imageDir: string;
  /** Where containers' writable layers live. */
  containerDir: string;
}

export function imageFsInfoService(options: ImageFsInfoOptions): ServiceImpl<ImageServiceHandlers> {
  const images = new CachedDiskUsage(options.imageDir);
  const containers = new CachedDiskUsage(options.containerDir);
  const usageOf = async (cache: CachedDiskUsage): Promise<FilesystemUsage> => {
    const usage = await cache.get();
    return {
      timestamp: nowNs().toString(),
      fs_id: { mountpoint: cache.root },
      used_bytes: { value: usage.bytes.toString() },
      inodes_used: { value: usage.inodes.toString() },
    };
  };
  return {
    ImageFsInfo: async () => ({
      image_filesystems: [await usageOf(images)],
      container_filesystems: [await usageOf(containers)],
    }),
  };
}
