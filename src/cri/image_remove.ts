// RemoveImage: by any reference, removes the image with every tag it has; removing an unknown
// image succeeds (the CRI asks for idempotence). Layers containers still use stay until they go.
import type { ImageServiceHandlers } from '../gen/runtime/v1/ImageService';
import { invalidArgument } from '../common/errors';
import type { Images } from '../image';
import type { ServiceImpl } from './rpc';

export function imageRemoveService(images: Images): ServiceImpl<ImageServiceHandlers> {
  return {
    RemoveImage: async (req) => {
      const reference = req.image?.image ?? '';
      if (!reference) throw invalidArgument('Cannot remove an image: the request names no image');
      await images.remove(reference);
      return {};
    },
  };
}
