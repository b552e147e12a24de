// The whole ImageService: one module per group of RPCs, merged. StreamImages stays unimplemented.
import type { ImageServiceHandlers } from '../gen/runtime/v1/ImageService';
import type { Images } from '../image';
import { imageFsInfoService } from './image_fs_info';
import { imagePullService } from './image_pull';
import { imageRemoveService } from './image_remove';
import { imageStatusService } from './image_status';
import type { ServiceImpl } from './rpc';

export function imageService(images: Images, containerDir: string): ServiceImpl<ImageServiceHandlers> {
  return {
    ...imageFsInfoService({ imageDir: images.snapshotDir, containerDir }),
    ...imagePullService(images),
    ...imageStatusService(images),
    ...imageRemoveService(images),
  };
}
